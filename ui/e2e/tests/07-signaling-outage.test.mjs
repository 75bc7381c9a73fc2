// 7. The signaling server dies mid-call: media keeps flowing, the UI says it is reconnecting,
// and it is back online once a server listens on the same port again.
import assert from "node:assert/strict";
import { e2e } from "../lib/harness.mjs";
import { roomCall, waitAttr, waitFramesAdvance } from "../lib/ui.mjs";

e2e("killing the signaling server does not interrupt media; the UI reconnects", async ({ publicServer, party, url }) => {
  const server = await publicServer();
  const home = url(server.origin, { lang: "en" });
  const [a, b] = await Promise.all([party("A", { url: home }), party("B", { url: home })]);
  await roomCall(a.page, b.page);
  await Promise.all([waitAttr(a.page, "signaling-state", "data-state", "online"), waitAttr(b.page, "signaling-state", "data-state", "online")]);

  await server.stop("SIGKILL");
  await Promise.all([
    waitAttr(a.page, "signaling-state", "data-state", ["reconnecting", "offline"]),
    waitAttr(b.page, "signaling-state", "data-state", ["reconnecting", "offline"]),
  ]);
  // Media is peer-to-peer: frames keep coming while signaling is gone.
  await Promise.all([waitFramesAdvance(a.page, 30), waitFramesAdvance(b.page, 30)]);
  for (const p of [a, b]) {
    assert.equal(await p.page.getAttribute('[data-testid="call-state"]', "data-state"), "connected", `${p.name} still connected`);
  }

  const again = await publicServer({ port: server.port });
  assert.equal(again.port, server.port);
  await Promise.all([
    waitAttr(a.page, "signaling-state", "data-state", "online", 45_000),
    waitAttr(b.page, "signaling-state", "data-state", "online", 45_000),
  ]);
  await Promise.all([waitFramesAdvance(a.page, 10), waitFramesAdvance(b.page, 10)]);
});
