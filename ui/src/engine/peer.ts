/**
 * The peer-connection seam. Calls use only this subset of `RTCPeerConnection`, so an engine that
 * is not the browser's (the app's native GStreamer adapter on webviews without WebRTC) can be
 * plugged in with the same shape. Adapters must support implicit rollback in
 * `setRemoteDescription` and argument-less `setLocalDescription`, as current browsers do.
 */
export type PeerConnectionLike = Pick<
  RTCPeerConnection,
  | "addTrack"
  | "addIceCandidate"
  | "close"
  | "connectionState"
  | "createDataChannel"
  | "currentRemoteDescription"
  | "getSenders"
  | "getStats"
  | "iceConnectionState"
  | "localDescription"
  | "remoteDescription"
  | "restartIce"
  | "sctp"
  | "setLocalDescription"
  | "setRemoteDescription"
  | "signalingState"
  | "addEventListener"
  | "removeEventListener"
>;

/** Makes peer connections. */
export type PeerConnectionFactory = (config: RTCConfiguration) => PeerConnectionLike;

let nativeFactory: PeerConnectionFactory | null = null;

/** Lets the app register its native engine for webviews that lack `RTCPeerConnection`. */
export function registerNativeEngine(factory: PeerConnectionFactory): void {
  nativeFactory = factory;
}

/** Which engine this page would use. */
export function engineKind(): "browser" | "native" | "none" {
  if (typeof RTCPeerConnection === "function") return "browser";
  return nativeFactory ? "native" : "none";
}

/** The engine chosen by feature detection: the browser's WebRTC first, else a native one. */
export function pickPeerConnectionFactory(): PeerConnectionFactory | null {
  if (typeof RTCPeerConnection === "function") {
    return (config) => new RTCPeerConnection(config);
  }
  return nativeFactory;
}
