/**
 * How the native adapter reaches the app's Rust engine: commands (`invoke`) and one event stream
 * per peer connection, over the app's IPC (`../ipc.ts`); tests pass a fake.
 */
import { appIpc } from "../ipc";

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

/**
 * The app's bridge, or `null` outside the Tauri app. Its channels are the app IPC's ordered
 * ones: Tauri fetches messages of 8 KiB or more separately, so a video frame or file chunk
 * could otherwise overtake the small events sent after it.
 */
export function tauriBridge(): NativeBridge | null {
  return appIpc();
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
