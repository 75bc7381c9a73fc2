// 1. Room call by code: both people see the other's video moving and get live audio.
import assert from "node:assert/strict";
import { e2e } from "../lib/harness.mjs";
import { createRoom, joinRoom, remoteAudioTrackState, waitConnected, waitFramesAdvance, waitStats } from "../lib/ui.mjs";

e2e("room call: A creates a room, B joins by code, video and audio flow both ways", async ({ publicServer, party, url }) => {
  const server = await publicServer();
  const home = url(server.origin, { lang: "en" });
  const [a, b] = await Promise.all([party("A", { url: home }), party("B", { url: home })]);

  const code = await createRoom(a.page);
  await joinRoom(b.page, code);
  await Promise.all([waitConnected(a.page), waitConnected(b.page)]);

  // Decoded remote frames keep increasing on both sides (sampled twice each).
  for (let round = 0; round < 2; round++) {
    await Promise.all([waitFramesAdvance(a.page, 15), waitFramesAdvance(b.page, 15)]);
  }

  for (const p of [a, b]) {
    const audio = await remoteAudioTrackState(p.page);
    assert.equal(audio?.readyState, "live", `${p.name}: remote audio track is live`);
    // Inbound audio bytes grow between two samples.
    const first = await waitStats(p.page, (s) => s.inboundAudioBytes > 0, "inbound audio bytes");
    await waitStats(p.page, (s) => s.inboundAudioBytes > first.inboundAudioBytes, "inbound audio bytes growing");
  }
});
