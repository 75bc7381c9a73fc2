/**
 * Feature detection: where the webview has no `RTCPeerConnection` but the app's backend offers
 * the native engine, calls run on it. Called once at start-up.
 */
import { registerNativeEngine } from "../peer";
import { tauriBridge, type NativeBridge } from "./bridge";
import { asNativeFailure, bannerCode, reportNativeFailure } from "./errors";
import { nativeFactory } from "./peer-connection";
import { screenPlaceholder } from "./sources";

/** Registers the native engine if it is needed and available; returns whether it did. */
export async function registerNativeEngineIfAvailable(bridge: NativeBridge | null = tauriBridge()): Promise<boolean> {
  if (typeof RTCPeerConnection === "function" || !bridge) return false;
  try {
    const available = await bridge.invoke<boolean>("native_available");
    if (!available) return false;
  } catch (err) {
    // A GStreamer plugin missing on this machine: say which package to install. Anything
    // else means an app build without the engine, which calls will report as "no WebRTC".
    const failure = asNativeFailure(err);
    if (bannerCode(failure.code)) reportNativeFailure(failure);
    return false;
  }
  registerNativeEngine(nativeFactory(bridge));
  // The engine shares the screen itself (ximagesrc): the webview's own getDisplayMedia (absent,
  // or a mock one in tests) would only produce a track the engine cannot send. Defined on the
  // prototype: a property set on `navigator.mediaDevices` itself was gone by the time of the
  // call in WebKitGTK (the object's JS wrapper is collected and made anew without it).
  const devices = (globalThis.navigator as Navigator | undefined)?.mediaDevices;
  const proto: object | null = devices ? (Object.getPrototypeOf(devices) as object | null) : null;
  if (proto) {
    Object.defineProperty(proto, "getDisplayMedia", { value: () => screenPlaceholder(), configurable: true, writable: true });
  }
  return true;
}
