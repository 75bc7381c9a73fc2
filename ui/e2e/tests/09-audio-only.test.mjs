// Audio-only calls (?media=audio, the contract's default switch): voice flows both ways and
// no video is sent at all.
import assert from "node:assert/strict";
import { e2e } from "../lib/harness.mjs";
import { remoteAudioTrackState, roomCall, waitStats } from "../lib/ui.mjs";

e2e("audio-only room call: audio flows both ways, no video is sent", async ({ publicServer, party, url }) => {
  const server = await publicServer();
  const home = url(server.origin, { lang: "en", media: "audio" });
  const [a, b] = await Promise.all([party("A", { url: home }), party("B", { url: home })]);
  await roomCall(a.page, b.page);
  for (const p of [a, b]) {
    assert.equal((await remoteAudioTrackState(p.page))?.readyState, "live", `${p.name}: remote audio live`);
    const first = await waitStats(p.page, (s) => s.inboundAudioBytes > 0, "inbound audio");
    const later = await waitStats(p.page, (s) => s.inboundAudioBytes > first.inboundAudioBytes, "inbound audio growing");
    assert.equal(later.inboundVideoBytes, 0, `${p.name}: no video received`);
    const camera = await p.page.evaluate(() => {
      const v = document.querySelector('[data-testid="local-video"]');
      const s = v instanceof HTMLVideoElement ? v.srcObject : null;
      return s instanceof MediaStream ? s.getVideoTracks().filter((t) => t.readyState === "live").length : 0;
    });
    assert.equal(camera, 0, `${p.name}: camera not opened`);
  }
});
