// 2. Device call (LAN doorbell): B opens A's device page and knocks; A declines, B cancels,
// then A accepts and the call runs host-to-host with no ICE servers at all.
import assert from "node:assert/strict";
import { e2e } from "../lib/harness.mjs";
import {
  byId, click, pcConfigs, waitAttr, waitConnected, waitFramesAdvance, waitGone, waitStats, waitVisible,
} from "../lib/ui.mjs";
import { hasBinary } from "../lib/env.mjs";

const DEVICE_NAME = "Kitchen Laptop 厨房";

e2e("device call: knock, decline, cancel, accept; direct host-to-host with zero ICE servers", async ({ t, deviceServer, party, url }) => {
  if (!hasBinary("parley-node")) {
    t.skip("parley-node is not built");
    return;
  }
  const server = await deviceServer({ name: DEVICE_NAME });
  assert.ok(server.ownerToken);
  const ownerUrl = url(server.origin, { lang: "en" }, `owner=${server.ownerToken}`);
  const visitorUrl = url(server.origin, { lang: "en" });
  const [a, b] = await Promise.all([party("A-owner", { url: ownerUrl }), party("B-visitor", { url: visitorUrl })]);

  // The owner is online (its doorbell can ring); the visitor sees whom they are about to call.
  await waitAttr(a.page, "signaling-state", "data-state", "online");
  await waitVisible(b.page, "knock");
  assert.match(await byId(b.page, "knock").first().innerText(), new RegExp(DEVICE_NAME));

  // Decline: the owner refuses, the caller is told.
  await click(b.page, "knock");
  await waitVisible(b.page, "outgoing-call");
  await waitVisible(a.page, "incoming-call");
  assert.ok((await byId(a.page, "incoming-name").first().innerText()).trim().length > 0, "caller's name shown");
  await click(a.page, "decline");
  await waitVisible(b.page, "call-ended");
  await waitAttr(b.page, "end-reason", "data-reason", "declined");
  await waitGone(a.page, "incoming-call");

  // Cancel: the caller gives up while it rings; the owner's ringing stops.
  await b.page.goto(visitorUrl);
  await click(b.page, "knock");
  await waitVisible(a.page, "incoming-call");
  await click(b.page, "cancel");
  await waitGone(a.page, "incoming-call");
  await waitGone(b.page, "outgoing-call");
  if (await byId(b.page, "call-ended").isVisible()) {
    await waitAttr(b.page, "end-reason", "data-reason", "cancelled");
  }

  // Accept: a direct call.
  await b.page.goto(visitorUrl);
  await click(b.page, "knock");
  await waitVisible(a.page, "incoming-call");
  await click(a.page, "accept");
  await Promise.all([waitConnected(a.page), waitConnected(b.page)]);
  await Promise.all([waitFramesAdvance(a.page, 10), waitFramesAdvance(b.page, 10)]);

  for (const p of [a, b]) {
    const configs = await pcConfigs(p.page);
    assert.ok(configs.length > 0, `${p.name} made a peer connection`);
    for (const c of configs) assert.deepEqual(c.iceServers, [], `${p.name}: no ICE servers on a LAN call`);
    const stats = await waitStats(p.page, (s) => s.localCandidateType && s.remoteCandidateType, "a selected pair");
    assert.equal(stats.localCandidateType, "host", `${p.name}: local candidate is host`);
    assert.equal(stats.remoteCandidateType, "host", `${p.name}: remote candidate is host`);
    assert.equal(stats.path, "direct", `${p.name}: path shown as direct`);
  }
  // What the person sees in the quality panel.
  await click(b.page, "stats-open");
  await waitAttr(b.page, "stats-path", "data-path", "direct");
});
