// A tiny camera clip for Chromium's --use-file-for-fake-video-capture: 640x480 (4:3, unlike
// the 16:9 fake screen), orange with a moving white bar, so the far side can tell camera from
// screen share by both shape and colour.
import { writeFileSync } from "node:fs";

/**
 * Writes a looping Y4M clip to `path`.
 * @param {string} path
 * @param {{ width?: number, height?: number, frames?: number }} [opts]
 */
export function writeCameraClip(path, opts = {}) {
  const w = opts.width ?? 640;
  const h = opts.height ?? 480;
  const frames = opts.frames ?? 15;
  const parts = [Buffer.from(`YUV4MPEG2 W${w} H${h} F15:1 Ip A1:1 C420jpeg\n`)];
  for (let f = 0; f < frames; f++) {
    const y = Buffer.alloc(w * h, 110);
    const bar = Math.floor((f / frames) * w);
    for (let r = 0; r < h; r++) y.fill(235, r * w + bar, r * w + Math.min(w, bar + 40));
    const u = Buffer.alloc((w / 2) * (h / 2), 90);
    const v = Buffer.alloc((w / 2) * (h / 2), 200);
    parts.push(Buffer.from("FRAME\n"), y, u, v);
  }
  writeFileSync(path, Buffer.concat(parts));
}
