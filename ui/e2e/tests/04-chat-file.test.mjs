// 4. Chat both ways with delivery state; a 20 MB file arrives byte-identical.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { e2e } from "../lib/harness.mjs";
import { tempDir } from "../lib/env.mjs";
import { byId, click, roomCall } from "../lib/ui.mjs";

/**
 * Waits until an element matching `css` exists and has `attr` = `value`; returns its attributes.
 * @param {import("playwright-core").Page} page
 * @param {string} css
 * @param {Record<string, string>} attrs
 * @param {number} [timeout]
 */
async function waitElement(page, css, attrs, timeout = 20_000) {
  try {
    const h = await page.waitForFunction(
      ({ css, attrs }) => {
        for (const el of document.querySelectorAll(css)) {
          if (Object.entries(attrs).every(([k, v]) => el.getAttribute(k) === v)) {
            return Object.fromEntries([...el.attributes].map((a) => [a.name, a.value]).concat([["text", el.textContent ?? ""]]));
          }
        }
        return false;
      },
      { css, attrs },
      { timeout, polling: 100 },
    );
    return /** @type {Record<string, string>} */ (await h.jsonValue());
  } catch (err) {
    const seen = await page.evaluate(
      (css) => [...document.querySelectorAll(css)].map((el) => el.outerHTML.slice(0, 300)),
      css,
    );
    throw new Error(`no ${css} with ${JSON.stringify(attrs)}; seen: ${JSON.stringify(seen)}: ${err}`);
  }
}

/**
 * Sends a chat line from `from` and checks `to` shows it and `from` sees it delivered.
 * @param {import("playwright-core").Page} from
 * @param {import("playwright-core").Page} to
 * @param {string} text
 */
async function chat(from, to, text) {
  await byId(from, "chat-input").fill(text);
  await click(from, "chat-send");
  await to.waitForFunction(
    (text) => [...document.querySelectorAll('[data-testid="chat-message"][data-from="peer"]')].some((el) => el.textContent?.includes(text)),
    text,
    { timeout: 20_000 },
  );
  await from.waitForFunction(
    (text) =>
      [...document.querySelectorAll('[data-testid="chat-message"][data-from="me"]')].some(
        (el) => el.textContent?.includes(text) && el.getAttribute("data-state") === "delivered",
      ),
    text,
    { timeout: 20_000 },
  );
}

e2e("chat both ways with delivery; a 20 MB file arrives with the same SHA-256", async ({ scope, publicServer, party, url }) => {
  const server = await publicServer();
  const home = url(server.origin, { lang: "en" });
  const [a, b] = await Promise.all([party("A", { url: home }), party("B", { url: home })]);
  await roomCall(a.page, b.page);

  await chat(a.page, b.page, "Hello from A 你好");
  await chat(b.page, a.page, "Hi A, B here ✓");

  const dir = tempDir("file");
  scope.defer(() => dir.remove());
  const size = 20 * 1024 * 1024;
  const data = randomBytes(size);
  const sha256 = createHash("sha256").update(data).digest("hex");
  const path = join(dir.path, "holiday-video.bin");
  writeFileSync(path, data);

  await byId(a.page, "file-input").first().setInputFiles(path);
  const received = await waitElement(
    b.page,
    '[data-testid="file-transfer"][data-direction="receive"]',
    { "data-state": "done" },
    90_000,
  );
  assert.equal(received["data-sha256"], sha256, "receiver verified the same SHA-256");
  assert.equal(Number(received["data-bytes"]), size);
  await waitElement(a.page, '[data-testid="file-transfer"][data-direction="send"]', { "data-state": "done" }, 30_000);

  // The person saves it: the saved bytes are the sent bytes.
  const [download] = await Promise.all([
    b.page.waitForEvent("download", { timeout: 20_000 }),
    click(b.page, "file-save"),
  ]);
  const saved = join(dir.path, "saved.bin");
  await download.saveAs(saved);
  assert.equal(createHash("sha256").update(readFileSync(saved)).digest("hex"), sha256, "saved file is identical");
  assert.equal(download.suggestedFilename(), "holiday-video.bin");
});
