// The real desktop app under Xvfb, driven over WebDriver (tauri-driver -> WebKitWebDriver), on
// a namespace LAN shared with a parley-node (issue 5, "App-level tests"). Elements are found by
// the data-testid contract (/work/ui-contract.md); screenshots go to .artifacts/app/driver-*.png.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AppLab, repoRoot } from "./lib/applab.mjs";
import { waitFor } from "./lib/webdriver.mjs";

const artifacts = join(repoRoot, ".artifacts", "app");
mkdirSync(artifacts, { recursive: true });
const suffix = Math.random().toString(36).slice(2, 6);
// Non-ASCII on purpose: names travel through mDNS TXT records, JSON, IPC and the DOM.
const NODE_NAME = `Nœud 測試 ${suffix}`;
const NEW_NAME = `Salon Ølberg 客厅 ${suffix}`;
const CALLER = `Chloé’s phone ${suffix}`;

/** @param {any} event @param {string} name */
const isPeerNamed = (event, name) => (event.event === "added" || event.event === "updated") && event.peer?.name === name;

describe("the desktop app driven by tauri-driver", { timeout: 300_000 }, () => {
  const lab = new AppLab();
  /** @type {import("./lib/webdriver.mjs").Session | undefined} */
  let app;
  /** @type {Awaited<ReturnType<AppLab["startNode"]>>} */
  let node;

  before(async () => {
    try {
      await lab.start();
      node = await lab.startNode(NODE_NAME);
      app = await lab.launchApp();
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : err}\n${lab.diagnostics()}`);
    }
  }, { timeout: 120_000 });

  after(async () => {
    await app?.close().catch(() => {});
    if (process.env.APP_DEBUG) console.error(lab.diagnostics());
    await lab.close();
  });

  /**
   * Runs a scenario; on failure adds a screenshot of what the app showed and the logs.
   * @param {string} name  also the screenshot's name
   * @param {(app: import("./lib/webdriver.mjs").Session) => Promise<void>} body
   */
  async function scenario(name, body) {
    if (!app) throw new Error(`the app is not running:\n${lab.diagnostics()}`);
    try {
      await body(app);
    } catch (err) {
      const shot = join(artifacts, `driver-failed-${name}.png`);
      try {
        lab.screenshot(shot);
      } catch {
        // No screen to capture (Xvfb gone); the logs below still say what happened.
      }
      throw new Error(`${err instanceof Error ? err.stack : err}\n(screenshot: ${shot})\n${lab.diagnostics()}`);
    }
  }

  /**
   * Saves what the screen shows once the page has painted its current state.
   * @param {import("./lib/webdriver.mjs").Session} a
   * @param {string} file  under .artifacts/app
   */
  async function shoot(a, file) {
    await a.painted();
    lab.screenshot(join(artifacts, file));
  }

  /** Opens settings and returns the display-name input. */
  async function openSettings(/** @type {import("./lib/webdriver.mjs").Session} */ a) {
    await a.click(await a.visible("settings-open"));
    await a.visible("settings");
    return a.visible("settings-name");
  }

  it("opens its window and loads the UI", () =>
    scenario("home", async (a) => {
      await a.visible("home", 60_000);
      await shoot(a, "driver-home.png");
    }));

  it("lists a parley-node on the same LAN by its name", () =>
    scenario("devices", async (a) => {
      await waitFor(`a device-item named ${JSON.stringify(NODE_NAME)}`, async () => {
        for (const el of await a.all("device-item")) {
          if ((await a.attribute(el, "data-device-name")) === NODE_NAME && (await a.cmd("GET", `/element/${el}/displayed`))) return el;
        }
        return null;
      });
      await shoot(a, "driver-devices.png");
    }));

  it("keeps a new display name across a restart and advertises it to the node", () =>
    scenario("rename", async (a) => {
      const input = await openSettings(a);
      await a.replaceText(input, NEW_NAME);
      assert.equal(await a.property(input, "value"), NEW_NAME, "the name typed into settings-name");
      await a.click(await a.visible("settings-save"));

      const deviceId = lab.appSettings().deviceId;
      const seen = await node.lines.waitJson(`the node seeing the app as ${JSON.stringify(NEW_NAME)} over mDNS`, (e) => isPeerNamed(e, NEW_NAME) && e.peer.source === "mdns");
      assert.equal(seen.peer.id, deviceId, "the renamed peer is the app (its device id)");

      // Restart: the app quits (the node sees it leave), starts again, and comes back under
      // the new name, both on the LAN and in its settings.
      const mark = node.lines.lines.length;
      await lab.quitApp();
      await a.close().catch(() => {}); // the app is gone; this only ends the driver's session
      app = undefined;
      await node.lines.waitJson("the node seeing the app leave", (e) => e.event === "removed" && e.peer?.id === deviceId, { from: mark });
      app = await lab.launchApp();
      await app.visible("home", 60_000);
      const back = await node.lines.waitJson("the node seeing the restarted app", (e) => e.event === "added" && e.peer?.id === deviceId, { from: mark });
      assert.equal(back.peer.name, NEW_NAME, "the name the restarted app advertises");
      const reopened = await openSettings(app);
      assert.equal(await app.property(reopened, "value"), NEW_NAME, "settings-name after the restart");
      await shoot(app, "driver-settings.png");
      await app.click(await app.visible("settings-close"));
    }));

  it("rings when someone on the LAN knocks", () =>
    scenario("incoming", async (a) => {
      await a.visible("home");
      const caller = lab.knock(CALLER);
      try {
        const answer = await caller.lines.waitJson("the app's server answering the knock", (m) => ["ringing", "unavailable", "error", "closed", "socket-error"].includes(m.type));
        assert.equal(answer.type, "ringing", `the app's device server answered the knock with ${JSON.stringify(answer)} (unavailable: no owner UI connected)`);
        await a.visible("incoming-call");
        assert.equal((await a.text(await a.visible("incoming-name"))).trim(), CALLER);
        await shoot(a, "driver-incoming.png");
      } finally {
        caller.child.stdin?.end(); // cancels the knock
      }
    }));
});
