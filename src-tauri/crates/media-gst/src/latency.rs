//! Send-path timing: packets leave as soon as they are encoded, and RTCP sender reports map
//! RTP time to the capture time.
//!
//! webrtcbin leaves its RTP `nicesink` at `sync=true`, so every outgoing packet waited until its
//! capture time plus the *pipeline* latency. That latency is one value for the whole pipeline:
//! the largest of every synchronising sink's, including the receive side (jitter buffer, decoder,
//! speaker) and the microphone path (`webrtcdsp`). Measured against Chromium that held sent video
//! 200+ ms (docs/benchmarks.md, "Native engine"). A browser sends what it has encoded at once;
//! so does this engine now. With packets no longer held, `rtcp-sync-send-time` (the default,
//! which reports "capture time + pipeline latency" as the send time) is switched off so that
//! the receiver's lip sync compares true capture times of audio and video.

use gst::prelude::*;

/// Elements whose properties are adjusted as webrtcbin creates them.
fn tune(element: &gst::Element) {
    let Some(factory) = element.factory() else {
        return;
    };
    let property = match factory.name().as_str() {
        "nicesink" => "sync",
        "rtpbin" | "rtpsession" => "rtcp-sync-send-time",
        _ => return,
    };
    // Checked, not assumed: set_property panics on a property this GStreamer lacks.
    if element.find_property(property).is_some() {
        element.set_property(property, false);
    }
}

/// Tunes webrtcbin's inner elements now and whenever it adds more (transports and sessions
/// appear during negotiation).
/// `PARLEY_GST_SEND_SYNC=1` keeps GStreamer's defaults, for the before/after benchmark only.
pub(crate) fn install(pipeline: &gst::Pipeline, webrtc: &gst::Element) {
    if std::env::var("PARLEY_GST_SEND_SYNC").is_ok_and(|v| v == "1") {
        return;
    }
    pipeline.connect_deep_element_added(|_, _, element| tune(element));
    if let Some(bin) = webrtc.downcast_ref::<gst::Bin>() {
        for element in bin.iterate_recurse().into_iter().flatten() {
            tune(&element);
        }
    }
}
