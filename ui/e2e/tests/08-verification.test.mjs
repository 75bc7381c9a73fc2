// 8. Both people see the same short verification code.
import assert from "node:assert/strict";
import { e2e } from "../lib/harness.mjs";
import { roomCall, sel } from "../lib/ui.mjs";

/** @param {import("playwright-core").Page} page */
async function verificationCode(page) {
  const handle = await page.waitForFunction(
    (s) => document.querySelector(s)?.textContent?.trim() || false,
    sel("verification-code"),
    { timeout: 20_000, polling: 100 },
  );
  return /** @type {string} */ (await handle.jsonValue());
}

e2e("verification: both sides show the same code", async ({ publicServer, party, url }) => {
  const server = await publicServer();
  const home = url(server.origin, { lang: "en" });
  const [a, b] = await Promise.all([party("A", { url: home }), party("B", { url: home })]);
  await roomCall(a.page, b.page);
  const [ca, cb] = await Promise.all([verificationCode(a.page), verificationCode(b.page)]);
  assert.match(ca, /[\p{L}\p{N}]/u, "a code is shown");
  assert.equal(ca, cb, "same code on both sides");

  // A second, separate call gets a different code (the fingerprints are fresh per call).
  await Promise.all([a.close(), b.close()]);
  const [c, d] = await Promise.all([party("C", { url: home }), party("D", { url: home })]);
  await roomCall(c.page, d.page);
  const [cc, cd] = await Promise.all([verificationCode(c.page), verificationCode(d.page)]);
  assert.equal(cc, cd);
  assert.notEqual(cc, ca, "another call's code differs");
});
