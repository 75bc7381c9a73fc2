//! What a peer connection captures, sends and plays.

use serde::{Deserialize, Serialize};

use crate::codec::VideoCodec;
use crate::types::VideoOutput;

/// Where local video comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum VideoSource {
    /// `videotestsrc` (tests, benchmarks); `pattern` is a videotestsrc pattern nick.
    Test {
        /// e.g. `ball`, `smpte`.
        pattern: String,
    },
    /// A camera from [`crate::devices`] by its id, or the first camera GStreamer lists.
    Camera {
        /// Device id from the device list; `None` for the default camera.
        id: Option<String>,
    },
    /// The X11 screen (`ximagesrc`).
    Screen,
    /// No video is sent.
    None,
}

/// Where local audio comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AudioSource {
    /// `audiotestsrc` sine wave (tests).
    Test {
        /// Tone in Hz.
        freq: u32,
    },
    /// A microphone by device id, or the first microphone GStreamer lists.
    Microphone {
        /// Device id; `None` for the default microphone.
        id: Option<String>,
    },
    /// No audio is sent.
    None,
}

/// Where remote audio plays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AudioOutput {
    /// The default speaker (`autoaudiosink`), or a device by id.
    Speaker {
        /// Device id; `None` for the default.
        id: Option<String>,
    },
    /// Decoded and measured, not played (tests, headless).
    Discard,
}

/// Everything a peer connection needs to know up front.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MediaOptions {
    /// STUN/TURN URLs as the browser takes them (`stun:host:port`, `turn://user:pass@host:port`).
    pub stun_server: Option<String>,
    /// TURN server in webrtcbin's form `turn://user:password@host:port`.
    pub turn_servers: Vec<String>,
    /// Local video.
    pub video: VideoSource,
    /// Local audio.
    pub audio: AudioSource,
    /// Remote audio.
    pub audio_output: AudioOutput,
    /// Remote video frames out.
    pub video_output: VideoOutput,
    /// Capture width.
    pub width: u32,
    /// Capture height.
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// Video target bit rate.
    pub video_kbps: u32,
    /// Video codecs to offer and accept, most preferred first; those this GStreamer lacks are
    /// left out (VP8 is always there).
    pub video_codecs: Vec<VideoCodec>,
    /// Echo cancellation and noise suppression on the microphone path (`webrtcdsp`).
    pub audio_processing: bool,
    /// Draws the wall clock (ms) into each sent frame as a bar code (latency benchmark).
    pub stamp_clock: bool,
    /// Jitter buffer latency on the receive side, in ms.
    pub receive_latency_ms: u32,
    /// Sends a smaller picture while the encoder cannot keep up with the camera, and the
    /// configured size again once it can (as browsers do); see `adapt.rs`.
    pub adapt_video_size: bool,
    /// Test and benchmark knob, 0 in the product: holds every frame this long before the video
    /// encoder, standing in for a CPU too slow to encode at the configured size.
    pub encoder_delay_ms: u32,
}

impl Default for MediaOptions {
    fn default() -> Self {
        Self {
            stun_server: None,
            turn_servers: Vec::new(),
            video: VideoSource::Camera { id: None },
            audio: AudioSource::Microphone { id: None },
            audio_output: AudioOutput::Speaker { id: None },
            video_output: VideoOutput::Jpeg,
            width: 640,
            height: 480,
            fps: 30,
            video_kbps: 1500,
            video_codecs: vec![VideoCodec::Vp8, VideoCodec::H264],
            audio_processing: true,
            stamp_clock: false,
            receive_latency_ms: 50,
            adapt_video_size: true,
            encoder_delay_ms: 0,
        }
    }
}
