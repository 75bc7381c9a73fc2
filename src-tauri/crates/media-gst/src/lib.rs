//! Parley's native WebRTC engine: GStreamer's `webrtcbin` behind the shape of the browser's
//! `RTCPeerConnection`, for webviews that have no WebRTC (WebKitGTK on Linux).
//!
//! A [`PeerConnection`] owns one pipeline: capture (test sources, cameras, microphones, the
//! screen) -> VP8 or H.264 / Opus -> webrtcbin (max-bundle, trickle ICE, negotiated data channels) ->
//! decodebin -> speaker and a frame sink. Everything it has to say arrives as [`PeerEvent`]s on
//! a bounded channel; errors are [`EngineError`]s with stable codes, and nothing panics on
//! input from the network or the UI.

mod adapt;
mod bus;
mod codec;
mod datachannel;
pub mod devices;
mod error;
mod ice;
mod latency;
mod media;
mod options;
mod peer;
mod receive_only;
mod sdp;
pub mod stamp;
mod stats;
mod stats_shape;
mod switch;
mod types;
pub mod verify;
mod video_send;

pub use codec::VideoCodec;
pub use datachannel::ChannelInit;
pub use error::EngineError;
pub use options::{AudioOutput, AudioSource, MediaOptions, VideoSource};
pub use peer::{PeerConnection, init};
pub use types::{
    ConnectionState, IceCandidate, MediaKind, PeerEvent, SdpKind, SessionDescription,
    SignalingState, VideoFrame, VideoOutput,
};
