//! Receive-only transceivers for a kind this side does not send (no microphone, no camera), so
//! our first offer already has an m-line for the remote's audio or video. Without one a browser
//! must add it by renegotiating right after the call starts; against Chromium that failed the
//! call's DTLS about half the time when the engine had made the offer (benchmark runs with
//! `--no-audio`, before and after the H.264 work alike).

use gst::prelude::*;
use gst_webrtc::{WebRTCRTPTransceiver, WebRTCRTPTransceiverDirection};

use crate::codec::{self, VideoCodec};
use crate::media;

/// The receive-only transceivers of one connection, if any.
#[derive(Default)]
pub(crate) struct ReceiveOnly {
    audio: Option<WebRTCRTPTransceiver>,
    video: Option<(WebRTCRTPTransceiver, Vec<VideoCodec>)>,
}

fn add(webrtc: &gst::Element, caps: &gst::Caps) -> Option<WebRTCRTPTransceiver> {
    let t = webrtc.emit_by_name::<Option<WebRTCRTPTransceiver>>(
        "add-transceiver",
        &[&WebRTCRTPTransceiverDirection::Recvonly, caps],
    );
    if t.is_none() {
        tracing::warn!("webrtcbin refused a receive-only transceiver for {caps}");
    }
    t
}

fn video_caps(codecs: impl IntoIterator<Item = (VideoCodec, u32)>) -> gst::Caps {
    codecs
        .into_iter()
        .map(|(c, pt)| c.rtp_caps(pt))
        .collect::<gst::Caps>()
}

impl ReceiveOnly {
    /// Adds an audio transceiver when `audio` is false and a video one when `video` is false.
    pub(crate) fn add(
        webrtc: &gst::Element,
        audio: bool,
        video: bool,
        wanted: &[VideoCodec],
    ) -> Self {
        let audio = (!audio)
            .then(|| add(webrtc, &media::opus_caps(media::OPUS_PT)))
            .flatten();
        let video = (!video)
            .then(|| {
                let codecs = codec::available(wanted);
                let caps = video_caps(codecs.iter().map(|c| (*c, c.default_payload_type())));
                add(webrtc, &caps).map(|t| (t, codecs))
            })
            .flatten();
        Self { audio, video }
    }

    /// Before a remote offer is applied: accept its codecs under its payload numbers.
    pub(crate) fn follow_offer(&self, sdp: &str) {
        if let Some(t) = &self.audio
            && let Some(pt) = crate::sdp::payload_type(sdp, "opus/48000")
        {
            t.set_property("codec-preferences", media::opus_caps(pt));
        }
        if let Some((t, codecs)) = &self.video {
            let found = codec::in_sdp(sdp, codecs);
            if !found.is_empty() {
                t.set_property("codec-preferences", video_caps(found));
            }
        }
    }
}
