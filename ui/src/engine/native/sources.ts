/**
 * What a browser track stands for when the native engine is asked to send it: the engine
 * captures by itself, so a track only names a device (by label: WebKitGTK and GStreamer both
 * name devices as GStreamer's device monitor does) or the screen.
 */

/** The engine's source request (src-tauri/src/native_engine.rs `SourceRequest`). */
export type SourceRequest =
  | { kind: "camera"; label: string | null }
  | { kind: "microphone"; label: string | null }
  | { kind: "screen" };

/** Tracks that stand for the screen (made by {@link screenPlaceholder}). */
const screenTracks = new WeakSet<MediaStreamTrack>();

/** The source `track` asks for. */
export function sourceOf(track: MediaStreamTrack): SourceRequest {
  if (screenTracks.has(track)) return { kind: "screen" };
  const label = track.label || null;
  return track.kind === "audio" ? { kind: "microphone", label } : { kind: "camera", label };
}

/** A stable key, so sending the same device again does not restart its capture. */
export function sourceKey(s: SourceRequest): string {
  return s.kind === "screen" ? "screen" : `${s.kind}:${s.label ?? ""}`;
}

/**
 * `getDisplayMedia` for webviews that lack it while the native engine shares the screen: the
 * returned track is a local placeholder (a canvas saying so) that the adapter recognises.
 */
export async function screenPlaceholder(): Promise<MediaStream> {
  const canvas = document.createElement("canvas");
  canvas.width = 640;
  canvas.height = 360;
  const g = canvas.getContext("2d");
  if (g) {
    g.fillStyle = "#1d2433";
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.fillStyle = "#e8ecf4";
    g.font = "28px sans-serif";
    g.textAlign = "center";
    g.fillText("🖥", canvas.width / 2, canvas.height / 2);
  }
  const stream = canvas.captureStream(1);
  for (const t of stream.getVideoTracks()) screenTracks.add(t);
  return stream;
}
