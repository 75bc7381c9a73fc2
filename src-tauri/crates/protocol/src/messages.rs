//! Every message of protocol v1, in both directions.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use crate::RoomCode;

/// A connection's identity within one server, assigned in `welcome`.
///
/// Peer ids are opaque, unguessable strings. Perfect negotiation picks the polite side by
/// comparing them: the peer whose id sorts lower is polite.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(transparent)]
pub struct PeerId(pub String);

/// A pending knock on a device server, as named to its owner.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(transparent)]
pub struct KnockId(pub String);

/// One STUN or TURN server, in the shape `RTCPeerConnection` takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct IceServer {
    /// `stun:`, `turn:` or `turns:` URLs.
    pub urls: Vec<String>,
    /// TURN user name (for REST credentials, `expiry:peerId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub username: Option<String>,
    /// TURN password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub credential: Option<String>,
}

/// What a server is for: rooms by code on the internet, or one device's doorbell on a LAN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum ServerMode {
    /// `parley-server`: anyone may create and join rooms by code.
    Public,
    /// A device's embedded server: strangers may only knock; its owner answers.
    Device,
}

/// Kind of call a knock asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum Media {
    /// Audio only.
    Audio,
    /// Audio and video.
    Video,
}

/// Why a peer left a room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum LeaveReason {
    /// It sent `leave`.
    Left,
    /// Its connection closed or timed out.
    Dropped,
}

/// Asks to take over an earlier connection's peer id and room after a reconnect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Resume {
    /// The peer id from the earlier `welcome`.
    pub peer_id: PeerId,
    /// The secret `resumeToken` from the earlier `welcome`.
    pub token: String,
}

/// Messages a client sends to a signaling server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ClientMessage {
    /// First message on every connection.
    #[serde(rename_all = "camelCase")]
    Hello {
        /// Protocol version the client speaks ([`crate::PROTOCOL_VERSION`]).
        version: u32,
        /// Device mode: the owner's secret token; absent for everyone else.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        token: Option<String>,
        /// Reclaim an earlier connection's identity and room.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        resume: Option<Resume>,
    },
    /// Public mode: make a new room and enter it.
    Create {},
    /// Public mode: enter an existing room by code.
    Join {
        /// The code as typed (case, dashes and look-alikes are forgiven).
        code: String,
    },
    /// Leave the current room.
    Leave {},
    /// Relay an opaque payload (SDP, ICE candidate, ...) to another member of the room.
    Signal {
        /// The receiving peer.
        to: PeerId,
        /// Passed through untouched.
        #[ts(type = "unknown")]
        data: Value,
    },
    /// Application-level keep-alive; answered by `pong`.
    Ping {},
    /// Answer to a server `ping`.
    Pong {},
    /// Device mode: ask the owner for a call.
    Knock {
        /// Caller's display name.
        name: String,
        /// Caller's stable device id (or a browser's random id).
        device: String,
        /// Kind of call asked for.
        media: Media,
    },
    /// Device mode, owner only: take the call.
    Accept {
        /// The knock being answered.
        knock: KnockId,
    },
    /// Device mode, owner only: refuse the call.
    Decline {
        /// The knock being answered.
        knock: KnockId,
    },
    /// Device mode: the caller withdraws its knock.
    Cancel {},
}

/// Messages a signaling server sends to a client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ServerMessage {
    /// Answer to `hello`.
    #[serde(rename_all = "camelCase")]
    Welcome {
        /// Protocol version the server speaks.
        version: u32,
        /// Server software name and version, e.g. `parley-server/0.1.0`.
        server: String,
        /// What this server is for.
        mode: ServerMode,
        /// Your id on this server.
        peer_id: PeerId,
        /// Secret that lets a reconnect reclaim `peerId` (see `hello.resume`).
        resume_token: String,
        /// STUN/TURN servers for your `RTCPeerConnection`, credentials included.
        ice_servers: Vec<IceServer>,
        /// Device mode: true if your token made you the owner.
        owner: bool,
        /// True if `hello.resume` was honoured; a `joined` for the room follows.
        resumed: bool,
    },
    /// A room was made for you and you are in it.
    Created {
        /// The room's code, shown as `XXXX-XXXX`.
        code: RoomCode,
        /// Most members the room takes.
        capacity: u8,
    },
    /// You are in the room; these others were already there.
    Joined {
        /// The room's code.
        code: RoomCode,
        /// Members already present, oldest first.
        peers: Vec<PeerId>,
        /// Most members the room takes.
        capacity: u8,
    },
    /// The room has no free place.
    Full {
        /// The code asked for.
        code: String,
    },
    /// No room has that code (a mistyped code never creates one).
    NoSuchRoom {
        /// The code asked for.
        code: String,
    },
    /// Someone entered your room.
    PeerJoined {
        /// The newcomer.
        peer: PeerId,
    },
    /// Someone left your room.
    PeerLeft {
        /// Who left.
        peer: PeerId,
        /// Whether it said goodbye or dropped.
        reason: LeaveReason,
    },
    /// Your `leave` took effect.
    Left {},
    /// A payload relayed from another member.
    Signal {
        /// The sending peer.
        from: PeerId,
        /// Passed through untouched.
        #[ts(type = "unknown")]
        data: Value,
    },
    /// Keep-alive from the server; answer with `pong`.
    Ping {},
    /// Answer to your `ping`.
    Pong {},
    /// Device mode, to the owner: someone is calling.
    Incoming {
        /// Use this id to accept or decline.
        knock: KnockId,
        /// Caller's display name.
        name: String,
        /// Caller's device id.
        device: String,
        /// Kind of call asked for.
        media: Media,
    },
    /// Device mode, to the caller: the owner's device is ringing.
    Ringing {
        /// Your knock's id.
        knock: KnockId,
    },
    /// Device mode, to the caller: the owner declined.
    Declined {},
    /// Device mode, to the caller: nobody is there to answer (no owner connected, or busy).
    Unavailable {},
    /// Device mode, to the owner: the caller withdrew or dropped before an answer.
    Cancelled {
        /// The knock that went away.
        knock: KnockId,
    },
    /// The server is going away (shutdown); reconnect later.
    Bye {
        /// Human-readable reason.
        reason: String,
    },
    /// Something you sent was refused; the connection stays open unless said otherwise.
    Error {
        /// What went wrong, for programs.
        code: ErrorCode,
        /// What went wrong, for people (English).
        message: String,
    },
}

/// Machine-readable reasons in `error` messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// The frame is not JSON.
    BadJson,
    /// The `type` is not a message this server knows.
    UnknownType,
    /// Known `type`, but fields are missing or of the wrong kind.
    BadMessage,
    /// Binary frames are not part of the protocol.
    BinaryFrame,
    /// The frame is larger than the limit.
    TooLarge,
    /// Too many messages or join attempts; slow down.
    RateLimited,
    /// The first message must be `hello`, and only once.
    NeedHello,
    /// The client's protocol version is not supported.
    BadVersion,
    /// A message that needs a room was sent outside one.
    NotInRoom,
    /// Already in a room; `leave` first.
    AlreadyInRoom,
    /// The addressed peer is not in your room.
    NoSuchPeer,
    /// The message is not allowed for this connection (wrong mode, not the owner).
    Forbidden,
    /// The owner token was wrong.
    BadToken,
    /// No pending knock has that id, or you have no knock to cancel.
    NoSuchKnock,
    /// The server cannot serve this request right now; try again.
    Unavailable,
}

/// What a device says about itself at `GET /device` on its embedded server (and, in short, in
/// its mDNS TXT record).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfo {
    /// Stable device id (persisted across restarts).
    pub id: String,
    /// Display name, any UTF-8.
    pub name: String,
    /// Protocol version the device speaks.
    pub version: u32,
    /// App version, e.g. `0.1.0`.
    pub app: String,
    /// Operating system, e.g. `linux`, `android`.
    pub os: String,
}

/// Body of `POST /introduce` on a device server: a device that has just started says "I am
/// device `id`, my server listens on `port` at the address this request comes from". The
/// receiver checks it with `GET /device` at that source address before listing it, so the body
/// alone proves nothing. Lets a newcomer be listed before its mDNS probing ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Introduction {
    /// The sender's stable device id (what its `GET /device` must report).
    pub id: String,
    /// TCP port of the sender's signaling server.
    pub port: u16,
}
