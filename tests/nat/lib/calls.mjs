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
 * Stats once the selected candidate pair gives `path` and remote video frames were decoded.
 * ICE may first select a relayed pair that answered sooner and then move to a better one, so
 * this waits for the pair ICE settles on.
 * @param {import("playwright-core").Page} page
 * @param {string} path  "stun" | "relay" | "direct"
 * @param {number} [timeoutMs]
 */
export async function waitPath(page, path, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last = null;
  while (Date.now() < deadline) {
    last = await callStats(page);
    if (last && last.path === path && last.framesDecoded > 0) return last;
    await page.waitForTimeout(100); // poll interval of a condition wait
  }
  throw new Error(`selected pair never gave path=${path} with decoded frames; last stats: ${JSON.stringify(last)}`);
}

/**
 * Watches decoded remote video frames on every page every `everyMs` and resolves once each
 * page's video stalled (no new frame for `stallMs`) and then advanced again: ms from `t0` to the
 * recovery of the slowest page, and each page's stall/recovery times.
 * @param {import("playwright-core").Page[]} pages
 * @param {number} t0
 * @param {{ stallMs?: number, timeoutMs?: number, everyMs?: number }} [opts]
 */
export async function waitStallAndRecovery(pages, t0, opts = {}) {
  return waitStallAndRecoveryOf(pages.map((p) => () => decodedFrames(p)), t0, opts);
}

/**
 * Frames the receiver decoded (stats `framesDecoded` of the remote video).
 * @param {import("playwright-core").Page} page
 */
export async function decodedFrames(page) {
  const s = await callStats(page);
  return s ? s.framesDecoded : -1;
}

/**
 * The remote <video> element's state, for diagnostics.
 * @param {import("playwright-core").Page} page
 */
export function videoElementState(page) {
  return page.evaluate(() => {
    const v = /** @type {HTMLVideoElement | null} */ (document.querySelector('[data-testid="remote-video"]'));
    if (!v) return null;
    const tracks = v.srcObject instanceof MediaStream ? v.srcObject.getTracks().map((t) => `${t.kind}:${t.readyState}:${t.muted ? "muted" : "unmuted"}`) : [];
    return { paused: v.paused, readyState: v.readyState, currentTime: v.currentTime, frames: v.getVideoPlaybackQuality().totalVideoFrames, tracks };
  });
}

/**
 * @param {Array<() => Promise<number>>} counters
 * @param {number} t0
 * @param {{ stallMs?: number, timeoutMs?: number, everyMs?: number }} [opts]
 */
async function waitStallAndRecoveryOf(counters, t0, opts = {}) {
  const pages = counters;
  const stallMs = opts.stallMs ?? 600;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const state = pages.map(() => ({ frames: -1, changedAt: Date.now(), stalledAt: 0, recoveredAt: 0 }));
  while (state.some((s) => !s.recoveredAt)) {
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(`video did not stall and recover within ${timeoutMs} ms: ${JSON.stringify(state)}`);
    }
    const frames = await Promise.all(counters.map((count) => count()));
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
