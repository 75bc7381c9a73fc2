// 5. Mute and camera off are what the far side hears and sees; screen share replaces the
// video the far side receives, and stopping it brings the camera back.
import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir } from "../lib/env.mjs";
import { e2e } from "../lib/harness.mjs";
import { writeCameraClip } from "../lib/y4m.mjs";
import {
  callStats, click, remoteBrightness, remoteFrames, remoteRgb, remoteVideoSize, roomCall, waitAttr, waitFramesAdvance,
} from "../lib/ui.mjs";

/** @typedef {import("playwright-core").Page} Page */

/**
 * Polls `sample` until `done(recentSamples)` holds over a sliding window; a condition wait.
 * @template T
 * @param {Page} page
 * @param {() => Promise<T>} sample
 * @param {(window: T[]) => boolean} done
 * @param {string} what
 * @param {{ window?: number, timeout?: number }} [opts]
 */
async function waitWindow(page, sample, done, what, opts = {}) {
  const size = opts.window ?? 8;
  const deadline = Date.now() + (opts.timeout ?? 20_000);
  /** @type {T[]} */
  const seen = [];
  while (Date.now() < deadline) {
    seen.push(await sample());
    if (seen.length > size) seen.shift();
    if (seen.length === size && done(seen)) return seen;
    await page.waitForTimeout(200); // sampling interval of the condition wait
  }
  throw new Error(`never saw ${what}; last samples: ${JSON.stringify(seen)}`);
}

/** Remote audio level as the far side's stats report it (fake mic beeps up to 1.0). */
const audioLevel = async (/** @type {Page} */ page) => (await callStats(page))?.audioLevel ?? -1;

/** The far side hears something within ~1.6 s. */
const hears = (/** @type {Page} */ page) =>
  waitWindow(page, () => audioLevel(page), (w) => Math.max(...w) > 0.1, "remote audio");
/** The far side hears silence for ~1.6 s. */
const silent = (/** @type {Page} */ page) =>
  waitWindow(page, () => audioLevel(page), (w) => w.every((l) => l >= 0 && l < 0.01), "remote silence");

/** Remote picture is on: frames advance and are not black (fake cameras average 55..150). */
async function seesVideo(/** @type {Page} */ page) {
  await waitFramesAdvance(page, 10);
  await waitWindow(page, () => remoteBrightness(page), (w) => w.every((b) => b > 15), "a non-black remote picture", { window: 3 });
}

/** Remote picture is off: hidden, black, or frozen. */
async function seesNoVideo(/** @type {Page} */ page) {
  const sample = () =>
    page.evaluate(() => {
      const v = document.querySelector('[data-testid="remote-video"]');
      const visible = v instanceof HTMLVideoElement && v.checkVisibility() && v.getBoundingClientRect().width > 0;
      return { visible, frames: v instanceof HTMLVideoElement ? v.getVideoPlaybackQuality().totalVideoFrames : -1 };
    }).then(async (s) => ({ ...s, brightness: s.visible ? await remoteBrightness(page) : -1 }));
  await waitWindow(
    page,
    sample,
    (w) =>
      w.every((s) => !s.visible) ||
      w.every((s) => s.brightness >= 0 && s.brightness < 8) ||
      w.every((s) => s.frames === w[0]?.frames),
    "the remote camera turned off (hidden, black or frozen)",
  );
}

e2e("mute, camera off and screen share are reflected on the far side", async ({ scope, publicServer, party, url }) => {
  const server = await publicServer();
  const home = url(server.origin, { lang: "en" });
  // A's camera is a 4:3 orange clip; Chromium's fake screen is a 16:9 green pattern.
  const dir = tempDir("camera");
  scope.defer(() => dir.remove());
  const clip = join(dir.path, "camera.y4m");
  writeCameraClip(clip);
  const [a, b] = await Promise.all([
    party("A", { url: home, args: [`--use-file-for-fake-video-capture=${clip}`] }),
    party("B", { url: home }),
  ]);
  await roomCall(a.page, b.page);
  await Promise.all([hears(a.page), hears(b.page), seesVideo(b.page)]);
  const orange = (/** @type {[number, number, number] | null} */ c) => !!c && c[0] > c[1] + 40;
  assert.ok(orange(await remoteRgb(b.page)), "B sees A's camera clip");

  // Mute A: B hears silence, A still hears B; unmute: B hears A again.
  await click(a.page, "mute");
  await waitAttr(a.page, "mute", "aria-pressed", "true");
  await silent(b.page);
  await hears(a.page);
  await click(a.page, "mute");
  await waitAttr(a.page, "mute", "aria-pressed", "false");
  await hears(b.page);

  // Camera off on A: B's picture of A goes away; A still sees B. On again: it comes back.
  await click(a.page, "camera");
  await waitAttr(a.page, "camera", "aria-pressed", "true");
  await seesNoVideo(b.page);
  await seesVideo(a.page);
  await click(a.page, "camera");
  await waitAttr(a.page, "camera", "aria-pressed", "false");
  await seesVideo(b.page);

  // Screen share: B receives a picture with the screen's shape instead of the camera's.
  const aspect = (/** @type {{width: number, height: number} | null} */ s) => (s && s.height ? s.width / s.height : 0);
  const cameraAspect = aspect(await remoteVideoSize(b.page));
  assert.ok(Math.abs(cameraAspect - 4 / 3) < 0.05, `camera picture is 4:3 (got ${cameraAspect})`);
  const framesBefore = await remoteFrames(b.page);
  await click(a.page, "screen-share");
  await waitAttr(a.page, "screen-share", "aria-pressed", "true");
  await waitWindow(b.page, () => remoteVideoSize(b.page), (w) => w.every((s) => Math.abs(aspect(s) - cameraAspect) > 0.1), "the shared screen's shape", { window: 2 });
  const greenish = (/** @type {[number, number, number] | null} */ c) => !!c && c[1] > c[0] + 40;
  await waitWindow(b.page, () => remoteRgb(b.page), (w) => w.every(greenish), "the shared screen's picture", { window: 2 });
  await waitFramesAdvance(b.page, 10);
  assert.ok((await remoteFrames(b.page)) > framesBefore);
  await click(a.page, "screen-share");
  await waitAttr(a.page, "screen-share", "aria-pressed", "false");
  await waitWindow(b.page, () => remoteVideoSize(b.page), (w) => w.every((s) => Math.abs(aspect(s) - cameraAspect) < 0.05), "the camera's shape again", { window: 2 });
  await waitWindow(b.page, () => remoteRgb(b.page), (w) => w.every(orange), "the camera's picture again", { window: 2 });
  await seesVideo(b.page);
});
