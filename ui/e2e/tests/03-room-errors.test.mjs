// 3. A third person sees "room full"; a mistyped code shows "no such room"; a malformed code
// is caught before anything is sent.
import assert from "node:assert/strict";
import { e2e } from "../lib/harness.mjs";
import { byId, createRoom, joinRoom, waitAttr, waitConnected, waitVisible } from "../lib/ui.mjs";

e2e("room errors: third joiner sees room-full, wrong code sees no-such-room", async ({ publicServer, party, url }) => {
  const server = await publicServer();
  const home = url(server.origin, { lang: "en" });
  const [a, b, c] = await Promise.all([
    party("A", { url: home }),
    party("B", { url: home }),
    party("C", { url: home }),
  ]);

  const code = await createRoom(a.page);
  await joinRoom(b.page, code);
  await Promise.all([waitConnected(a.page), waitConnected(b.page)]);

  await joinRoom(c.page, code);
  await waitAttr(c.page, "error-banner", "data-code", "room-full");
  assert.ok((await byId(c.page, "error-banner").first().innerText()).trim().length > 0, "room-full says what to do");
  assert.equal(await byId(c.page, "in-call").count(), 0, "C is not in the call");

  // A well-formed code that no room has (a different code from the live one).
  const wrong = code === "ZZZZ-ZZZZ" ? "YYYY-YYYY" : "ZZZZ-ZZZZ";
  await c.page.goto(home);
  await joinRoom(c.page, wrong);
  await waitAttr(c.page, "error-banner", "data-code", "no-such-room");

  // Malformed input is validated inline.
  await c.page.goto(home);
  await byId(c.page, "join-code").fill("AB!");
  await byId(c.page, "join").first().click({ timeout: 2_000 }).catch(() => {}); // may be disabled: fine
  await waitVisible(c.page, "join-error");

  // The call between A and B was not disturbed.
  await waitAttr(a.page, "call-state", "data-state", "connected");
  await waitAttr(b.page, "call-state", "data-state", "connected");
});
