/** Reconnect delays: exponential growth with "full jitter", capped. */
export interface BackoffOptions {
  /** Delay ceiling for the first retry, in ms. */
  baseMs: number;
  /** Largest delay ever returned, in ms. */
  maxMs: number;
}

/** Production defaults: first retry within 0.5 s, never waiting more than 10 s. */
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 10_000 };

/**
 * Delay before retry number `attempt` (0-based). Full jitter spreads many clients that lost the
 * same server so they do not all come back in the same instant. `random` returns [0, 1).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 20));
  // Never zero: a floor of a tenth of the base keeps a tight loop from hammering the server.
  const floor = Math.min(ceiling, options.baseMs / 10);
  return Math.round(floor + (ceiling - floor) * random());
}
