// 6. Hanging up ends the call on both sides; closing a tab ends it for the other person.
import { e2e } from "../lib/harness.mjs";
import { click, roomCall, waitAttr, waitVisible } from "../lib/ui.mjs";

e2e("hang-up ends the call on both sides; closing a tab ends it on the other", async ({ publicServer, party, url }) => {
  const server = await publicServer();
  const home = url(server.origin, { lang: "en" });
  const [a, b] = await Promise.all([party("A", { url: home }), party("B", { url: home })]);

  await roomCall(a.page, b.page);
  await click(a.page, "hangup");
  await Promise.all([waitVisible(a.page, "call-ended"), waitVisible(b.page, "call-ended")]);
  await waitAttr(a.page, "end-reason", "data-reason", "hangup");
  await waitAttr(b.page, "end-reason", "data-reason", ["remote-hangup", "peer-left"]);

  // A fresh call; B's tab closes without a goodbye from the UI.
  await Promise.all([a.page.goto(home), b.page.goto(home)]);
  await roomCall(a.page, b.page);
  await b.page.close();
  await waitVisible(a.page, "call-ended");
  await waitAttr(a.page, "end-reason", "data-reason", ["peer-left", "remote-hangup"]);
});
