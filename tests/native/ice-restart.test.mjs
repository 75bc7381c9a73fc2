// ICE restart with the native GStreamer engine on either side of it, against Chromium running the
// real UI through a real parley-server. webrtcbin 1.22 has no ICE restart of its own (it reuses
// its first credentials); the engine adds it (src-tauri/crates/media-gst/src/ice.rs). A restart
// is real when the restarting description carries new ice-ufrag/ice-pwd on every m-line, the
// other side adopts them (Chromium's remote description, its transport's credentials and
// selected pair change), the call comes back to connected, frames keep increasing both ways and
// chat still works.
import assert from "node:assert/strict";
import { e2e } from "../../ui/e2e/lib/harness.mjs";
import { createRoom, waitConnected, waitFramesAdvance } from "../../ui/e2e/lib/ui.mjs";
import { startNativePeer } from "./lib/native-peer.mjs";

/** Progress on stderr, so a stuck step is obvious in the log. @param {string} what */
const step = (what) => console.error(`ice-restart test: ${what}`);

/**
 * `a=ice-ufrag`/`a=ice-pwd` of every m-section.
 * @param {string} sdp
 * @returns {Array<{ ufrag: string | undefined, pwd: string | undefined }>}
 */
function credentials(sdp) {
  return sdp
    .split(/\r?\n(?=m=)/)
    .slice(1)
    .map((section) => ({
      ufrag: /^a=ice-ufrag:(.+)$/m.exec(section)?.[1]?.trim(),
      pwd: /^a=ice-pwd:(.+)$/m.exec(section)?.[1]?.trim(),
    }));
}

/**
 * Asserts every m-section of `after` has credentials, all different from `before`'s.
 * @param {string} before
 * @param {string} after
 * @param {string} what
 */
function assertFreshCredentials(before, after, what) {
  const old = credentials(before);
  const now = credentials(after);
  assert.ok(now.length >= 3, `${what}: audio, video and data m-lines (${now.length})`);
  const oldUfrags = new Set(old.map((c) => c.ufrag));
  const oldPwds = new Set(old.map((c) => c.pwd));
  for (const [i, c] of now.entries()) {
    assert.ok(c.ufrag && c.pwd, `${what}: m-line ${i} has ice-ufrag and ice-pwd`);
    assert.ok(!oldUfrags.has(c.ufrag), `${what}: m-line ${i} ufrag ${c.ufrag} is new (was ${[...oldUfrags]})`);
    assert.ok(!oldPwds.has(c.pwd), `${what}: m-line ${i} ice-pwd is new`);
  }
}

/**
 * Keeps the page's RTCPeerConnections reachable (`window.__restartPcs`); the UI creates its
 * connection when the call starts, after this runs.
 * @param {import("playwright-core").Page} page
 */
async function observePeerConnections(page) {
  await page.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__restartPcs = [];
    const Base = w.RTCPeerConnection;
    w.RTCPeerConnection = class extends Base {
      /** @param {any[]} args */
      constructor(...args) {
        super(...args);
        w.__restartPcs.push(this);
      }
    };
  });
}

/**
 * Chromium's view of ICE: the remote description's first ufrag, the transport's credentials
 * and state, and the selected pair.
 * @param {import("playwright-core").Page} page
 */
function chromiumIce(page) {
  return page.evaluate(async () => {
    const pc = /** @type {RTCPeerConnection} */ (/** @type {any} */ (window).__restartPcs.at(-1));
    const stats = [...(await pc.getStats()).values()];
    const transport = stats.find((s) => s.type === "transport" && s.selectedCandidatePairId);
    return {
      remoteUfrag: /a=ice-ufrag:(\S+)/.exec(pc.remoteDescription?.sdp ?? "")?.[1],
      localUfrag: /a=ice-ufrag:(\S+)/.exec(pc.localDescription?.sdp ?? "")?.[1],
      signaling: pc.signalingState,
      ice: pc.iceConnectionState,
      connection: pc.connectionState,
      transportLocalUfrag: transport?.iceLocalUsernameFragment,
      transportState: transport?.iceState,
      selectedPair: transport?.selectedCandidatePairId,
    };
  });
}

/**
 * Waits until Chromium's ICE view satisfies `pred` (polling its state; no fixed sleeps).
 * @param {import("playwright-core").Page} page
 * @param {(s: Awaited<ReturnType<typeof chromiumIce>>) => boolean} pred
 * @param {string} what
 * @param {number} [timeout]
 */
async function waitChromiumIce(page, pred, what, timeout = 30_000) {
  const until = Date.now() + timeout;
  let last;
  for (;;) {
    last = await chromiumIce(page);
    if (pred(last)) return last;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; Chromium: ${JSON.stringify(last)}`);
    await page.waitForTimeout(200); // polling interval of a condition wait, not synchronisation
  }
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

/**
 * Chat both ways still works.
 * @param {import("playwright-core").Page} page
 * @param {import("./lib/native-peer.mjs").NativePeer} native
 * @param {string} tag
 */
async function chatBothWays(page, native, tag) {
  await page.getByTestId("chat-input").fill(`to native ${tag}`);
  await page.getByTestId("chat-send").click();
  await native.waitFor((r) => r.event === "chat" && r.text === `to native ${tag}`, `chat ${tag} to native`);
  native.command({ cmd: "chat", text: `to browser ${tag}` });
  await page.waitForFunction(
    (text) => [...document.querySelectorAll('[data-testid="chat-message"][data-from="peer"]')].some((el) => el.textContent?.includes(text)),
    `to browser ${tag}`,
    { timeout: 20_000 },
  );
}

e2e("ICE restart: the native engine offers one, then answers Chromium's", async ({ scope, publicServer, party, url }) => {
  const server = await publicServer();
  const browser = await party("chromium", { url: url(server.origin, { lang: "en" }) });
  const page = browser.page;
  await observePeerConnections(page);
  const code = await createRoom(page);
  const native = startNativePeer(scope, ["--server", server.wsUrl, "--join", code]);

  await waitConnected(page, 40_000);
  await native.waitFor((r) => r.event === "connection" && r.state === "connected", "connected", 40_000);
  await waitFramesAdvance(page, 10, 30_000);
  await nativeFramesAdvance(native, 10);
  await native.waitFor((r) => r.event === "channel-open" && r.id === 0, "chat channel open");
  const polite = native.reports.find((r) => r.event === "meet")?.polite;
  step(`native side is ${polite ? "polite (answered first: DTLS client)" : "impolite (offered first: DTLS server)"}`);
  const first = await waitChromiumIce(page, (s) => s.connection === "connected" && !!s.selectedPair, "Chromium connected");
  step(`before: ${JSON.stringify(first)}`);
  const nativeLocalBefore = native.reports.filter((r) => r.event === "local-description").at(-1);
  assert.ok(nativeLocalBefore, "the native side reported its description");

  step("the native side offers an ICE restart");
  const sentBefore = native.reports.length;
  native.command({ cmd: "restart-ice" });
  const restartOffer = await native.waitFor(
    (r) => native.reports.indexOf(r) >= sentBefore && r.event === "local-description" && r.type === "offer",
    "the native restart offer",
  );
  assertFreshCredentials(nativeLocalBefore.sdp, restartOffer.sdp, "native restart offer");
  const offered = credentials(restartOffer.sdp)[0].ufrag;
  assert.equal(new Set(credentials(restartOffer.sdp).map((c) => c.ufrag)).size, 1, "one bundle, one ufrag");
  const chromiumAnswer = await native.waitFor(
    (r) => native.reports.indexOf(r) >= sentBefore && r.event === "remote-description" && r.type === "answer",
    "Chromium's answer",
  );
  assert.ok(credentials(chromiumAnswer.sdp).every((c) => c.ufrag && c.ufrag !== first.localUfrag), "Chromium answers with new credentials");
  const afterNative = await waitChromiumIce(
    page,
    (s) => s.remoteUfrag === offered && s.signaling === "stable" && s.connection === "connected" && !!s.selectedPair && s.selectedPair !== first.selectedPair,
    "Chromium on the new generation (new remote ufrag, new selected pair, connected)",
  );
  step(`after the native restart: ${JSON.stringify(afterNative)}`);
  await native.waitFor(
    (r) => native.reports.indexOf(r) > native.reports.indexOf(restartOffer) && r.event === "connection" && r.state === "connected",
    "native side connected again after its restart",
  );
  if (first.transportLocalUfrag !== undefined) {
    assert.notEqual(afterNative.transportLocalUfrag, first.transportLocalUfrag, "Chromium's transport uses new local credentials");
  }
  await waitFramesAdvance(page, 30, 30_000);
  await nativeFramesAdvance(native, 30);
  await chatBothWays(page, native, "after native restart");
  assert.ok(!native.reports.some((r) => r.event === "negotiation-error"), "no negotiation error on the native side");

  step("Chromium offers an ICE restart, the native side answers");
  const beforeChromium = native.reports.length;
  const nativeAnswerBefore = native.reports.filter((r) => r.event === "local-description").at(-1);
  await page.evaluate(() => /** @type {any} */ (window).__restartPcs.at(-1).restartIce());
  const chromiumOffer = await native.waitFor(
    (r) => native.reports.indexOf(r) >= beforeChromium && r.event === "remote-description" && r.type === "offer",
    "Chromium's restart offer",
  );
  assertFreshCredentials(chromiumAnswer.sdp, chromiumOffer.sdp, "Chromium's restart offer");
  const nativeAnswer = await native.waitFor(
    (r) => native.reports.indexOf(r) >= beforeChromium && r.event === "local-description" && r.type === "answer",
    "the native answer",
  );
  assertFreshCredentials(nativeAnswerBefore.sdp, nativeAnswer.sdp, "native answer to a restart");
  const answered = credentials(nativeAnswer.sdp)[0].ufrag;
  const afterChromium = await waitChromiumIce(
    page,
    (s) => s.remoteUfrag === answered && s.signaling === "stable" && s.connection === "connected" && !!s.selectedPair && s.selectedPair !== afterNative.selectedPair,
    "Chromium on the answered generation",
  );
  step(`after Chromium's restart: ${JSON.stringify(afterChromium)}`);
  await native.waitFor(
    (r) => native.reports.indexOf(r) > native.reports.indexOf(nativeAnswer) && r.event === "connection" && r.state === "connected",
    "native side connected again after Chromium's restart",
  );
  await waitFramesAdvance(page, 30, 30_000);
  await nativeFramesAdvance(native, 30);
  await chatBothWays(page, native, "after browser restart");

  assert.ok(!native.reports.some((r) => r.event === "negotiation-error"), "no negotiation error on the native side");
  native.command({ cmd: "hangup" });
  assert.equal(await native.exited, 0);
}, { timeout: 240_000 });
