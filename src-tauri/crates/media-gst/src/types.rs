//! Plain data that crosses the engine's boundary (serde, so the app can pass it to the UI).

use serde::{Deserialize, Serialize};

/// `RTCSdpType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SdpKind {
    /// An offer.
    Offer,
    /// An answer.
    Answer,
    /// A provisional answer (not produced by this engine).
    Pranswer,
    /// Undo the pending offer.
    Rollback,
}

/// `RTCSessionDescriptionInit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDescription {
    /// Offer or answer.
    #[serde(rename = "type")]
    pub kind: SdpKind,
    /// The SDP text.
    pub sdp: String,
}

/// `RTCIceCandidateInit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IceCandidate {
    /// The `candidate:...` line.
    pub candidate: String,
    /// Media section id, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_mid: Option<String>,
    /// Media section index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_m_line_index: Option<u32>,
}

/// `RTCSignalingState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignalingState {
    /// No exchange in progress.
    Stable,
    /// Our offer is out.
    HaveLocalOffer,
    /// Their offer is in.
    HaveRemoteOffer,
    /// Provisional answer sent.
    HaveLocalPranswer,
    /// Provisional answer received.
    HaveRemotePranswer,
    /// Closed.
    Closed,
}

/// `RTCPeerConnectionState` (also used for `iceConnectionState`, which adds `checking`/`completed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionState {
    /// Not started.
    New,
    /// ICE checks running.
    Checking,
    /// Connecting (DTLS).
    Connecting,
    /// Working.
    Connected,
    /// ICE finished with a working path.
    Completed,
    /// Path lost, may come back.
    Disconnected,
    /// No path.
    Failed,
    /// Closed.
    Closed,
}

/// Media kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// Audio.
    Audio,
    /// Video.
    Video,
}

/// How decoded remote video leaves the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VideoOutput {
    /// Only counted (tests, benchmarks).
    CountOnly,
    /// RGBA frames.
    Rgba,
    /// JPEG frames (compact for a local channel to a canvas).
    Jpeg,
}

/// One decoded remote video frame.
#[derive(Debug, Clone)]
pub struct VideoFrame {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `rgba` or `jpeg`.
    pub format: VideoOutput,
    /// Pixel or JPEG bytes.
    pub data: Vec<u8>,
}

/// Something the engine tells its owner.
#[derive(Debug, Clone)]
pub enum PeerEvent {
    /// A local ICE candidate to send; `None` ends gathering.
    IceCandidate(Option<IceCandidate>),
    /// `connectionstatechange`.
    ConnectionState(ConnectionState),
    /// `iceconnectionstatechange`.
    IceConnectionState(ConnectionState),
    /// `signalingstatechange`.
    SignalingState(SignalingState),
    /// `negotiationneeded`.
    NegotiationNeeded,
    /// A remote track started (first decoded buffer of this kind).
    Track(MediaKind),
    /// A data channel opened.
    ChannelOpen(u16),
    /// A data channel closed.
    ChannelClosed(u16),
    /// A text message on a data channel.
    ChannelText(u16, String),
    /// A binary message on a data channel.
    ChannelBinary(u16, Vec<u8>),
    /// The channel's buffered amount dropped below its threshold.
    ChannelBufferedAmountLow(u16),
    /// A decoded remote video frame (dropped when the owner is slow).
    VideoFrame(VideoFrame),
    /// The media pipeline failed (device lost, plugin error).
    Error {
        /// Stable code, see [`crate::EngineError::code`].
        code: String,
        /// What happened.
        message: String,
        /// What to act on (package to install, device), see [`crate::EngineError::detail`].
        detail: Option<String>,
    },
}

impl PeerEvent {
    /// The event that reports `error` to the owner.
    pub fn failure(error: &crate::EngineError) -> Self {
        PeerEvent::Error {
            code: error.code().to_owned(),
            message: error.to_string(),
            detail: error.detail(),
        }
    }
}
