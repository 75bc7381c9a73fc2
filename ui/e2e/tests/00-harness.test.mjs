// The harness itself: the real server serves the built UI, and a browser party has a fake
// camera and microphone. If this fails, every other e2e test would fail for the same reason.
import assert from "node:assert/strict";
import { e2e } from "../lib/harness.mjs";

e2e("harness: parley-server serves the UI to a browser with fake media", async ({ publicServer, party, url }) => {
  const server = await publicServer();
  const a = await party("A", { url: url(server.origin, { lang: "en" }) });
  await a.page.locator("#app *").first().waitFor({ timeout: 20_000 });
  const media = await a.page.evaluate(async () => {
    const s = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const kinds = s.getTracks().map((t) => `${t.kind}:${t.readyState}`);
    s.getTracks().forEach((t) => t.stop());
    return kinds.sort();
  });
  assert.deepEqual(media, ["audio:live", "video:live"]);
});
