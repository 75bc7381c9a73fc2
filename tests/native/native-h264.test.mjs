// H.264 between the native engine and Chromium running the real UI, through a real
// parley-server. Forced on the native side (it offers and accepts only H.264): both sides send
// H.264 and decode a frame count that keeps rising. Forced on Chromium's side
// (setCodecPreferences) against the engine's default (VP8 preferred, H.264 accepted): the
// engine sends H.264 and Chromium decodes it. setCodecPreferences only shapes what Chromium
// receives (when the engine made the offer, Chromium would still send the offer's first codec,
// VP8, outside its own answer), so that Chromium also picks H.264 for sending with
// RTCRtpSender.setParameters.
import assert from "node:assert/strict";
import { e2e } from "../../ui/e2e/lib/harness.mjs";
import { createRoom, waitConnected, waitFramesAdvance } from "../../ui/e2e/lib/ui.mjs";
import { startNativePeer } from "./lib/native-peer.mjs";

/**
 * Keeps the page's peer connections reachable for getStats(); with `forceH264`, limits every
 * video transceiver to H.264 (constrained baseline, packetization-mode 1) before each local
 * description, so Chromium's offers and answers carry nothing else.
 * @param {boolean} forceH264
 */
const pageScript = (forceH264) => `(() => {
  const P = window.RTCPeerConnection; if (!P) return;
  window.__h264Pcs = [];
  const force = ${forceH264};
  const restrict = (pc) => {
    const h264 = RTCRtpReceiver.getCapabilities("video").codecs.filter((c) =>
      c.mimeType === "video/H264" && /packetization-mode=1/.test(c.sdpFmtpLine ?? "") && /profile-level-id=42e01f/.test(c.sdpFmtpLine ?? ""));
    for (const t of pc.getTransceivers()) {
      if (t.receiver.track.kind === "video" && !t.stopped) t.setCodecPreferences(h264);
    }
  };
  window.RTCPeerConnection = class extends P {
    constructor(...a) { super(...a); window.__h264Pcs.push(this); }
    setLocalDescription(...a) { if (force) restrict(this); return super.setLocalDescription(...a); }
    createOffer(...a) { if (force) restrict(this); return super.createOffer(...a); }
    createAnswer(...a) { if (force) restrict(this); return super.createAnswer(...a); }
  };
})();`;

/**
 * Makes Chromium's video senders use H.264 (RTCRtpEncodingParameters.codec).
 * @param {import("playwright-core").Page} page
 */
function sendH264(page) {
  return page.evaluate(async () => {
    for (const pc of /** @type {any} */ (window).__h264Pcs ?? []) {
      for (const sender of pc.getSenders()) {
        if (sender.track?.kind !== "video") continue;
        const params = sender.getParameters();
        const codec = params.codecs.find((c) => c.mimeType === "video/H264" && /packetization-mode=1/.test(c.sdpFmtpLine ?? ""));
        if (!codec || !params.encodings.length) throw new Error(`no H.264 among ${JSON.stringify(params.codecs)}`);
        params.encodings[0].codec = codec;
        await sender.setParameters(params);
      }
    }
  });
}

/**
 * The codecs of the page's connected video streams and its decoded frame count.
 * @param {import("playwright-core").Page} page
 */
function videoCodecs(page) {
  return page.evaluate(async () => {
    const out = { inbound: "", outbound: "", framesDecoded: 0 };
    for (const pc of /** @type {any} */ (window).__h264Pcs ?? []) {
      if (pc.connectionState !== "connected") continue;
      const stats = await pc.getStats();
      const mime = (r) => stats.get(r.codecId)?.mimeType ?? "";
      for (const r of stats.values()) {
        if (r.kind !== "video") continue;
        if (r.type === "inbound-rtp") Object.assign(out, { inbound: mime(r), framesDecoded: r.framesDecoded ?? 0 });
        if (r.type === "outbound-rtp" && (r.framesEncoded ?? 0) > 0) out.outbound = mime(r);
      }
    }
    return out;
  });
}

/**
 * Runs one call and checks H.264 flows both ways.
 * @param {import("../../ui/e2e/lib/harness.mjs").E2E} e
 * @param {{ nativeCodecs?: string, chromiumForcesH264: boolean }} how
 */
async function h264Call({ scope, publicServer, party, url }, how) {
  const server = await publicServer();
  const browser = await party("chromium", { url: url(server.origin, { lang: "en" }) });
  await browser.context.addInitScript({ content: pageScript(how.chromiumForcesH264) });
  await browser.page.reload();
  const code = await createRoom(browser.page);
  const flags = how.nativeCodecs ? ["--video-codecs", how.nativeCodecs] : [];
  const native = startNativePeer(scope, ["--server", server.wsUrl, "--join", code, "--no-processing", ...flags]);
  await waitConnected(browser.page, 40_000);
  await native.waitFor((r) => r.event === "connection" && r.state === "connected", "connected", 40_000);
  if (how.chromiumForcesH264) await sendH264(browser.page);

  // Chromium decodes the engine's H.264, and the count keeps rising.
  await waitFramesAdvance(browser.page, 10, 30_000);
  await waitFramesAdvance(browser.page, 10, 30_000);
  // Chromium applies a sender's new codec a moment after setParameters: wait for it.
  let seen = await videoCodecs(browser.page);
  for (const deadline = Date.now() + 10_000; seen.outbound !== "video/H264" && Date.now() < deadline; ) {
    await browser.page.waitForTimeout(200); // poll interval of a condition wait
    seen = await videoCodecs(browser.page);
  }
  assert.equal(seen.inbound, "video/H264", "Chromium receives H.264 from the engine");
  assert.equal(seen.outbound, "video/H264", "Chromium sends H.264 to the engine");
  assert.ok(seen.framesDecoded > 0, "Chromium's decoder counts H.264 frames");
  const polite = native.reports.find((r) => r.event === "meet")?.polite;
  console.error(`native h264 test: the engine ${polite ? "answered Chromium's offer" : "made the offer"}`);

  // The engine decodes Chromium's H.264, and the count keeps rising; it sends H.264 too.
  const status = () => native.reports.filter((r) => r.event === "status").at(-1);
  const from = status()?.framesDecoded ?? 0;
  const later = await native.waitFor((r) => r.event === "status" && r.framesDecoded >= from + 10, "10 more decoded frames");
  await native.waitFor((r) => r.event === "status" && r.framesDecoded >= later.framesDecoded + 10, "10 more decoded frames again");
  assert.equal(status()?.sendCodec, "h264", "the engine sends H.264");
  assert.ok(status()?.framesEncoded > 0, "the engine encodes frames");
}

e2e("native engine offers only H.264: both sides send and decode H.264", (e) => h264Call(e, { nativeCodecs: "h264", chromiumForcesH264: false }), { timeout: 180_000 });

e2e("Chromium insists on H.264: the engine (VP8 preferred) accepts and sends H.264", (e) => h264Call(e, { chromiumForcesH264: true }), { timeout: 180_000 });
