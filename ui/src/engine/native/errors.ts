/**
 * Failures of the app's native engine, in the terms of the error banner: the Rust side sends a
 * stable `code` (src-tauri/src/native_engine.rs) and a `detail` (the package to install, the
 * device), both for a refused command and for a failure while the call runs.
 */

/** What the engine reports. */
export interface NativeFailure {
  code: string;
  message: string;
  detail?: string;
}

/**
 * Codes the person can act on, each with banner text (`error.<code>` in the i18n files). Other
 * codes (a bad description, a closed connection) are negotiation bugs, not advice: the call's
 * own state shows them.
 */
const BANNER_CODES = new Set(["missing-plugin", "engine-unavailable", "no-device", "device-busy", "media-failed"]);

/** The banner code for a failure, or null when it is not the person's to fix. */
export function bannerCode(code: string): string | null {
  return BANNER_CODES.has(code) ? code : null;
}

/** Reads what a rejected `invoke` carried (the serialized `NativeError`, or a bare string). */
export function asNativeFailure(err: unknown): NativeFailure {
  if (typeof err === "object" && err !== null) {
    const e = err as Record<string, unknown>;
    if (typeof e.code === "string") {
      return {
        code: e.code,
        message: typeof e.message === "string" ? e.message : e.code,
        ...(typeof e.detail === "string" ? { detail: e.detail } : {}),
      };
    }
    if (err instanceof Error) return { code: "media-failed", message: err.message };
  }
  return { code: "media-failed", message: String(err) };
}

type Listener = (failure: NativeFailure) => void;
const listeners = new Set<Listener>();
/** A failure reported before anyone listened (the start-up check runs before the UI mounts). */
let unheard: NativeFailure | null = null;

/** Hears every native engine failure worth a banner; returns the unsubscribe function. */
export function onNativeEngineError(listener: Listener): () => void {
  listeners.add(listener);
  if (unheard) {
    const f = unheard;
    unheard = null;
    listener(f);
  }
  return () => listeners.delete(listener);
}

/** Tells the listeners, if the failure is one the person can act on. */
export function reportNativeFailure(failure: NativeFailure): void {
  console.warn(`parley: native engine ${failure.code}: ${failure.message}`);
  const code = bannerCode(failure.code);
  if (!code) return;
  if (listeners.size === 0) unheard = { ...failure, code };
  for (const l of listeners) l({ ...failure, code });
}
