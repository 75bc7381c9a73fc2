/**
 * How the native adapter reaches the app's Rust engine: commands (`invoke`) and one event stream
 * per peer connection. The Tauri implementation uses the webview's IPC internals directly, so
 * the UI needs no extra package; tests pass a fake.
 */

/** Something the Rust engine reports for one peer connection (see src-tauri/src/native_engine.rs). */
export type NativeEvent =
  | { type: "candidate"; candidate: RTCIceCandidateInit | null }
  | { type: "connectionState"; state: RTCPeerConnectionState }
  | { type: "iceConnectionState"; state: RTCIceConnectionState }
  | { type: "signalingState"; state: RTCSignalingState }
  | { type: "negotiationNeeded" }
  | { type: "track"; kind: "audio" | "video" }
  | { type: "channelOpen"; id: number }
  | { type: "channelClosed"; id: number }
  | { type: "channelText"; id: number; text: string }
  | { type: "channelBinary"; id: number; base64: string }
  | { type: "channelBufferedAmountLow"; id: number; bufferedAmount: number }
  | { type: "frame"; width: number; height: number; jpegBase64: string }
  | { type: "error"; code: string; message: string; detail?: string | null };

/** Commands and events of the native engine. */
export interface NativeBridge {
  invoke<T>(command: string, args?: Record<string, unknown>): Promise<T>;
  /** A handler that receives this connection's events; pass the returned value as `events`. */
  channel(handler: (event: NativeEvent) => void): unknown;
}

/** The part of `window.__TAURI_INTERNALS__` the UI uses. */
export interface TauriInternals {
  invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  transformCallback(cb: (message: unknown) => void, once?: boolean): number;
}

/** The webview's Tauri IPC internals, or `null` outside the app (the one place that detects it). */
export function internals(): TauriInternals | null {
  const w = globalThis as unknown as { __TAURI_INTERNALS__?: Partial<TauriInternals> };
  const t = w.__TAURI_INTERNALS__;
  return t && typeof t.invoke === "function" && typeof t.transformCallback === "function" ? (t as TauriInternals) : null;
}

/** The app's bridge, or `null` outside the Tauri app. */
export function tauriBridge(): NativeBridge | null {
  const t = internals();
  if (!t) return null;
  return {
    invoke: (command, args) => t.invoke(command, args),
    channel(handler) {
      // Tauri's `Channel` wire form: a callback id the backend's `ipc::Channel` sends to. Newer
      // Tauri wraps each message as { index, message }; plain messages are accepted too.
      const id = t.transformCallback((raw) => {
        const m = raw as { message?: unknown };
        handler((typeof m.message === "object" && m.message !== null ? m.message : raw) as NativeEvent);
      });
      return `__CHANNEL__:${id}`;
    },
  };
}

/** Base64 <-> bytes without Node's Buffer. */
export function fromBase64(b64: string): ArrayBuffer {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

/** Bytes -> base64. */
export function toBase64(bytes: Uint8Array): string {
  let bin = "";
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) bin += String.fromCharCode(...bytes.subarray(i, i + step));
  return btoa(bin);
}
