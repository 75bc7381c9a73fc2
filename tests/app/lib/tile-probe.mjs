// Page scripts for tests/app/bench-tile.mjs: the stamped canvas camera Chromium sends, and the
// probe injected into the app's webview (WebDriver execute script) that reads the stamps off the
// remote tile and times the native adapter's paint path without changing product code.
//
// The stamp is the wall clock (ms mod 2^32) as 32 blocks of 16x16 px at (16 + 16*bit, 16),
// light = 1, as in src-tauri/crates/media-gst/src/stamp.rs and tests/native/bench.mjs.

/**
 * Chromium init script: getUserMedia's video is a WxH canvas drawing a moving ball and the
 * clock bar code 30 times a second (audio stays the fake device's), as bench.mjs's camera but
 * with the track's content hint "detail".
 * @param {number} w
 * @param {number} h
 */
export const stampedCameraScript = (w, h, scene = "plain") => `(() => {
  const md = navigator.mediaDevices, orig = md.getUserMedia.bind(md);
  md.getUserMedia = async (c) => {
    const base = await orig({ audio: c && c.audio ? c.audio : false });
    if (!c || !c.video) return base;
    const cv = document.createElement("canvas"); cv.width = ${w}; cv.height = ${h};
    const g = cv.getContext("2d"); let n = 0;
    // "busy": a textured scene panning 4 px a frame (closer to a camera's JPEG sizes than a
    // flat background), drawn once; "plain": bench.mjs's flat blue.
    const busy = ${scene === "busy"} ? document.createElement("canvas") : null;
    if (busy) {
      busy.width = ${w * 2}; busy.height = ${h};
      const b = busy.getContext("2d");
      const img = b.createImageData(busy.width, busy.height);
      for (let i = 0; i < img.data.length; i += 4) {
        const x = (i / 4) % busy.width, y = Math.floor(i / 4 / busy.width);
        const v = 128 + 60 * Math.sin(x / 9) * Math.cos(y / 13) + 50 * (Math.random() - 0.5);
        img.data[i] = v; img.data[i + 1] = 255 - v; img.data[i + 2] = (x + y) % 256; img.data[i + 3] = 255;
      }
      b.putImageData(img, 0, 0);
      for (let k = 0; k < 300; k++) { b.fillStyle = "hsl(" + k * 37 + ",70%,50%)"; b.fillRect(Math.random() * busy.width, Math.random() * ${h}, 8 + Math.random() * 60, 8 + Math.random() * 60); }
    }
    const draw = () => {
      n++;
      if (busy) g.drawImage(busy, -((n * 4) % ${w}), 0);
      else { g.fillStyle = "#3050a0"; g.fillRect(0, 0, ${w}, ${h}); }
      g.fillStyle = "#fff"; g.beginPath(); g.arc((n * 7) % ${w}, ${h} / 2, 40, 0, 7); g.fill();
      const t = Date.now() % 2 ** 32;
      for (let b = 0; b < 32; b++) { g.fillStyle = (Math.floor(t / 2 ** (31 - b)) % 2) ? "#ebebeb" : "#101010"; g.fillRect(16 + b * 16, 16, 16, 16); }
    };
    setInterval(draw, 1000 / 30); draw();
    const s = cv.captureStream(30);
    // "detail": Chromium keeps the resolution under CPU load (drops frame rate instead), so the
    // app receives the size asked for; with the default it sent 960x540 for 1280x720 here.
    for (const t of s.getVideoTracks()) t.contentHint = "detail";
    for (const t of base.getAudioTracks()) s.addTrack(t);
    return s;
  };
})();`;

/** Chromium init script: keeps the page's peer connections reachable (sender stats). */
export const keepPcsScript = `(() => {
  const P = window.RTCPeerConnection; if (!P) return;
  window.__benchPcs = [];
  window.RTCPeerConnection = class extends P { constructor(...a) { super(...a); window.__benchPcs.push(this); } };
})();`;

/**
 * App webview script (execute/sync, before the call starts): wraps the Tauri channel callbacks
 * (frame events arriving: count, base64 bytes), window.createImageBitmap (JPEG decode time) and
 * CanvasRenderingContext2D.drawImage of an ImageBitmap (draw time, and the stamp as it lands on
 * the adapter's canvas). Counters only run between `__tile.start()` and the window's end.
 * Returns what hooks took (an accessor property cannot be wrapped).
 */
export const installProbe = `
if (window.__tile) return "already";
const T = (window.__tile = { on: false });
const now = () => performance.now();
/** Reads the 32-bit stamp from RGBA pixels of a region starting at the frame's top-left. */
T.readStamp = (px, width, k) => {
  let v = 0;
  for (let bit = 0; bit < 32; bit++) {
    const i = (Math.floor(24 * k) * width + Math.floor((16 + bit * 16 + 8) * k)) * 4;
    const y = 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
    v = v * 2 + (y > 128 ? 1 : 0);
  }
  return v;
};
T.latency = (stamp) => {
  const d = (Date.now() % 2 ** 32) - stamp;
  return d >= 0 && d < 5000 ? d : null;
};
const hooked = [];
// __TAURI_INTERNALS__.transformCallback is read-only, but it files callbacks in the Map it
// exposes as \`callbacks\`: wrap what gets filed there (the adapter's channel among them).
try {
  const callbacks = window.__TAURI_INTERNALS__.callbacks;
  const set = callbacks.set.bind(callbacks);
  callbacks.set = (id, cb) =>
    set(id, (raw) => {
      const m = raw && typeof raw === "object" ? raw.message : undefined;
      if (T.on && m && m.type === "frame") {
        T.arrivals++;
        T.b64Bytes += m.jpegBase64.length;
        T.arrivedAt = now();
      }
      return cb(raw);
    });
  hooked.push("channel");
} catch (e) { hooked.push("channel: " + e); }
const cib = window.createImageBitmap;
window.createImageBitmap = function (src, ...rest) {
  if (!T.on || !(src instanceof Blob) || src.type !== "image/jpeg") return cib.call(this, src, ...rest);
  const t0 = now();
  // From the channel callback to here: ordering, onEvent, base64 -> bytes (fromBase64), Blob.
  if (T.arrivedAt !== undefined) T.b64decode.push(t0 - T.arrivedAt);
  T.arrivedAt = undefined;
  T.jpegBytes += src.size;
  T.jpegFrames++;
  return cib.call(this, src, ...rest).then((b) => { T.decode.push(now() - t0); return b; });
};
hooked.push("createImageBitmap");
const probeCanvas = document.createElement("canvas");
const probe = probeCanvas.getContext("2d", { willReadFrequently: true });
const di = CanvasRenderingContext2D.prototype.drawImage;
CanvasRenderingContext2D.prototype.drawImage = function (img, ...rest) {
  if (!T.on || this === probe || !(img instanceof ImageBitmap)) return di.call(this, img, ...rest);
  const t0 = now();
  const r = di.call(this, img, ...rest);
  T.draw.push(now() - t0);
  // The stamp as the adapter's canvas (the tile's source) gets it.
  const k = img.width / T.sentWidth;
  probeCanvas.width = Math.ceil(560 * k);
  probeCanvas.height = Math.ceil(48 * k);
  di.call(probe, img, 0, 0);
  const l = T.latency(T.readStamp(probe.getImageData(0, 0, probeCanvas.width, probeCanvas.height).data, probeCanvas.width, k));
  if (l !== null) T.canvasLat.push(l);
  return r;
};
hooked.push("drawImage");

/** Measures for ms: the tile's displayed frames (rVFC if the engine has it, else rAF). */
T.start = (ms, sentWidth) => {
  Object.assign(T, { on: true, done: false, sentWidth, arrivals: 0, b64Bytes: 0, jpegBytes: 0, jpegFrames: 0, b64decode: [], decode: [], draw: [], canvasLat: [], tileLat: [], shown: 0, callbacks: 0, arrivedAt: undefined });
  const video = document.querySelector('[data-testid="remote-video"]');
  const rc = document.createElement("canvas");
  const g = rc.getContext("2d", { willReadFrequently: true });
  let rvfc = typeof video.requestVideoFrameCallback === "function";
  const next = (f) => (rvfc ? video.requestVideoFrameCallback(f) : requestAnimationFrame(f));
  const t0 = now();
  let last = -1;
  T.mode = rvfc ? "requestVideoFrameCallback" : "requestAnimationFrame";
  const onFrame = () => {
    T.callbacks++;
    if (video.videoWidth > 0) {
      const k = video.videoWidth / sentWidth;
      rc.width = Math.ceil(560 * k);
      rc.height = Math.ceil(48 * k);
      g.drawImage(video, 0, 0);
      const stamp = T.readStamp(g.getImageData(0, 0, rc.width, rc.height).data, rc.width, k);
      T.videoSize = video.videoWidth + "x" + video.videoHeight;
      // With rAF a frame stays on screen for several callbacks: count it once, when it appears.
      if (stamp !== last) {
        last = stamp;
        const l = T.latency(stamp);
        if (l !== null) { T.tileLat.push(l); T.shown++; }
      }
    }
    if (T.on) next(onFrame);
  };
  next(onFrame);
  // WebKitGTK has requestVideoFrameCallback, but it may never call back for this stream.
  setTimeout(() => {
    if (T.callbacks > 0 || !rvfc) return;
    rvfc = false;
    T.mode = "requestAnimationFrame (requestVideoFrameCallback never called back)";
    next(onFrame);
  }, 1000);
  // The window ends on a timer, not in a frame callback: a tile that stops painting still ends it.
  setTimeout(() => { T.on = false; T.done = true; T.elapsed = now() - t0; }, ms);
  return T.mode;
};
return hooked;
`;

/** App webview script: the probe's results once its window is over, else null. */
export const probeResult = `
const T = window.__tile;
if (!T || !T.done) return null;
const pick = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const q = (p) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : null);
  return { n: s.length, p50: q(0.5), p95: q(0.95), mean: s.length ? s.reduce((x, y) => x + y, 0) / s.length : null };
};
const sec = T.elapsed / 1000;
return {
  mode: T.mode, videoSize: T.videoSize, seconds: sec,
  arrivalsPerS: T.arrivals / sec, b64BytesPerS: T.b64Bytes / sec,
  paintedPerS: T.jpegFrames / sec, jpegBytesPerFrame: T.jpegFrames ? T.jpegBytes / T.jpegFrames : null,
  tileShownPerS: T.shown / sec, callbacksPerS: T.callbacks / sec,
  tile: pick(T.tileLat), canvas: pick(T.canvasLat),
  b64decode: pick(T.b64decode), decode: pick(T.decode), draw: pick(T.draw),
};
`;
