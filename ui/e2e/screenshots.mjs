#!/usr/bin/env node
// Captures every screen of the UI, in English and Chinese, at desktop and phone width, into
// docs/screenshots/<lang>-<viewport>/NN-<screen>.png. One command, after `make build`:
//
//   node ui/e2e/screenshots.mjs [--lang en,zh-CN] [--viewport desktop,phone]
//
// It drives real calls (parley-server, parley-node, Chromium with fake camera) to reach each
// screen. A screen the UI cannot reach is listed at the end and makes the exit status 1.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { launchParty, uiUrl, VIEWPORTS } from "./lib/browser.mjs";
import { hasBinary, repoRoot } from "./lib/env.mjs";
import { Scope } from "./lib/scope.mjs";
import { startDeviceServer, startPublicServer } from "./lib/server.mjs";
import {
  byId, click, createRoom, joinRoom, waitAttr, waitConnected, waitFramesAdvance, waitVisible,
} from "./lib/ui.mjs";

const { values } = parseArgs({
  options: {
    lang: { type: "string", default: "en,zh-CN" },
    viewport: { type: "string", default: "desktop,phone" },
    out: { type: "string", default: join(repoRoot, "docs/screenshots") },
  },
});

/** @type {string[]} */
const missing = [];
/** @type {string[]} */
const retried = [];

/**
 * @param {string} dir
 * @param {import("playwright-core").Page} page
 * @param {string} name
 * @param {() => Promise<unknown>} reach  gets the page to the screen
 */
async function shot(dir, page, name, reach) {
  try {
    await reach();
    // Let fonts and the first video frames settle before the picture is taken.
    await page.evaluate(() => document.fonts.ready);
    await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true, animations: "disabled" });
    console.log(`  ${name}`);
  } catch (err) {
    missing.push(`${dir.split("/").pop()}/${name}: ${String(err).split("\n")[0]}`);
    console.log(`  ${name}: MISSING`);
  }
}

/**
 * @param {string} lang
 * @param {"desktop" | "phone"} vp
 */
async function captureSet(lang, vp) {
  const dir = join(values.out, `${lang}-${vp}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  console.log(`${lang} ${vp}`);
  const scope = new Scope();
  try {
    const viewport = VIEWPORTS[vp];
    const locale = lang === "en" ? "en-US" : lang;
    const server = await startPublicServer();
    scope.defer(() => server.stop());
    const home = uiUrl(server.origin, { lang });
    const [a, b, c] = await Promise.all(
      ["A", "B", "C"].map((n) => launchParty(scope, `${n}-${lang}-${vp}`, { url: home, viewport, locale })),
    );
    const [pa, pb, pc] = [a.page, b.page, c.page];

    await shot(dir, pa, "01-home", () => waitVisible(pa, "home"));
    await shot(dir, pa, "02-settings", async () => {
      await click(pa, "settings-open");
      await waitVisible(pa, "settings");
    });
    await pa.goto(home);
    await shot(dir, pc, "03-join-invalid-code", async () => {
      await byId(pc, "join-code").fill("AB!");
      await byId(pc, "join").first().click({ timeout: 2_000 }).catch(() => {});
      await waitVisible(pc, "join-error");
    });
    await pc.goto(home);
    await shot(dir, pc, "04-error-no-such-room", async () => {
      await joinRoom(pc, "ZZZZ-ZZZZ");
      await waitAttr(pc, "error-banner", "data-code", "no-such-room");
    });
    await shot(dir, pc, "05-error-server-unreachable", async () => {
      await pc.goto(uiUrl(server.origin, { lang, server: "ws://127.0.0.1:9/ws" }));
      await waitAttr(pc, "error-banner", "data-code", "server-unreachable");
    });
    let code = "";
    await shot(dir, pa, "06-room-waiting", async () => {
      code = await createRoom(pa);
    });
    await shot(dir, pb, "07-in-call", async () => {
      // Documentation, not a test: a call that does not connect is retried (and reported).
      for (let attempt = 1; ; attempt++) {
        try {
          await joinRoom(pb, code);
          await Promise.all([waitConnected(pa), waitConnected(pb)]);
          break;
        } catch (err) {
          if (attempt >= 3) throw err;
          retried.push(`${lang}-${vp}: call attempt ${attempt} did not connect`);
          await Promise.all([pa.goto(home), pb.goto(home)]);
          code = await createRoom(pa);
        }
      }
      await Promise.all([waitFramesAdvance(pa, 10), waitFramesAdvance(pb, 10)]);
    });
    await shot(dir, pa, "08-in-call-chat", async () => {
      await byId(pa, "chat-input").fill(lang === "en" ? "Can you see me?" : "你能看到我吗？");
      await click(pa, "chat-send");
      await byId(pb, "chat-input").fill(lang === "en" ? "Yes, loud and clear." : "看得很清楚。");
      await click(pb, "chat-send");
      await pa.locator('[data-testid="chat-message"][data-from="peer"]').first().waitFor({ timeout: 20_000 });
      await pa.locator('[data-testid="chat-message"][data-from="me"][data-state="delivered"]').first().waitFor({ timeout: 20_000 });
    });
    await shot(dir, pa, "09-in-call-stats", async () => {
      await click(pa, "stats-open");
      await waitVisible(pa, "stats-panel");
      await waitAttr(pa, "stats-path", "data-path", ["direct", "stun", "relay"]);
    });
    await pc.goto(home);
    await shot(dir, pc, "10-error-room-full", async () => {
      await joinRoom(pc, code);
      await waitAttr(pc, "error-banner", "data-code", "room-full");
    });
    await shot(dir, pb, "11-call-ended", async () => {
      await click(pa, "hangup");
      await waitVisible(pb, "call-ended");
    });
    await Promise.all([a.close(), b.close(), c.close()]);
    await server.stop();

    if (!hasBinary("parley-node")) {
      missing.push(`${lang}-${vp}/12..15 device screens: parley-node is not built`);
      return;
    }
    const device = await startDeviceServer({ name: lang === "en" ? "Mei's Laptop" : "小美的笔记本" });
    scope.defer(() => device.stop());
    const visitorUrl = uiUrl(device.origin, { lang });
    const ownerUrl = uiUrl(device.origin, { lang }, `owner=${device.ownerToken}`);
    const [owner, visitor] = await Promise.all([
      launchParty(scope, `owner-${lang}-${vp}`, { url: ownerUrl, viewport, locale }),
      launchParty(scope, `visitor-${lang}-${vp}`, { url: visitorUrl, viewport, locale }),
    ]);
    const [po, pv] = [owner.page, visitor.page];
    await shot(dir, pv, "12-device-knock", () => waitVisible(pv, "knock"));
    await shot(dir, pv, "13-outgoing-call", async () => {
      await click(pv, "knock");
      await waitVisible(pv, "outgoing-call");
    });
    await shot(dir, po, "14-incoming-call", () => waitVisible(po, "incoming-call"));
    await shot(dir, pv, "15-call-declined", async () => {
      await click(po, "decline");
      await waitAttr(pv, "end-reason", "data-reason", "declined");
    });
  } finally {
    await scope.close();
  }
}

/** Writes docs/screenshots/README.md: every captured screen, side by side per set. */
function writeIndex() {
  const sets = readdirSync(values.out, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const screens = [...new Set(sets.flatMap((s) => readdirSync(join(values.out, s))))].filter((f) => f.endsWith(".png")).sort();
  const lines = [
    "# Screenshots",
    "",
    "Generated by `node ui/e2e/screenshots.mjs` (after `make build`): real calls between headless",
    "Chromium instances with fake camera and microphone, so the video tiles show Chromium's test pattern.",
    "",
    `| screen | ${sets.join(" | ")} |`,
    `|---|${sets.map(() => "---").join("|")}|`,
    ...screens.map((f) => `| ${f.replace(/\.png$/, "")} | ${sets.map((s) => (existsSync(join(values.out, s, f)) ? `[png](${s}/${f})` : "-")).join(" | ")} |`),
    "",
  ];
  // Images other suites keep here (e.g. the desktop app's window) are listed, never touched.
  const loose = readdirSync(values.out).filter((f) => f.endsWith(".png")).sort();
  if (loose.length > 0) lines.push("Other screenshots in this folder:", "", ...loose.map((f) => `- [${f}](${f})`), "");
  writeFileSync(join(values.out, "README.md"), lines.join("\n"));
}

for (const lang of values.lang.split(",")) {
  for (const vp of values.viewport.split(",")) {
    if (vp !== "desktop" && vp !== "phone") throw new Error(`unknown viewport ${vp}`);
    await captureSet(lang, vp);
  }
}
writeIndex();
if (retried.length > 0) console.log(`\nRetried calls (UI bug to fix):\n${retried.map((r) => `  ${r}`).join("\n")}`);
if (missing.length > 0) {
  console.log(`\nScreens not captured (${missing.length}):\n${missing.map((m) => `  ${m}`).join("\n")}`);
  process.exitCode = 1;
} else {
  console.log("\nAll screens captured.");
}
