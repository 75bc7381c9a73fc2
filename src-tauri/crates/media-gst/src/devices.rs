//! Cameras, microphones and speakers, from GStreamer's device monitor.

use gst::prelude::*;
use serde::Serialize;

/// One device the person can pick.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceEntry {
    /// Stable-enough id (the display name; GStreamer has no better portable key).
    pub id: String,
    /// What to show.
    pub label: String,
    /// `videoinput`, `audioinput` or `audiooutput`, as `MediaDeviceInfo.kind`.
    pub kind: String,
}

fn kind_of(class: &str) -> Option<&'static str> {
    match class {
        "Video/Source" => Some("videoinput"),
        "Audio/Source" => Some("audioinput"),
        "Audio/Sink" => Some("audiooutput"),
        _ => None,
    }
}

fn probe(class: &str) -> Vec<gst::Device> {
    let monitor = gst::DeviceMonitor::new();
    monitor.add_filter(Some(class), None);
    // start() fails when no provider can run (no PipeWire/Pulse): that is an empty list.
    if monitor.start().is_err() {
        return Vec::new();
    }
    let devices = monitor.devices().into_iter().collect();
    monitor.stop();
    devices
}

/// Every camera, microphone and speaker GStreamer can see now.
pub fn list() -> Vec<DeviceEntry> {
    let mut out = Vec::new();
    for class in ["Video/Source", "Audio/Source", "Audio/Sink"] {
        let Some(kind) = kind_of(class) else { continue };
        for d in probe(class) {
            let label = d.display_name().to_string();
            out.push(DeviceEntry {
                id: label.clone(),
                label,
                kind: kind.to_owned(),
            });
        }
    }
    out
}

/// The device of `class` with this id.
pub(crate) fn find(class: &str, id: &str) -> Option<gst::Device> {
    probe(class).into_iter().find(|d| d.display_name() == id)
}

/// The first device of `class` (the system's default comes first in GStreamer's list).
pub(crate) fn first(class: &str) -> Option<gst::Device> {
    probe(class).into_iter().next()
}
