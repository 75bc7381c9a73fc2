//! Video codecs: which ones this GStreamer can send and receive, their RTP caps, their encoders,
//! and how to find them in an SDP.

use gst::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, make};
use crate::options::MediaOptions;

/// A video codec the engine can negotiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoCodec {
    /// VP8 (`vp8enc` / `vp8dec`).
    Vp8,
    /// H.264 constrained baseline, packetization-mode 1 (`openh264enc`, `avdec_h264` or
    /// `openh264dec`).
    H264,
}

/// The only H.264 flavour offered and accepted: constrained baseline, level 3.1, which every
/// browser decodes and `openh264enc` produces.
pub(crate) const H264_PROFILE_LEVEL_ID: &str = "42e01f";

impl VideoCodec {
    /// RTP encoding name as in `a=rtpmap`.
    pub(crate) fn encoding_name(self) -> &'static str {
        match self {
            VideoCodec::Vp8 => "VP8",
            VideoCodec::H264 => "H264",
        }
    }

    /// Payload type in our own offers.
    pub(crate) fn default_payload_type(self) -> u32 {
        match self {
            VideoCodec::Vp8 => 96,
            VideoCodec::H264 => 102,
        }
    }

    /// Elements needed to send and receive this codec, with one of each inner list sufficing.
    fn needed_elements(self) -> &'static [&'static [&'static str]] {
        match self {
            VideoCodec::Vp8 => &[&["vp8enc"], &["rtpvp8pay"], &["rtpvp8depay"], &["vp8dec"]],
            VideoCodec::H264 => &[
                &["openh264enc"],
                &["rtph264pay"],
                &["rtph264depay"],
                &["h264parse"],
                &["avdec_h264", "openh264dec"],
            ],
        }
    }

    /// The GStreamer elements this codec needs that are not installed.
    pub(crate) fn missing_elements(self) -> Vec<&'static str> {
        self.needed_elements()
            .iter()
            .filter(|any| {
                !any.iter()
                    .any(|name| gst::ElementFactory::find(name).is_some())
            })
            .map(|any| any[0])
            .collect()
    }

    /// RTP caps for webrtcbin's sink pad: what an offer or answer lists for this codec, and
    /// what the payloader then sends (it adopts `profile-level-id` from them).
    pub(crate) fn rtp_caps(self, pt: u32) -> gst::Structure {
        let b = gst::Structure::builder("application/x-rtp")
            .field("media", "video")
            .field("encoding-name", self.encoding_name())
            .field("clock-rate", 90000i32)
            .field("payload", pt as i32);
        match self {
            VideoCodec::Vp8 => b.build(),
            VideoCodec::H264 => b
                .field("packetization-mode", "1")
                .field("profile-level-id", H264_PROFILE_LEVEL_ID)
                .field("level-asymmetry-allowed", "1")
                .build(),
        }
    }

    /// How well an SDP format (`a=rtpmap` name and `a=fmtp` parameters) fits this codec as the
    /// engine sends and accepts it: 2 exactly, 1 compatibly, 0 not at all. H.264 needs
    /// packetization-mode 1 and a baseline-family profile; `42e01f` is exact. (webrtcbin
    /// writes its answers without `profile-level-id`: that is compatible.)
    pub(crate) fn fit(self, encoding: &str, fmtp: &str) -> u8 {
        if !encoding.eq_ignore_ascii_case(self.encoding_name()) {
            return 0;
        }
        match self {
            VideoCodec::Vp8 => 2,
            VideoCodec::H264 => {
                let param = |key: &str| {
                    fmtp.split(';').find_map(|kv| {
                        let (k, v) = kv.split_once('=')?;
                        k.trim().eq_ignore_ascii_case(key).then(|| v.trim())
                    })
                };
                if param("packetization-mode") != Some("1") {
                    return 0;
                }
                match param("profile-level-id") {
                    Some(v) if v.eq_ignore_ascii_case(H264_PROFILE_LEVEL_ID) => 2,
                    Some(v) if v.len() == 6 && v[..2].eq_ignore_ascii_case("42") => 1,
                    Some(_) => 0,
                    None => 1,
                }
            }
        }
    }

    /// Encoder elements (in link order) ending with the payloader, set up for `opts`.
    pub(crate) fn encoder(
        self,
        opts: &MediaOptions,
        pt: u32,
    ) -> Result<Vec<gst::Element>, EngineError> {
        let bits = opts.video_kbps.saturating_mul(1000);
        Ok(match self {
            VideoCodec::Vp8 => {
                let enc = make("vp8enc")?;
                enc.set_property("deadline", 1i64);
                enc.set_property("cpu-used", 8i32);
                enc.set_property("target-bitrate", bits.min(i32::MAX as u32) as i32);
                enc.set_property("keyframe-max-dist", 60i32);
                enc.set_property("lag-in-frames", 0i32);
                set_str(&enc, "end-usage", "cbr");
                set_str(&enc, "error-resilient", "default");
                let pay = make("rtpvp8pay")?;
                pay.set_property("pt", pt);
                pay.set_property("mtu", 1200u32);
                set_str(&pay, "picture-id-mode", "15-bit");
                vec![enc, pay]
            }
            VideoCodec::H264 => {
                let enc = make("openh264enc")?;
                set_str(&enc, "rate-control", "bitrate");
                enc.set_property("bitrate", bits);
                enc.set_property("gop-size", 60u32);
                set_str(&enc, "complexity", "low");
                set_str(&enc, "usage-type", "camera");
                // Browsers decode only constrained baseline from this offer.
                let profile = crate::media::caps_filter(
                    gst::Caps::builder("video/x-h264")
                        .field("profile", "constrained-baseline")
                        .build(),
                )?;
                let pay = make("rtph264pay")?;
                pay.set_property("pt", pt);
                pay.set_property("mtu", 1200u32);
                // SPS/PPS before every keyframe: a receiver that missed the first one (or
                // asked for a new keyframe) can start decoding from it.
                pay.set_property("config-interval", -1i32);
                set_str(&pay, "aggregate-mode", "zero-latency");
                vec![enc, profile, pay]
            }
        })
    }
}

fn set_str(e: &gst::Element, prop: &str, value: &str) {
    if e.find_property(prop).is_some() {
        e.set_property_from_str(prop, value);
    }
}

/// The codecs from `wanted` (in order) that this GStreamer has, logging the ones it lacks;
/// VP8 alone when none is left, as the engine cannot start without VP8 anyway.
pub(crate) fn available(wanted: &[VideoCodec]) -> Vec<VideoCodec> {
    let mut out = Vec::new();
    for &codec in wanted {
        let missing = codec.missing_elements();
        if missing.is_empty() {
            if !out.contains(&codec) {
                out.push(codec);
            }
        } else {
            tracing::info!(
                "{} not offered: GStreamer element(s) {} missing",
                codec.encoding_name(),
                missing.join(", ")
            );
        }
    }
    if out.is_empty() {
        out.push(VideoCodec::Vp8);
    }
    out
}

/// Payload type of each of `codecs` in the video section of `sdp` (its best fitting format,
/// the first of equals), in the SDP's order.
pub(crate) fn in_sdp(sdp: &str, codecs: &[VideoCodec]) -> Vec<(VideoCodec, u32)> {
    let formats = crate::sdp::video_formats(sdp);
    let mut found: Vec<(usize, VideoCodec, u32)> = Vec::new();
    for &codec in codecs {
        let mut best: Option<(u8, usize, u32)> = None;
        for (at, (pt, encoding, fmtp)) in formats.iter().enumerate() {
            let fit = codec.fit(encoding, fmtp);
            if fit > 0 && best.is_none_or(|(b, _, _)| fit > b) {
                best = Some((fit, at, *pt));
            }
        }
        if let Some((_, at, pt)) = best {
            found.push((at, codec, pt));
        }
    }
    found.sort_by_key(|(at, _, _)| *at);
    found.into_iter().map(|(_, c, pt)| (c, pt)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h264_fits_baseline_family_in_mode_1() {
        let c = VideoCodec::H264;
        let fit = |fmtp: &str| c.fit("H264", fmtp);
        assert_eq!(
            fit("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
            2
        );
        assert_eq!(fit("packetization-mode=1;profile-level-id=42001f"), 1);
        assert_eq!(fit("packetization-mode=1"), 1);
        assert_eq!(fit("packetization-mode=0;profile-level-id=42e01f"), 0);
        assert_eq!(fit("packetization-mode=1;profile-level-id=4d001f"), 0);
        assert_eq!(c.fit("VP8", ""), 0);
        assert_eq!(VideoCodec::Vp8.fit("vp8", ""), 2);
    }

    #[test]
    fn finds_codecs_in_sdp_order() {
        let sdp = "v=0\r\nm=audio 9 UDP 111\r\na=rtpmap:111 opus/48000/2\r\n\
            m=video 9 UDP 104 96 108\r\na=rtpmap:96 VP8/90000\r\n\
            a=rtpmap:104 H264/90000\r\na=fmtp:104 packetization-mode=1;profile-level-id=42001f\r\n\
            a=rtpmap:108 H264/90000\r\na=fmtp:108 packetization-mode=1;profile-level-id=42e01f\r\n";
        assert_eq!(
            in_sdp(sdp, &[VideoCodec::Vp8, VideoCodec::H264]),
            vec![(VideoCodec::Vp8, 96), (VideoCodec::H264, 108)]
        );
        assert_eq!(in_sdp(sdp, &[VideoCodec::Vp8]), vec![(VideoCodec::Vp8, 96)]);
    }
}
