// Benchmark: how the Linux app shows remote video. WebKitGTK has no RTCPeerConnection, so the
// native engine decodes the remote video, encodes each frame as JPEG, and the app sends it as a
// `frame` event (base64 in JSON) over a Tauri channel; the UI adapter
// (ui/src/engine/native/peer-connection.ts, `paint`) decodes it with createImageBitmap onto a
// canvas whose captureStream() feeds the remote <video> tile. This measures that path end to end:
//
//   Chromium's camera (a canvas drawing the wall clock as a bar code, see tests/native/bench.mjs)
//   -> VP8 -> the app's engine -> JPEG -> IPC -> canvas -> the app's remote tile
//
// The real app (debug build unless PARLEY_APP_BIN) runs under Xvfb in a network namespace with
// tauri-driver, and a headless Chromium on the node host calls it, as in native-call.test.mjs.
// A probe injected into the app's page (tests/app/lib/tile-probe.mjs) reads the stamp off the
// remote tile's <video> on each displayed frame (requestVideoFrameCallback, else
// requestAnimationFrame) and subtracts it from Date.now() (same machine, same clock); it also
// times the adapter's steps by wrapping the channel callback, createImageBitmap and drawImage.
// CPU is sampled from /proc/<pid>/stat over the window: "app" is the parley process plus its
// WebKit processes (web, network), as % of one core. The app sends its own test video to Chromium
// meanwhile (PARLEY_MOCK_MEDIA), unless --app-camera off. --scene busy pans a textured picture
// under the stamp instead of bench.mjs's flat background: bigger JPEGs, nearer a camera's.
//
//   sudo node tests/app/bench-tile.mjs [--seconds 20] [--sizes 640x480,1280x720] [--runs 1]
//                                      [--app-camera on|off] [--scene plain|busy]
//
// Columns: "tile latency" is Date.now() minus the stamp read off the tile when a new stamp
// appears (WebKitGTK 2.50 has requestVideoFrameCallback but never calls it back for this
// canvas-captured stream, so the probe falls back to requestAnimationFrame); "canvas latency"
// is the same read as the adapter draws the frame onto its canvas. "frame events/s" arrive over
// the channel, "painted/s" reach createImageBitmap (`paint` drops a frame while the previous one
// is still decoding), "tile frames shown/s" are distinct stamps seen on the tile. The step times
// are performance.now() deltas (1 ms resolution in WebKit): channel callback -> createImageBitmap
// call (ordering, base64 -> bytes, Blob), createImageBitmap until it resolves (JPEG decode plus
// the wait for the main thread), and drawImage.
//
// Prerequisites as tests/app/run.sh --native: root (network namespaces), Xvfb,
// /usr/bin/WebKitWebDriver, .tools/bin/tauri-driver, /usr/bin/chromium, `make build`
// (target/debug/parley, target/debug/parley-node, ui/dist). Prints one JSON line per run on
// stderr and a Markdown table on stdout. Not part of `make test` (timing, see docs/benchmarks.md).
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AppLab, HOSTS, repoRoot } from "./lib/applab.mjs";
import { installProbe, keepPcsScript, probeResult, stampedCameraScript } from "./lib/tile-probe.mjs";
import { waitFor } from "./lib/webdriver.mjs";
import { run as runCmd } from "../nat/lib/netns.mjs";
import { arg, cpuSeconds, loadavg, pidsWith } from "../native/lib/proc.mjs";

const { chromium } = await import(join(repoRoot, "ui/node_modules/playwright-core/index.mjs"));
const { CHROMIUM_ARGS } = await import(join(repoRoot, "ui/e2e/lib/browser.mjs"));

const seconds = Number(arg("seconds", "20"));
const sizes = arg("sizes", "640x480,1280x720").split(",").map((s) => s.split("x").map(Number));
const runs = Number(arg("runs", "1"));
const appCamera = arg("app-camera", "on");
const scene = arg("scene", "plain");
/** @param {number | string} pid */
const comm = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
};

/** The app's processes in its namespace, by role: the app (parley + WebKit's) and Xvfb. */
function appPids(/** @type {AppLab} */ lab) {
  const all = runCmd("ip", ["netns", "pids", lab.ns("app")]).stdout.split(/\s+/).filter(Boolean);
  const app = all.filter((p) => /^(parley|WebKitWebProces|WebKitNetworkPr|WebKitGPUProces)/.test(comm(p))).map(Number);
  const xvfb = all.filter((p) => comm(p) === "Xvfb").map(Number);
  return { app, xvfb, names: app.map((p) => comm(p)) };
}


/** Chromium's video sender: frames encoded and the size it sends (it may scale down). */
async function senderStats(/** @type {any} */ page) {
  return page.evaluate(async () => {
    const out = { at: Date.now(), encoded: 0, size: "" };
    for (const pc of /** @type {any} */ (window).__benchPcs ?? []) {
      if (pc.connectionState !== "connected") continue;
      for (const r of (await pc.getStats()).values()) {
        if (r.type === "outbound-rtp" && r.kind === "video") {
          out.encoded += r.framesEncoded ?? 0;
          out.size = `${r.frameWidth}x${r.frameHeight}`;
        }
      }
    }
    return out;
  });
}

/** One run: a fresh lab, the app called by Chromium sending w x h, measured for `seconds`. */
async function measure(/** @type {number} */ w, /** @type {number} */ h) {
  const lab = new AppLab();
  /** @type {import("./lib/webdriver.mjs").Session | undefined} */
  let app;
  /** @type {any} */
  let browser;
  try {
    await lab.start();
    app = await lab.launchApp();
    const a = app;
    /** @param {string} script */
    const js = (script) => a.cmd("POST", "/execute/sync", { script, args: [] });
    await a.visible("home", 60_000);
    const hooked = await js(installProbe);
    const name = `Bench owner ${Math.random().toString(36).slice(2, 6)}`;
    const { listening } = await lab.startNode(name, ["--static-dir", join(repoRoot, "ui", "dist")]);
    const wrapper = join(lab.tmp, "chromium-in-node-ns");
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${lab.ns("node")} /usr/bin/chromium "$@"\n`);
    chmodSync(wrapper, 0o755);
    const profile = join(lab.tmp, "chromium-profile");
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: wrapper,
      headless: true,
      args: [...CHROMIUM_ARGS, `--unsafely-treat-insecure-origin-as-secure=http://${HOSTS.node}:${listening.port}`],
      timeout: 30_000,
    });
    await browser.addInitScript({ content: stampedCameraScript(w, h, scene) });
    await browser.addInitScript({ content: keepPcsScript });
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(`http://${HOSTS.node}:${listening.port}/?lang=en#owner=${listening.ownerToken}`);
    await page.locator('[data-testid="device-ready"]').waitFor({ timeout: 30_000 });

    const item = await waitFor(`a device-item named ${name}`, async () => {
      for (const el of await a.all("device-item")) if ((await a.attribute(el, "data-device-name")) === name) return el;
      return null;
    }, 60_000);
    const callButton = await a.cmd("POST", `/element/${item}/element`, { using: "css selector", value: "button.primary" });
    await a.click(/** @type {string} */ (Object.values(callButton)[0]));
    await page.locator('[data-testid="accept"]').click({ timeout: 30_000 });
    await waitFor("the app's call-state connected", async () => {
      for (const el of await a.all("call-state")) if ((await a.attribute(el, "data-state")) === "connected") return el;
      return null;
    }, 60_000);
    if (appCamera === "off") {
      const camera = await a.visible("camera", 10_000);
      await a.click(camera);
      await waitFor("the app's camera off", async () => (await a.attribute(camera, "aria-pressed")) === "true", 10_000);
    }
    // The tile shows stamped frames before the window starts (the sender has settled its size).
    await waitFor("the app's remote tile playing", () => js(`const v = document.querySelector('[data-testid="remote-video"]'); return v && v.videoWidth > 0 && v.currentTime > 2;`), 60_000);

    const pids = appPids(lab);
    const chromiumPids = pidsWith(profile);
    const s0 = await senderStats(page);
    const load0 = loadavg();
    const perPid = pids.app.map((p) => cpuSeconds([p]));
    const cpu0 = { app: cpuSeconds(pids.app), xvfb: cpuSeconds(pids.xvfb), chromium: cpuSeconds(chromiumPids) };
    const t0 = Date.now();
    const mode = await js(`return window.__tile.start(${seconds * 1000}, ${w});`);
    const result = await waitFor("the probe's window to end", () => js(probeResult), (seconds + 30) * 1000);
    const dt = (Date.now() - t0) / 1000;
    const pct = (/** @type {number[]} */ p, /** @type {number} */ c) => Math.round(((cpuSeconds(p) - c) / dt) * 100);
    const cpu = { app: pct(pids.app, cpu0.app), xvfb: pct(pids.xvfb, cpu0.xvfb), chromium: pct(chromiumPids, cpu0.chromium), byProcess: Object.fromEntries(pids.app.map((p, i) => [pids.names[i], pct([p], perPid[i])])) };
    const s1 = await senderStats(page);
    const senderFps = (1000 * (s1.encoded - s0.encoded)) / (s1.at - s0.at);
    return { size: `${w}x${h}`, appCamera, hooked, mode, appProcs: pids.names, sent: s1.size, senderFps, ...result, cpu, load: `${load0} -> ${loadavg()}` };
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.stack : err}\n${lab.diagnostics()}`);
  } finally {
    await browser?.close().catch(() => {});
    await app?.close().catch(() => {});
    await lab.close();
  }
}

const rows = [];
for (let i = 0; i < runs; i++) {
  for (const [w, h] of sizes) {
    const r = await measure(w, h);
    console.error(JSON.stringify(r));
    rows.push(r);
  }
}
const f1 = (/** @type {number | null} */ x) => (x === null || !Number.isFinite(x) ? "-" : x.toFixed(1));
const q = (/** @type {any} */ s) => (s && s.n ? `${s.p50} / ${s.p95} ms` : "-");
const ms = (/** @type {any} */ s) => (s && s.n ? `${f1(s.p50)} / ${f1(s.p95)}` : "-");
console.log("| sent (Chromium) | tile latency p50 / p95 | canvas latency p50 / p95 | Chromium encoded fps | frame events/s | painted/s | tile frames shown/s | JPEG KiB/frame | base64 MiB/s | base64->Blob / decode / draw ms (p50 / p95) | app CPU % (parley / web / network) | Xvfb % | Chromium % | load avg |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  const kib = r.jpegBytesPerFrame === null ? "-" : (r.jpegBytesPerFrame / 1024).toFixed(0);
  console.log(`| ${r.size} (${r.sent}) | ${q(r.tile)} | ${q(r.canvas)} | ${f1(r.senderFps)} | ${f1(r.arrivalsPerS)} | ${f1(r.paintedPerS)} | ${f1(r.tileShownPerS)} | ${kib} | ${(r.b64BytesPerS / 2 ** 20).toFixed(2)} | ${ms(r.b64decode)}; ${ms(r.decode)}; ${ms(r.draw)} | ${r.cpu.app} (${["parley", "WebKitWebProces", "WebKitNetworkPr"].map((n) => r.cpu.byProcess[n] ?? "-").join(" / ")}) | ${r.cpu.xvfb} | ${r.cpu.chromium} | ${r.load} |`);
}
console.log(`\n${seconds} s per row; scene ${scene}; app camera ${appCamera}; tile read with ${rows[0]?.mode}; app: ${process.env.PARLEY_APP_BIN ?? "target/debug/parley"}; ${new Date().toISOString()}.`);
