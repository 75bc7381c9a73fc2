// Generated from src-tauri/crates/protocol by `make protocol-ts`. Do not edit.

export const PROTOCOL_VERSION = 1;
export const MAX_FRAME_BYTES = 65536;
export const ROOM_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const ROOM_CODE_LEN = 8;
/** A room code, shown as XXXX-XXXX. */
export type RoomCode = string;

export type PeerId = string;

export type KnockId = string;

export type IceServer = { 
/**
 * `stun:`, `turn:` or `turns:` URLs.
 */
urls: Array<string>, 
/**
 * TURN user name (for REST credentials, `expiry:peerId`).
 */
username?: string, 
/**
 * TURN password.
 */
credential?: string, };

export type ServerMode = "public" | "device";

export type Media = "audio" | "video";

export type LeaveReason = "left" | "dropped";

export type Resume = { 
/**
 * The peer id from the earlier `welcome`.
 */
peerId: PeerId, 
/**
 * The secret `resumeToken` from the earlier `welcome`.
 */
token: string, };

export type ErrorCode = "bad-json" | "unknown-type" | "bad-message" | "binary-frame" | "too-large" | "rate-limited" | "need-hello" | "bad-version" | "not-in-room" | "already-in-room" | "no-such-peer" | "forbidden" | "bad-token" | "no-such-knock" | "unavailable";

export type ClientMessage = { "type": "hello", 
/**
 * Protocol version the client speaks ([`crate::PROTOCOL_VERSION`]).
 */
version: number, 
/**
 * Device mode: the owner's secret token; absent for everyone else.
 */
token?: string, 
/**
 * Reclaim an earlier connection's identity and room.
 */
resume?: Resume, } | { "type": "create", } | { "type": "join", 
/**
 * The code as typed (case, dashes and look-alikes are forgiven).
 */
code: string, } | { "type": "leave", } | { "type": "signal", 
/**
 * The receiving peer.
 */
to: PeerId, 
/**
 * Passed through untouched.
 */
data: unknown, } | { "type": "ping", } | { "type": "pong", } | { "type": "knock", 
/**
 * Caller's display name.
 */
name: string, 
/**
 * Caller's stable device id (or a browser's random id).
 */
device: string, 
/**
 * Kind of call asked for.
 */
media: Media, } | { "type": "accept", 
/**
 * The knock being answered.
 */
knock: KnockId, } | { "type": "decline", 
/**
 * The knock being answered.
 */
knock: KnockId, } | { "type": "cancel", };

export type ServerMessage = { "type": "welcome", 
/**
 * Protocol version the server speaks.
 */
version: number, 
/**
 * Server software name and version, e.g. `parley-server/0.1.0`.
 */
server: string, 
/**
 * What this server is for.
 */
mode: ServerMode, 
/**
 * Your id on this server.
 */
peerId: PeerId, 
/**
 * Secret that lets a reconnect reclaim `peerId` (see `hello.resume`).
 */
resumeToken: string, 
/**
 * STUN/TURN servers for your `RTCPeerConnection`, credentials included.
 */
iceServers: Array<IceServer>, 
/**
 * Device mode: true if your token made you the owner.
 */
owner: boolean, 
/**
 * True if `hello.resume` was honoured; a `joined` for the room follows.
 */
resumed: boolean, } | { "type": "created", 
/**
 * The room's code, shown as `XXXX-XXXX`.
 */
code: RoomCode, 
/**
 * Most members the room takes.
 */
capacity: number, } | { "type": "joined", 
/**
 * The room's code.
 */
code: RoomCode, 
/**
 * Members already present, oldest first.
 */
peers: Array<PeerId>, 
/**
 * Most members the room takes.
 */
capacity: number, } | { "type": "full", 
/**
 * The code asked for.
 */
code: string, } | { "type": "no-such-room", 
/**
 * The code asked for.
 */
code: string, } | { "type": "peer-joined", 
/**
 * The newcomer.
 */
peer: PeerId, } | { "type": "peer-left", 
/**
 * Who left.
 */
peer: PeerId, 
/**
 * Whether it said goodbye or dropped.
 */
reason: LeaveReason, } | { "type": "left", } | { "type": "signal", 
/**
 * The sending peer.
 */
from: PeerId, 
/**
 * Passed through untouched.
 */
data: unknown, } | { "type": "ping", } | { "type": "pong", } | { "type": "incoming", 
/**
 * Use this id to accept or decline.
 */
knock: KnockId, 
/**
 * Caller's display name.
 */
name: string, 
/**
 * Caller's device id.
 */
device: string, 
/**
 * Kind of call asked for.
 */
media: Media, } | { "type": "ringing", 
/**
 * Your knock's id.
 */
knock: KnockId, } | { "type": "declined", } | { "type": "unavailable", } | { "type": "cancelled", 
/**
 * The knock that went away.
 */
knock: KnockId, } | { "type": "bye", 
/**
 * Human-readable reason.
 */
reason: string, } | { "type": "error", 
/**
 * What went wrong, for programs.
 */
code: ErrorCode, 
/**
 * What went wrong, for people (English).
 */
message: string, };

export type DeviceInfo = { 
/**
 * Stable device id (persisted across restarts).
 */
id: string, 
/**
 * Display name, any UTF-8.
 */
name: string, 
/**
 * Protocol version the device speaks.
 */
version: number, 
/**
 * App version, e.g. `0.1.0`.
 */
app: string, 
/**
 * Operating system, e.g. `linux`, `android`.
 */
os: string, };
