// Benchmark: CPU and end-to-end video latency, native engine -> Chromium, against Chromium ->
// Chromium in the same run, on loopback through a real parley-server. Each sender draws the
// wall clock (ms mod 2^32) into every frame as a 32-block bar code (see
// src-tauri/crates/media-gst/src/stamp.rs); the receiving Chromium, running the real UI, reads
// it from the remote <video> on every displayed frame (requestVideoFrameCallback) and subtracts.
//
//   node tests/native/bench.mjs [--seconds 20] [--sizes 640x480,1280x720]
//
// Needs `make build` (parley-server, parley-native-peer, ui/dist). Prints a Markdown table.
// PARLEY_NATIVE_PEER_BIN picks the native binary (e.g. target/release/parley-native-peer, as
// the app ships release); the table's footer names the one used. "decoded fps" is the
// receiver's getStats() framesDecoded rate, "encoded fps" the sender's (native: frames out of
// the encoder; Chromium: outbound-rtp framesEncoded); "stamped frames read" is how often the
// page managed to read a code off a displayed frame, which latency uses.
import { launchParty, uiUrl } from "../../ui/e2e/lib/browser.mjs";
import { Scope } from "../../ui/e2e/lib/scope.mjs";
import { startPublicServer } from "../../ui/e2e/lib/server.mjs";
import { createRoom, joinRoom, waitConnected, waitFramesAdvance } from "../../ui/e2e/lib/ui.mjs";
import { nativePeerBinary, startNativePeer } from "./lib/native-peer.mjs";
import { arg, cpuSeconds, loadavg, pidsWith } from "./lib/proc.mjs";

const seconds = Number(arg("seconds", "20"));
const sizes = arg("sizes", "640x480,1280x720").split(",").map((s) => s.split("x").map(Number));
/** Extra flags for the native sender, e.g. "--no-audio" or "--no-processing". */
const nativeFlags = (arg("native-flags", "") ?? "").split(" ").filter(Boolean);
const kinds = arg("kinds", "native,chromium").split(",");
/** In the receiving page: read bar codes off displayed remote frames for `ms`. */
async function measureLatency(page, ms, sentWidth) {
  return page.evaluate(async ({ ms, sentWidth }) => {
    const video = /** @type {HTMLVideoElement} */ (document.querySelector('[data-testid="remote-video"]'));
    const c = document.createElement("canvas");
    const g = /** @type {CanvasRenderingContext2D} */ (c.getContext("2d", { willReadFrequently: true }));
    const lat = [];
    let frames = 0;
    const end = performance.now() + ms;
    await new Promise((resolve) => {
      const onFrame = () => {
        const now = Date.now();
        frames++;
        // The sender may scale down under load: read the code where it lands.
        const k = video.videoWidth / sentWidth;
        c.width = video.videoWidth;
        c.height = Math.ceil(48 * k);
        g.drawImage(video, 0, 0);
        const px = g.getImageData(0, 0, c.width, c.height).data;
        let v = 0;
        for (let bit = 0; bit < 32; bit++) {
          const i = (Math.floor(24 * k) * c.width + Math.floor((16 + bit * 16 + 8) * k)) * 4;
          const y = 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
          v = v * 2 + (y > 128 ? 1 : 0);
        }
        const d = (now % 2 ** 32) - v;
        if (d >= 0 && d < 5000) lat.push(d);
        if (performance.now() < end) video.requestVideoFrameCallback(onFrame);
        else resolve(null);
      };
      video.requestVideoFrameCallback(onFrame);
    });
    lat.sort((a, b) => a - b);
    const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
    return { frames, fps: frames / (ms / 1000), samples: lat.length, p50: q(0.5), p95: q(0.95), width: video.videoWidth, height: video.videoHeight };
  }, { ms, sentWidth });
}

/** Keeps the page's peer connections reachable, for receive-side jitter buffer stats. */
const keepPcsScript = `(() => {
  const P = window.RTCPeerConnection; if (!P) return;
  window.__benchPcs = [];
  window.RTCPeerConnection = class extends P { constructor(...a) { super(...a); window.__benchPcs.push(this); } };
})();`;

/**
 * Video frame counters of the page's connected peer connections: frames decoded and their size
 * (inbound-rtp), frames encoded (outbound-rtp), with the page's clock.
 */
async function videoCounters(page) {
  return page.evaluate(async () => {
    const out = { at: Date.now(), decoded: 0, width: 0, height: 0, encoded: 0 };
    for (const pc of /** @type {any} */ (window).__benchPcs ?? []) {
      if (pc.connectionState !== "connected") continue;
      for (const r of (await pc.getStats()).values()) {
        if (r.kind !== "video") continue;
        if (r.type === "inbound-rtp") Object.assign(out, { decoded: r.framesDecoded ?? 0, width: r.frameWidth ?? 0, height: r.frameHeight ?? 0 });
        if (r.type === "outbound-rtp") out.encoded += r.framesEncoded ?? 0;
      }
    }
    return out;
  });
}

/** Frames per second between two counter snapshots. */
const rate = (a, b, at = "at") => {
  const ms = (b[at] - a[at] + 2 ** 32) % 2 ** 32;
  return ms > 0 ? (1000 * (b.n - a.n)) / ms : NaN;
};

/** The native sender's latest status report: frames encoded and its clock (ms mod 2^32). */
function nativeEncoded(native) {
  const r = native.reports.filter((x) => x.event === "status").at(-1);
  return { at: r?.at ?? 0, n: r?.framesEncoded ?? 0 };
}

/** Cumulative receive-side jitter buffer counters per kind (inbound-rtp). */
async function jitterCounters(page) {
  return page.evaluate(async () => {
    const out = {};
    for (const pc of /** @type {any} */ (window).__benchPcs ?? []) {
      if (pc.connectionState !== "connected") continue;
      for (const r of (await pc.getStats()).values()) {
        if (r.type !== "inbound-rtp") continue;
        out[r.kind] = { delay: r.jitterBufferDelay ?? 0, target: r.jitterBufferTargetDelay ?? 0, emitted: r.jitterBufferEmittedCount ?? 0 };
      }
    }
    return out;
  });
}

/**
 * How long the receiver's jitter buffers held media during the window between two counter
 * snapshots (ms per emitted frame/sample), and their target (which includes any delay added
 * for lip sync).
 */
function jitterWindow(before, after) {
  const out = {};
  for (const [kind, a] of Object.entries(after)) {
    const b = before[kind] ?? { delay: 0, target: 0, emitted: 0 };
    const n = a.emitted - b.emitted;
    if (n > 0) out[kind] = { delay: Math.round((1000 * (a.delay - b.delay)) / n), target: Math.round((1000 * (a.target - b.target)) / n) };
  }
  return out;
}

/** Replaces the camera with a canvas drawing a moving ball and the clock bar code. */
const stampedCameraScript = (w, h) => `(() => {
  const md = navigator.mediaDevices, orig = md.getUserMedia.bind(md);
  md.getUserMedia = async (c) => {
    const base = await orig({ audio: c && c.audio ? c.audio : false });
    if (!c || !c.video) return base;
    const cv = document.createElement("canvas"); cv.width = ${w}; cv.height = ${h};
    const g = cv.getContext("2d"); let n = 0;
    const draw = () => {
      n++; g.fillStyle = "#3050a0"; g.fillRect(0, 0, ${w}, ${h});
      g.fillStyle = "#fff"; g.beginPath(); g.arc((n * 7) % ${w}, ${h} / 2, 40, 0, 7); g.fill();
      const t = Date.now() % 2 ** 32;
      for (let b = 0; b < 32; b++) { g.fillStyle = (Math.floor(t / 2 ** (31 - b)) % 2) ? "#ebebeb" : "#101010"; g.fillRect(16 + b * 16, 16, 16, 16); }
    };
    setInterval(draw, 1000 / 30); draw();
    const s = cv.captureStream(30);
    for (const t of base.getAudioTracks()) s.addTrack(t);
    return s;
  };
})();`;

async function run(kind, [w, h]) {
  const scope = new Scope();
  try {
    const server = await startPublicServer();
    scope.defer(() => server.stop());
    const home = uiUrl(server.origin, { lang: "en" });
    const rx = await launchParty(scope, `rx-${kind}-${w}`, { url: home });
    await rx.context.addInitScript({ content: keepPcsScript });
    await rx.page.reload();
    const code = await createRoom(rx.page);
    let senderPids;
    /** The native sender's recent output, for errors. */
    let nativeLog = () => "";
    /** @type {() => Promise<{at: number, n: number}>} */
    let encodedNow;
    if (kind === "native") {
      const native = startNativePeer(scope, ["--server", server.wsUrl, "--join", code, "--stamp", "--width", String(w), "--height", String(h), "--fps", "30", "--kbps", w > 640 ? "2500" : "1200", ...nativeFlags]);
      const pid = await native.waitFor((r) => r.event === "welcome", "welcome").then(() => native.pid);
      senderPids = [pid];
      nativeLog = () => `--- native peer ---\n${native.log()}`;
      encodedNow = async () => nativeEncoded(native);
    } else {
      const tx = await launchParty(scope, `tx-${kind}-${w}`, { url: home });
      await tx.context.addInitScript({ content: stampedCameraScript(w, h) });
      await tx.context.addInitScript({ content: keepPcsScript });
      await tx.page.reload();
      await joinRoom(tx.page, code);
      senderPids = pidsWith(`parley-e2e-profile-tx-${kind}-${w}`);
      encodedNow = async () => videoCounters(tx.page).then((c) => ({ at: c.at, n: c.encoded }));
    }
    await waitConnected(rx.page, 40_000).catch((err) => {
      throw new Error(`${err}\n${nativeLog()}`);
    });
    await waitFramesAdvance(rx.page, 30, 30_000);
    const jb0 = await jitterCounters(rx.page);
    const dec0 = await videoCounters(rx.page);
    const enc0 = await encodedNow();
    const cpu0 = cpuSeconds(senderPids);
    const t0 = Date.now();
    const lat = await measureLatency(rx.page, seconds * 1000, w);
    const cpu = (cpuSeconds(senderPids) - cpu0) / ((Date.now() - t0) / 1000);
    const dec1 = await videoCounters(rx.page);
    const enc1 = await encodedNow();
    const jb = jitterWindow(jb0, await jitterCounters(rx.page));
    const decodedFps = rate({ at: dec0.at, n: dec0.decoded }, { at: dec1.at, n: dec1.decoded });
    const encodedFps = rate(enc0, enc1);
    const decodedSize = `${dec1.width}x${dec1.height}`;
    return { kind, size: `${w}x${h}`, ...lat, decodedFps, decodedSize, encodedFps, senderCpuPct: Math.round(cpu * 100), jb };
  } finally {
    await scope.close();
  }
}

const rows = [];
for (const size of sizes) {
  for (const kind of kinds) {
    const r = await run(kind, size);
    console.error(JSON.stringify(r));
    rows.push(r);
  }
}
const load = loadavg();
const bin = nativePeerBinary();
const profile = /\/release\//.test(bin) ? "release" : /\/debug\//.test(bin) ? "debug" : "unknown profile";
console.log(`| sender -> Chromium | sent | decoded size | sender encoded fps | receiver decoded fps | stamped frames read per s | latency p50 | latency p95 | sender CPU (% of one core) | receiver jitter buffer video / audio (avg, target) |`);
console.log(`|---|---|---|---|---|---|---|---|---|---|`);
const jbText = (j) => (j ? `${j.delay}/${j.target} ms` : "-");
const fps = (x) => (Number.isFinite(x) ? x.toFixed(1) : "-");
for (const r of rows) {
  console.log(`| ${r.kind} | ${r.size} | ${r.decodedSize} | ${fps(r.encodedFps)} | ${fps(r.decodedFps)} | ${fps(r.fps)} | ${r.p50} ms | ${r.p95} ms | ${r.senderCpuPct} % | ${jbText(r.jb.video)}, ${jbText(r.jb.audio)} |`);
}
console.log(`\n${seconds} s per row, ${rows.map((r) => r.samples).join("/")} stamped frames read; native peer: ${bin} (${profile}); load average at the end: ${load}; ${new Date().toISOString()}.`);
