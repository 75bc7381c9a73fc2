// The real desktop app under Xvfb, whose webview (WebKitGTK) has no RTCPeerConnection, calls
// with its native GStreamer engine: on the namespace LAN a parley-node serves the UI, and a
// headless Chromium is that device's owner; the app (WebDriver) calls the node from its device
// list, Chromium accepts, and the app's remote tile must paint changing, non-blank frames (two
// screenshots of the X screen, compared inside the tile), while Chromium decodes the app's
// video. Then the app shares its screen: Chromium's tile must show the app's X screen (the
// engine's ximagesrc, not the webview's mock capture), and the camera again once the share
// stops. Screenshots: .artifacts/app/native-call-*.png; the signaling messages Chromium
// exchanged: .artifacts/app/native-call-sdp.txt.
//
// The app runs with WebKit's accelerated compositing on (PARLEY_WEBKIT_COMPOSITING=1): with it
// off (the app's default since 1707499) the X window under a bare Xvfb kept showing the home
// page while WebDriver saw the page painting the call (2026-11-21), so the X screen could not
// show the remote tile.
//
//   sudo tests/app/run.sh --native        (after `make build`; or `make test-app-native`)
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AppLab, HOSTS, repoRoot } from "./lib/applab.mjs";
import { waitFor } from "./lib/webdriver.mjs";

const { chromium } = await import(join(repoRoot, "ui/node_modules/playwright-core/index.mjs"));
const { CHROMIUM_ARGS } = await import(join(repoRoot, "ui/e2e/lib/browser.mjs"));

const artifacts = join(repoRoot, ".artifacts", "app");
const NODE_NAME = `Chromium owner ${Math.random().toString(36).slice(2, 6)}`;
mkdirSync(artifacts, { recursive: true });

/**
 * RGB bytes of a rectangle of a PNG (ImageMagick, which also took the screenshot).
 * @param {string} png
 * @param {{x: number, y: number, width: number, height: number}} r
 */
function pixels(png, r) {
  const out = spawnSync("convert", [png, "-crop", `${r.width}x${r.height}+${r.x}+${r.y}`, "+repage", "-depth", "8", "rgb:-"], { maxBuffer: 64 << 20 });
  if (out.status !== 0) throw new Error(`convert ${png}: ${out.stderr}`);
  return out.stdout;
}

/** Standard deviation of the bytes: near 0 for a blank (single-colour) tile. @param {Buffer} b */
function spread(b) {
  let sum = 0;
  for (const v of b) sum += v;
  const mean = sum / b.length;
  let sq = 0;
  for (const v of b) sq += (v - mean) ** 2;
  return Math.sqrt(sq / b.length);
}

/**
 * Whether the bytes look like Chromium's fake camera (a green test card): green well above red
 * and blue on average. Anything else in the tile (the home page, a blank tile) is not it.
 * @param {Buffer} b
 */
function fakeCameraFrame(b) {
  const sum = [0, 0, 0];
  for (let i = 0; i + 2 < b.length; i += 3) for (let k = 0; k < 3; k++) sum[k] += b[i + k];
  return sum[1] > 1.5 * sum[0] && sum[1] > 1.5 * sum[2];
}

/**
 * The X screen as a 64x40 RGB thumbnail (its own 16:10 shape).
 * @param {string} png
 */
function thumbnail(png) {
  const out = spawnSync("convert", [png, "-resize", "64x40!", "-depth", "8", "rgb:-"], { maxBuffer: 1 << 20 });
  if (out.status !== 0) throw new Error(`convert ${png}: ${out.stderr}`);
  return out.stdout;
}

/**
 * What Chromium's remote tile shows, as a 64x40 RGB thumbnail of the middle band a 16:10 picture
 * takes in the video: the engine letterboxes a screen of another shape into its send size
 * rather than squashing it, so the bands above and below are black.
 * @param {any} page
 * @returns {Promise<Buffer>}
 */
async function chromiumSees(page) {
  const rgb = await page.evaluate(() => {
    const v = document.querySelector('[data-testid="remote-video"]');
    const c = document.createElement("canvas");
    c.width = 64;
    c.height = 40;
    const g = c.getContext("2d");
    if (!(v instanceof HTMLVideoElement) || !g || v.videoWidth === 0) return [];
    const band = Math.min(v.videoHeight, Math.round(v.videoWidth / 1.6));
    g.drawImage(v, 0, (v.videoHeight - band) / 2, v.videoWidth, band, 0, 0, c.width, c.height);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const out = [];
    for (let i = 0; i < d.length; i += 4) out.push(d[i], d[i + 1], d[i + 2]);
    return out;
  });
  return Buffer.from(rgb);
}

/** Mean absolute difference of two same-size byte buffers (0..255). */
function distance(/** @type {Buffer} */ a, /** @type {Buffer} */ b) {
  if (a.length !== b.length || a.length === 0) return 255;
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

/** Share of pixels that differ noticeably between two same-size RGB buffers. */
function changed(/** @type {Buffer} */ a, /** @type {Buffer} */ b) {
  let n = 0;
  for (let i = 0; i + 2 < a.length; i += 3) {
    if (Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2]) > 30) n++;
  }
  return n / (a.length / 3);
}

process.env.PARLEY_WEBKIT_COMPOSITING = "1"; // inherited by tauri-driver and the app, see above

describe("the desktop app calls Chromium with its native engine", () => {
  const lab = new AppLab();
  /** @type {import("./lib/webdriver.mjs").Session | undefined} */
  let app;
  /** @type {any} */
  let browser;
  /** Chromium's console, for a failure message. @type {string[]} */
  const chromiumLog = [];
  /** Descriptions exchanged, written to .artifacts/app/native-call-sdp.txt. @type {string[]} */
  const sdpLog = [];
  const started = Date.now();
  /** Adds a line to the signaling log, with the time since the test started. @param {string} line */
  const note = (line) => sdpLog.push(`${Date.now() - started}ms ${line}`);

  before(async () => {
    await lab.start();
    app = await lab.launchApp();
  });

  after(async () => {
    writeFileSync(join(artifacts, "native-call-sdp.txt"), sdpLog.join("\n\n"));
    writeFileSync(join(artifacts, "native-call-app.log"), lab.logs.get("app") ?? "");
    await browser?.close().catch(() => {});
    await app?.close().catch(() => {});
    await lab.close();
  });

  /**
   * A screenshot of the whole X screen (what a person sees).
   * @param {string} name
   */
  function screenshot(name) {
    return lab.screenshot(join(artifacts, `native-call-${name}.png`));
  }

  it("calls a Chromium-owned device; both sides see each other's video", async () => {
    if (!app) throw new Error(`the app is not running:\n${lab.diagnostics()}`);
    const a = app;
    try {
      await a.visible("home", 60_000);
      // The point of the test: this webview has no WebRTC, so calls run on the native engine.
      const rtc = await a.cmd("POST", "/execute/sync", { script: "return typeof RTCPeerConnection", args: [] });
      assert.equal(rtc, "undefined", "the app's webview has RTCPeerConnection; the native engine would not be used");
      const { listening } = await lab.startNode(NODE_NAME, ["--static-dir", join(repoRoot, "ui", "dist")]);
      // Chromium lives on the node host: a wrapper runs it inside that namespace, so the pipe
      // Playwright talks over is inherited unchanged.
      const wrapper = join(lab.tmp, "chromium-in-node-ns");
      writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${lab.ns("node")} /usr/bin/chromium "$@"\n`);
      chmodSync(wrapper, 0o755);
      browser = await chromium.launchPersistentContext(join(lab.tmp, "chromium-profile"), {
        executablePath: wrapper,
        headless: true,
        // The node's page is plain http on a LAN address: let it count as secure (getUserMedia,
        // crypto.randomUUID), as a person's https deployment would be.
        args: [...CHROMIUM_ARGS, `--unsafely-treat-insecure-origin-as-secure=http://${HOSTS.node}:${listening.port}`],
        timeout: 30_000,
      });
      const page = browser.pages()[0] ?? (await browser.newPage());
      page.on("console", (/** @type {any} */ m) => chromiumLog.push(`${m.type()}: ${m.text()}`));
      page.on("pageerror", (/** @type {any} */ e) => chromiumLog.push(`pageerror: ${e.message}`));
      // The offer/answer both ways, as Chromium's signaling socket carried them (diagnostics).
      page.on("websocket", (/** @type {any} */ ws) => {
        const keep = (/** @type {string} */ dir) => (/** @type {any} */ f) => {
          if (typeof f.payload === "string" && f.payload.includes('"signal"')) note(`${dir} ${f.payload}`);
        };
        ws.on("framesent", keep("chromium->app"));
        ws.on("framereceived", keep("app->chromium"));
      });
      await page.goto(`http://${HOSTS.node}:${listening.port}/?lang=en#owner=${listening.ownerToken}`);
      await page.locator('[data-testid="device-ready"]').waitFor({ timeout: 30_000 });

      // The app finds the node on the LAN and calls it (video).
      const item = await waitFor(`a device-item named ${NODE_NAME}`, async () => {
        for (const el of await a.all("device-item")) if ((await a.attribute(el, "data-device-name")) === NODE_NAME) return el;
        return null;
      }, 60_000);
      const callButton = await a.cmd("POST", `/element/${item}/element`, { using: "css selector", value: "button.primary" });
      await a.click(/** @type {string} */ (Object.values(callButton)[0]));
      await page.locator('[data-testid="accept"]').click({ timeout: 30_000 });

      await waitFor("the app's call-state connected", async () => {
        for (const el of await a.all("call-state")) if ((await a.attribute(el, "data-state")) === "connected") return el;
        return null;
      }, 60_000);
      await page.waitForFunction(() => document.querySelector('[data-testid="call-state"]')?.getAttribute("data-state") === "connected", null, { timeout: 60_000 });
      // Chromium decodes the app's (native engine's) video.
      await page.waitForFunction(() => {
        const v = document.querySelector('[data-testid="remote-video"]');
        return v instanceof HTMLVideoElement && v.getVideoPlaybackQuality().totalVideoFrames > 30;
      }, null, { timeout: 30_000, polling: 200 });

      // The app's remote tile paints frames that change.
      const tile = await a.visible("remote-video", 30_000);
      const rect = await a.cmd("GET", `/element/${tile}/rect`);
      const r = { x: Math.round(rect.x) + 4, y: Math.round(rect.y) + 4, width: Math.round(rect.width) - 8, height: Math.round(rect.height) - 8 };
      assert.ok(r.width > 40 && r.height > 40, `remote tile too small: ${JSON.stringify(rect)}`);
      // Page coordinates are screen coordinates: under a bare Xvfb (no window manager) the
      // window sits at the top-left without decorations.
      const first = await waitFor("the remote tile showing Chromium's camera", async () => {
        const p = pixels(screenshot("1"), r);
        return spread(p) > 12 && fakeCameraFrame(p) ? p : null;
      }, 30_000);
      const second = await waitFor("the remote tile to show a newer frame", async () => {
        const p = pixels(screenshot("2"), r);
        return changed(first, p) > 0.005 && spread(p) > 12 && fakeCameraFrame(p) ? p : null;
      }, 30_000);
      assert.ok(second.length === first.length);

      // Share screen: Chromium's tile now shows the app's X screen (sent by the engine), not
      // the engine's camera; stopping the share brings the camera back.
      const shareButton = await a.visible("screen-share", 10_000);
      // Thumbnails of the same picture differ by a few levels (VP8, scaling); the test pattern
      // the engine sends as the camera and the app's screen differ by about 120.
      const SAME = 25;
      const DIFFERENT = 60;
      const showsScreen = async () => distance(await chromiumSees(page), thumbnail(screenshot("sharing")));
      assert.ok((await showsScreen()) > DIFFERENT, "before sharing, Chromium should see the camera, not the screen");
      note("-- the app shares its screen");
      await a.click(shareButton);
      await waitFor("the app's screen-share pressed", async () => (await a.attribute(shareButton, "aria-pressed")) === "true", 10_000);
      await waitFor("Chromium's tile to show the app's X screen", async () => (await showsScreen()) < SAME, 30_000);
      await page.screenshot({ path: join(artifacts, "native-call-chromium-sees-screen.png") }); // what the far side sees
      note("-- the app stops sharing");
      await a.click(shareButton);
      await waitFor("the app's screen-share released", async () => (await a.attribute(shareButton, "aria-pressed")) === "false", 10_000);
      await waitFor("Chromium's tile to show the camera again", async () => (await showsScreen()) > DIFFERENT, 30_000);
      // Media flowed the whole time: the app never took the path for lost (its engine's stats
      // once lacked transport bytes, and it asked for an ICE restart every few seconds).
      assert.deepEqual(sdpLog.filter((l) => l.includes("app->chromium") && l.includes("restartIce")), []);

    } catch (err) {
      try {
        screenshot("failed-xscreen");
      } catch {
        /* no display left */
      }
      const tracks = await a
        .cmd("POST", "/execute/sync", {
          script: "return [String(navigator.mediaDevices.getDisplayMedia).slice(0, 80), ...[...document.querySelectorAll('video')].map((v) => (v.srcObject ? v.srcObject.getTracks().map((t) => t.kind + ':' + t.label).join(',') : '-'))]",
          args: [],
        })
        .catch((/** @type {unknown} */ e) => String(e));
      chromiumLog.push(`app tracks: ${JSON.stringify(tracks)}`);
      await browser?.pages()[0]?.screenshot({ path: join(artifacts, "native-call-failed-chromium.png") }).catch(() => {});
      throw new Error(`${err instanceof Error ? err.stack : err}\n--- chromium\n${chromiumLog.slice(-30).join("\n")}\n${lab.diagnostics()}`);
    }
  });
});
