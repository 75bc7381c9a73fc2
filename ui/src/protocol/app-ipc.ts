// Generated from the app's Rust types (src-tauri/src/ipc_types.rs) by `make protocol-ts`. Do not edit.

export type Settings = { 
/**
 * Stable random id of this device, advertised over mDNS; never changes once stored.
 */
deviceId: string, 
/**
 * Name other devices see; defaults to the host name.
 */
displayName: string, 
/**
 * UI language as a BCP 47 tag; `None` follows the system.
 */
language: string | null, 
/**
 * Chosen camera (`MediaDeviceInfo.deviceId`); `None` is the system default.
 */
camera: string | null, 
/**
 * Chosen microphone; `None` is the system default.
 */
microphone: string | null, 
/**
 * Chosen speaker; `None` is the system default.
 */
speaker: string | null, 
/**
 * Whether this device advertises itself on the LAN.
 */
discoverable: boolean, 
/**
 * STUN URLs (`stun:` or `stuns:`) for internet calls, after the server's own from
 * `welcome`; starts as [`DEFAULT_STUN_SERVERS`], and an emptied list stays empty.
 */
stunServers: Array<string>, 
/**
 * TURN relays for internet calls when no direct path exists.
 */
turnServers: Array<TurnServer>, 
/**
 * Signaling server for internet rooms (`ws://`, `wss://`, `http://` or `https://`).
 */
serverUrl: string | null, 
/**
 * Answer incoming calls without asking; off unless the user turns it on.
 */
autoAnswer: boolean, 
/**
 * Devices added by address (`host:port` as typed), oldest first, listed again at every
 * start. Only `add_peer` changes it; `save_settings` keeps the stored list.
 */
addedDevices: Array<string>, };

export type TurnServer = { 
/**
 * `turn:` or `turns:` URLs of the relay.
 */
urls: Array<string>, 
/**
 * Long-term credential user name.
 */
username: string, 
/**
 * Long-term credential password.
 */
credential: string, };

export type AppDeviceInfo = { 
/**
 * Stable device id (also in the mDNS TXT record).
 */
deviceId: string, 
/**
 * Name other devices see.
 */
displayName: string, 
/**
 * `linux`, `windows`, `macos`, `android` or `ios`.
 */
platform: string, 
/**
 * App version from Cargo.toml.
 */
appVersion: string, 
/**
 * Signaling protocol version this build speaks.
 */
protocolVersion: number, 
/**
 * What the webview reported, once it has.
 */
webview: WebviewFeatures | null, 
/**
 * Engine calls will use.
 */
mediaEngine: MediaEngine, 
/**
 * Problems found (and repaired) in the settings file at start-up, to show once.
 */
settingsWarnings: Array<string>, };

export type WebviewFeatures = { 
/**
 * `window.RTCPeerConnection` is a constructor.
 */
rtcPeerConnection: boolean, 
/**
 * `navigator.mediaDevices.getUserMedia` exists.
 */
getUserMedia: boolean, };

export type MediaEngine = "unknown" | "webview" | "native-unavailable";

export type CommandError = { 
/**
 * `invalid-setting`, `storage`, `node-unavailable` or `add-peer-failed`.
 */
code: string, 
/**
 * Human-readable detail.
 */
message: string, 
/**
 * The offending field's JSON key, for `invalid-setting`.
 */
field?: string, };

export type OwnerSession = { 
/**
 * WebSocket URL of this device's server, on loopback.
 */
url: string, 
/**
 * Port the server listens on (other devices use it with this machine's addresses).
 */
port: number, 
/**
 * Secret that makes a connection this device's owner; new at every launch.
 */
token: string, };

export type Peer = { 
/**
 * Stable device id (TXT `id`, or `GET /device`).
 */
id: string, 
/**
 * Display name, any UTF-8.
 */
name: string, 
/**
 * Addresses of its signaling server, best first (IPv4, global IPv6, link-local IPv6).
 */
addresses: Array<string>, 
/**
 * TCP port of its signaling server.
 */
port: number, 
/**
 * Protocol version it speaks; `None` if it did not say.
 */
version: number | null, 
/**
 * Whether its protocol version is the one this build speaks. Incompatible peers are listed
 * (so the user sees them and can be told to update) but cannot be called.
 */
compatible: boolean, 
/**
 * App version, e.g. `0.1.0` (empty if unknown).
 */
app: string, 
/**
 * Platform, e.g. `linux`, `android` (empty if unknown).
 */
os: string, 
/**
 * How it was found.
 */
source: PeerSource, 
/**
 * When it last answered (mDNS record or `/healthz`), in milliseconds since the Unix epoch.
 */
lastSeenMs: number, };

export type PeerSource = "mdns" | "manual" | "introduced";

export type RemoveReason = "goodbye" | "unreachable";

export type PeerEvent = { "event": "added", 
/**
 * The device as now listed.
 */
peer: Peer, } | { "event": "updated", 
/**
 * The device as now listed.
 */
peer: Peer, } | { "event": "removed", 
/**
 * The device as it was last listed.
 */
peer: Peer, 
/**
 * Why it left.
 */
reason: RemoveReason, };

export type PeerListEvent = { "event": "resync", 
/**
 * How many.
 */
missed: number, };

export type TransportEvent = { "kind": "open" } | { "kind": "text", 
/**
 * The frame, as JSON text.
 */
text: string, } | { "kind": "closed", 
/**
 * Why, in words for logs.
 */
reason: string, };
