/**
 * Feature detection: where the webview has no `RTCPeerConnection` but the app's backend offers
 * the native engine, calls run on it. Called once at start-up.
 */
import { registerNativeEngine } from "../peer";
import { tauriBridge, type NativeBridge } from "./bridge";
import { nativeFactory } from "./peer-connection";

/** Registers the native engine if it is needed and available; returns whether it did. */
export async function registerNativeEngineIfAvailable(bridge: NativeBridge | null = tauriBridge()): Promise<boolean> {
  if (typeof RTCPeerConnection === "function" || !bridge) return false;
  try {
    const available = await bridge.invoke<boolean>("native_available");
    if (!available) return false;
  } catch {
    return false; // an app build without the engine
  }
  registerNativeEngine(nativeFactory(bridge));
  return true;
}
