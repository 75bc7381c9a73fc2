// The native GStreamer engine calls a Chromium running the real UI, through a real
// parley-server: video and audio both ways, chat both ways, a 5 MB file both ways (SHA-256
// equal), the same verification code, and hang-up ending both sides.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../ui/e2e/lib/env.mjs";
import { e2e } from "../../ui/e2e/lib/harness.mjs";
import {
  byId,
  click,
  createRoom,
  joinRoom,
  textOf,
  waitAttr,
  waitConnected,
  waitFramesAdvance,
  waitStats,
  waitVisible,
} from "../../ui/e2e/lib/ui.mjs";
import { startNativePeer } from "./lib/native-peer.mjs";

const FILE_BYTES = 5 * 1024 * 1024;

/** Progress on stderr, so a stuck step is obvious in the log. @param {string} what */
const step = (what) => console.error(`native test: ${what}`);

/**
 * Waits for a UI element matching `css` whose attributes include `attrs`; returns its attributes.
 * @param {import("playwright-core").Page} page
 * @param {string} css
 * @param {Record<string, string>} attrs
 * @param {number} [timeout]
 */
async function waitElement(page, css, attrs, timeout = 60_000) {
  const h = await page.waitForFunction(
    ({ css, attrs }) => {
      for (const el of document.querySelectorAll(css)) {
        if (Object.entries(attrs).every(([k, v]) => el.getAttribute(k) === v)) {
          return Object.fromEntries([...el.attributes].map((a) => [a.name, a.value]));
        }
      }
      return false;
    },
    { css, attrs },
    { timeout, polling: 100 },
  );
  return /** @type {Record<string, string>} */ (await h.jsonValue());
}

/**
 * Waits until the native side has decoded `more` frames beyond what it reports now.
 * @param {import("./lib/native-peer.mjs").NativePeer} native
 * @param {number} more
 */
async function nativeFramesAdvance(native, more) {
  const now = native.reports.filter((r) => r.event === "status").at(-1)?.framesDecoded ?? 0;
  return native.waitFor((r) => r.event === "status" && r.framesDecoded >= now + more, `${more} more decoded frames (from ${now})`);
}

e2e("native engine <-> Chromium UI: media, chat, files, verification, hang-up", async ({ scope, publicServer, party, url }) => {
  const server = await publicServer();
  const browser = await party("chromium", { url: url(server.origin, { lang: "en" }) });
  const page = browser.page;
  const code = await createRoom(page);
  const native = startNativePeer(scope, ["--server", server.wsUrl, "--join", code]);

  await waitConnected(page, 40_000);
  await native.waitFor((r) => r.event === "connection" && r.state === "connected", "connected", 40_000);
  const polite = native.reports.find((r) => r.event === "meet")?.polite;
  step(`native side is ${polite ? "polite (answered the browser's offer)" : "impolite (sent the offer)"}`);

  step('Both sides decode');
  // Both sides decode frames, and the count keeps increasing.
  await waitFramesAdvance(page, 10, 30_000);
  await waitFramesAdvance(page, 10, 30_000);
  await nativeFramesAdvance(native, 10);
  await nativeFramesAdvance(native, 10);
  // Both VP8 and H.264 are on offer; VP8 is the engine's preference.
  assert.equal(native.reports.filter((r) => r.event === "status").at(-1)?.sendCodec, "vp8");

  step('Both sides receive audio');
  // Both sides receive audio: the browser's level meter moves; the native side hears sound.
  await waitStats(page, (s) => s.inboundAudioBytes > 0 && (s.audioLevel ?? 0) > 0, "remote audio", 30_000);
  await native.waitFor((r) => r.event === "status" && r.audioBuffers > 0 && r.audioPeak > 0.01, "remote audio");

  step('The verification codes');
  // The verification codes match.
  const nativeCode = (await native.waitFor((r) => r.event === "verification", "verification code")).code;
  await waitVisible(page, "verification-code");
  await page.waitForFunction((s) => /\d{3} \d{3}/.test(document.querySelector(s)?.textContent ?? ""), '[data-testid="verification-code"]');
  assert.equal(await textOf(page, "verification-code"), nativeCode, "both sides show the same code");

  step('Chat');
  // Chat, browser -> native (with the delivered tick), then native -> browser.
  await byId(page, "chat-input").fill("hello native 你好");
  await click(page, "chat-send");
  await native.waitFor((r) => r.event === "chat" && r.text === "hello native 你好", "the browser's chat line");
  await waitElement(page, '[data-testid="chat-message"][data-from="me"]', { "data-state": "delivered" }, 20_000);
  native.command({ cmd: "chat", text: "hello browser ✓" });
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="chat-message"][data-from="peer"]')].some((el) => el.textContent?.includes("hello browser ✓")),
    undefined,
    { timeout: 20_000 },
  );
  await native.waitFor((r) => r.event === "delivered", "the browser's ack");

  step('file to the native side');
  // A 5 MB file each way, SHA-256 checked on both ends.
  const dir = tempDir("native-file");
  scope.defer(() => dir.remove());
  const toNative = randomBytes(FILE_BYTES);
  const toNativeSha = createHash("sha256").update(toNative).digest("hex");
  writeFileSync(join(dir.path, "to-native.bin"), toNative);
  await byId(page, "file-input").first().setInputFiles(join(dir.path, "to-native.bin"));
  const got = await native.waitFor((r) => r.event === "file-received", "the browser's file", 90_000);
  assert.equal(got.sha256, toNativeSha, "native side received the same bytes");
  assert.equal(got.ok, true);
  assert.equal(got.bytes, FILE_BYTES);
  await waitElement(page, '[data-testid="file-transfer"][data-direction="send"]', { "data-state": "done" });

  step('file to the browser');
  const toBrowser = randomBytes(FILE_BYTES);
  const toBrowserSha = createHash("sha256").update(toBrowser).digest("hex");
  writeFileSync(join(dir.path, "to-browser.bin"), toBrowser);
  native.command({ cmd: "file", path: join(dir.path, "to-browser.bin"), name: "to-browser.bin" });
  const received = await waitElement(page, '[data-testid="file-transfer"][data-direction="receive"]', { "data-state": "done" }, 90_000);
  assert.equal(received["data-sha256"], toBrowserSha, "browser verified the same SHA-256");
  assert.equal(Number(received["data-bytes"]), FILE_BYTES);
  const sent = await native.waitFor((r) => r.event === "file-sent", "the browser's receipt");
  assert.equal(sent.result, "ok");

  step('The browser hangs up');
  // The browser hangs up: the native side ends too.
  await click(page, "hangup");
  await waitVisible(page, "call-ended");
  await native.waitFor((r) => r.event === "ended", "the end of the call", 20_000);
  assert.equal(await native.exited, 0);
}, { timeout: 300_000 });

e2e("native engine hangs up: the browser's call ends", async ({ scope, publicServer, party, url }) => {
  const server = await publicServer();
  const native = startNativePeer(scope, ["--server", server.wsUrl, "--create"]);
  const code = (await native.waitFor((r) => r.event === "created", "a room code")).code;
  const browser = await party("chromium", { url: url(server.origin, { lang: "en" }) });
  await joinRoom(browser.page, code);
  await waitConnected(browser.page, 40_000);
  await waitFramesAdvance(browser.page, 10, 30_000);
  await native.waitFor((r) => r.event === "channel-open" && r.id === 0, "chat channel open");
  native.command({ cmd: "hangup" });
  await waitVisible(browser.page, "call-ended", 20_000);
  const reason = await waitAttr(browser.page, "end-reason", "data-reason", ["remote-hangup", "peer-left"]);
  assert.ok(reason, "the browser says the other side ended the call");
  assert.equal(await native.exited, 0);
}, { timeout: 180_000 });

e2e("native engine without a microphone: video both ways, and it hears the browser", async ({ scope, publicServer, party, url }) => {
  const server = await publicServer();
  const browser = await party("chromium", { url: url(server.origin, { lang: "en" }) });
  const code = await createRoom(browser.page);
  const native = startNativePeer(scope, ["--server", server.wsUrl, "--join", code, "--no-audio"]);
  await waitConnected(browser.page, 40_000);
  await native.waitFor((r) => r.event === "connection" && r.state === "connected", "connected", 40_000);
  const polite = native.reports.find((r) => r.event === "meet")?.polite;
  step(`no microphone: the engine ${polite ? "answered" : "made the offer"}`);
  await waitFramesAdvance(browser.page, 10, 30_000);
  await waitFramesAdvance(browser.page, 10, 30_000);
  await nativeFramesAdvance(native, 10);
  await nativeFramesAdvance(native, 10);
  // The browser's microphone reaches the engine over its receive-only audio transceiver.
  await native.waitFor((r) => r.event === "status" && r.audioBuffers > 0 && r.audioPeak > 0.01, "remote audio");
}, { timeout: 180_000 });
