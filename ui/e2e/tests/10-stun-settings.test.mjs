// STUN servers in settings (issue 7): a first start shows the public default, the person edits
// it, and the next room call uses the server's own STUN from `welcome` first, then the edited
// list. No call here is ever given the public default (the harness checks every party).
import assert from "node:assert/strict";
import { e2e } from "../lib/harness.mjs";
import { byId, click, createRoom, joinRoom, pcConfigs, waitConnected, waitFramesAdvance, waitGone, waitVisible } from "../lib/ui.mjs";

const DEFAULT_STUN = "stun:stun.l.google.com:19302, stun:stun.cloudflare.com:3478";
// Loopback ports nobody listens on: STUN there fails at once, the call goes on host candidates.
const SERVER_STUN = "stun:127.0.0.1:9";
const MY_STUN = "stun:127.0.0.2:9";

e2e("settings: STUN starts at the public default, is editable, and comes after welcome's", async ({ publicServer, party, url }) => {
  const server = await publicServer({ extraArgs: ["--stun", SERVER_STUN] });
  // A has no ?stun= override: it uses what settings say, like a real visitor.
  const [a, b] = await Promise.all([
    party("A", { url: url(server.origin, { lang: "en", stun: undefined }) }),
    party("B", { url: url(server.origin, { lang: "en" }) }),
  ]);

  await click(a.page, "settings-open");
  await waitVisible(a.page, "settings");
  assert.equal(await byId(a.page, "settings-stun").inputValue(), DEFAULT_STUN, "a first start shows the public default");
  // A malformed entry is refused with a message naming it (a browser would fail the whole call).
  await byId(a.page, "settings-stun").fill(`${MY_STUN}, stun:not a host`);
  await click(a.page, "settings-save");
  await waitVisible(a.page, "settings-stun-error");
  assert.match((await byId(a.page, "settings-stun-error").textContent()) ?? "", /stun:not a host/);
  await byId(a.page, "settings-stun").fill(MY_STUN);
  await click(a.page, "settings-save");
  await waitGone(a.page, "settings");

  // The edit survives a reload (it is stored, not just held by the dialog).
  await a.page.reload();
  await click(a.page, "settings-open");
  assert.equal(await byId(a.page, "settings-stun").inputValue(), MY_STUN);
  await click(a.page, "settings-close");
  await waitGone(a.page, "settings");

  const code = await createRoom(a.page);
  await joinRoom(b.page, code);
  await Promise.all([waitConnected(a.page), waitConnected(b.page)]);
  await Promise.all([waitFramesAdvance(a.page, 10), waitFramesAdvance(b.page, 10)]);

  const [configA] = await pcConfigs(a.page);
  assert.deepEqual(configA?.iceServers, [{ urls: [SERVER_STUN] }, { urls: [MY_STUN] }], "welcome's STUN first, then the edited setting");
  const [configB] = await pcConfigs(b.page);
  assert.deepEqual(configB?.iceServers, [{ urls: [SERVER_STUN] }], "?stun= (empty) leaves only welcome's");
});
