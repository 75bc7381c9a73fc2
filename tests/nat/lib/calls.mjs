// Calls across the lab, read through the UI contract (data-testid, window.parley.stats()).
import { callStats, createRoom, joinRoom, remoteFrames, waitConnected } from "../../../ui/e2e/lib/ui.mjs";

export { callStats, remoteFrames };

/** Generous waits: two Chromiums with fake video on a shared 2-core machine. */
export const WAIT_MS = 30_000;

/**
 * A creates a room, B joins by its code; resolves with the ms from B's "Join" to both connected.
 * @param {{ page: import("playwright-core").Page }} a
 * @param {{ page: import("playwright-core").Page }} b
 */
export async function roomCall(a, b) {
  const code = await createRoom(a.page);
  const t0 = Date.now();
  await joinRoom(b.page, code);
  await Promise.all([waitConnected(a.page, WAIT_MS), waitConnected(b.page, WAIT_MS)]);
  return { code, setupMs: Date.now() - t0 };
}

/**
 * Stats once a candidate pair is selected and remote video frames were decoded.
 * @param {import("playwright-core").Page} page
 * @param {number} [timeoutMs]
 */
export async function selectedPath(page, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last = null;
  while (Date.now() < deadline) {
    last = await callStats(page);
    if (last && last.path !== "unknown" && last.framesDecoded > 0) return last;
    await page.waitForTimeout(100); // poll interval of a condition wait
  }
  throw new Error(`no selected pair with decoded frames; last stats: ${JSON.stringify(last)}`);
}

/**
 * Watches remote frames on every page every `everyMs` and resolves once each page's video
 * stalled (no new frame for `stallMs`) and then advanced again: ms from `t0` to the
 * recovery of the slowest page, and each page's stall/recovery times.
 * @param {import("playwright-core").Page[]} pages
 * @param {number} t0
 * @param {{ stallMs?: number, timeoutMs?: number, everyMs?: number }} [opts]
 */
export async function waitStallAndRecovery(pages, t0, opts = {}) {
  const stallMs = opts.stallMs ?? 600;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const state = pages.map(() => ({ frames: -1, changedAt: Date.now(), stalledAt: 0, recoveredAt: 0 }));
  while (state.some((s) => !s.recoveredAt)) {
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(`video did not stall and recover within ${timeoutMs} ms: ${JSON.stringify(state)}`);
    }
    const frames = await Promise.all(pages.map((p) => remoteFrames(p)));
    const now = Date.now();
    frames.forEach((f, i) => {
      const s = state[i];
      if (f !== s.frames) {
        if (s.stalledAt && !s.recoveredAt && s.frames >= 0) s.recoveredAt = now;
        s.frames = f;
        s.changedAt = now;
      } else if (!s.stalledAt && now - s.changedAt >= stallMs) {
        s.stalledAt = s.changedAt;
      }
    });
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 50)); // sampling period
  }
  return {
    recoveryMs: Math.max(...state.map((s) => s.recoveredAt)) - t0,
    pages: state.map((s) => ({ stalledAfterMs: s.stalledAt - t0, recoveredAfterMs: s.recoveredAt - t0 })),
  };
}
