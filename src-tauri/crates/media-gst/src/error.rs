//! Errors split by what the caller does next: tell the person (missing plugin, no device),
//! fix the input (bad SDP or candidate), or give up on this call (engine failure, closed).

/// Why an engine call failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// GStreamer itself could not start.
    #[error("GStreamer could not start: {0}")]
    Init(String),
    /// A GStreamer element is not installed (the named plugin package is missing).
    #[error(
        "GStreamer element `{element}` is missing (install the package that has the `{plugin}` plugin)"
    )]
    MissingPlugin {
        /// Element factory name, e.g. `vp8enc`.
        element: String,
        /// Plugin that provides it, e.g. `vpx`.
        plugin: String,
    },
    /// The chosen camera or microphone does not exist or cannot be opened.
    #[error("no such device: {0}")]
    NoDevice(String),
    /// The camera or microphone is held by another program.
    #[error("device is busy: {0}")]
    DeviceBusy(String),
    /// A session description could not be parsed or was refused.
    #[error("bad session description: {0}")]
    BadDescription(String),
    /// An ICE candidate could not be used.
    #[error("bad ICE candidate: {0}")]
    BadCandidate(String),
    /// The operation is not possible in the current signaling state.
    #[error("invalid state: {0}")]
    InvalidState(String),
    /// The connection is closed.
    #[error("peer connection is closed")]
    Closed,
    /// GStreamer reported a failure.
    #[error("media engine failure: {0}")]
    Pipeline(String),
}

impl EngineError {
    /// A stable machine-readable code for the UI (`missing-plugin`, `no-device`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::Init(_) => "engine-unavailable",
            EngineError::MissingPlugin { .. } => "missing-plugin",
            EngineError::NoDevice(_) => "no-device",
            EngineError::DeviceBusy(_) => "device-busy",
            EngineError::BadDescription(_) => "bad-description",
            EngineError::BadCandidate(_) => "bad-candidate",
            EngineError::InvalidState(_) => "invalid-state",
            EngineError::Closed => "closed",
            EngineError::Pipeline(_) => "media-failed",
        }
    }
}

impl EngineError {
    /// What the person needs to act on, if the code alone does not say it: the package to
    /// install for a missing plugin, the device for a device error.
    pub fn detail(&self) -> Option<String> {
        match self {
            EngineError::MissingPlugin { plugin, .. } => Some(plugin.clone()),
            EngineError::NoDevice(d) | EngineError::DeviceBusy(d) => Some(d.clone()),
            _ => None,
        }
    }

    /// Classifies an error GStreamer posted while running (`source` names the element).
    pub fn from_gst(error: &glib_err::Error, source: &str) -> Self {
        let message = if source.is_empty() {
            error.to_string()
        } else {
            format!("{error} ({source})")
        };
        if error.matches(gst::ResourceError::Busy) {
            EngineError::DeviceBusy(message)
        } else if error.matches(gst::ResourceError::NotFound)
            || error.matches(gst::ResourceError::OpenRead)
            || error.matches(gst::ResourceError::OpenReadWrite)
            || error.matches(gst::ResourceError::OpenWrite)
        {
            EngineError::NoDevice(message)
        } else if error.matches(gst::CoreError::MissingPlugin)
            || error.matches(gst::StreamError::CodecNotFound)
        {
            EngineError::MissingPlugin {
                element: source.to_owned(),
                plugin: message,
            }
        } else {
            EngineError::Pipeline(message)
        }
    }
}

/// Which plugin provides an element, for the missing-plugin message.
pub(crate) fn plugin_of(element: &str) -> &'static str {
    match element {
        "webrtcbin" => "webrtc (gstreamer1.0-plugins-bad)",
        "nicesrc" | "nicesink" => "nice (gstreamer1.0-nice)",
        "vp8enc" | "vp8dec" => "vpx (gstreamer1.0-plugins-good)",
        "opusenc" | "opusdec" => "opus (gstreamer1.0-plugins-base)",
        "webrtcdsp" | "webrtcechoprobe" => "webrtcdsp (gstreamer1.0-plugins-bad)",
        "rtpvp8pay" | "rtpvp8depay" | "rtpopuspay" | "rtph264pay" | "rtph264depay" => {
            "rtp (gstreamer1.0-plugins-good)"
        }
        "openh264enc" | "openh264dec" => "openh264 (gstreamer1.0-plugins-bad)",
        "avdec_h264" => "libav (gstreamer1.0-libav)",
        "h264parse" => "videoparsersbad (gstreamer1.0-plugins-bad)",
        "pulsesrc" | "pulsesink" => "pulseaudio (gstreamer1.0-pulseaudio)",
        "pipewiresrc" => "pipewire (gstreamer1.0-pipewire)",
        "v4l2src" => "video4linux2 (gstreamer1.0-plugins-good)",
        "ximagesrc" => "ximagesrc (gstreamer1.0-plugins-good)",
        "jpegenc" => "jpeg (gstreamer1.0-plugins-good)",
        _ => "gstreamer1.0-plugins-base/good/bad",
    }
}

/// Makes one element, naming the missing plugin if it is not installed.
pub(crate) fn make(factory: &str) -> Result<gst::Element, EngineError> {
    gst::ElementFactory::make(factory)
        .build()
        .map_err(|_| EngineError::MissingPlugin {
            element: factory.to_owned(),
            plugin: plugin_of(factory).to_owned(),
        })
}

impl From<glib_err::BoolError> for EngineError {
    fn from(e: glib_err::BoolError) -> Self {
        EngineError::Pipeline(e.to_string())
    }
}

impl From<gst::StateChangeError> for EngineError {
    fn from(e: gst::StateChangeError) -> Self {
        EngineError::Pipeline(e.to_string())
    }
}

use gst::glib as glib_err;

#[cfg(test)]
mod tests {
    use super::*;

    fn gst_error(e: impl glib_err::error::ErrorDomain) -> glib_err::Error {
        glib_err::Error::new(e, "boom")
    }

    #[test]
    fn gstreamer_errors_map_to_what_the_person_does_next() {
        let busy = EngineError::from_gst(&gst_error(gst::ResourceError::Busy), "v4l2src0");
        assert_eq!(busy.code(), "device-busy");
        assert_eq!(busy.detail().as_deref(), Some("boom (v4l2src0)"));
        for gone in [gst::ResourceError::NotFound, gst::ResourceError::OpenRead] {
            assert_eq!(
                EngineError::from_gst(&gst_error(gone), "").code(),
                "no-device"
            );
        }
        let codec =
            EngineError::from_gst(&gst_error(gst::StreamError::CodecNotFound), "decodebin0");
        assert_eq!(codec.code(), "missing-plugin");
        let other = EngineError::from_gst(&gst_error(gst::StreamError::Decode), "vp8dec0");
        assert_eq!(other.code(), "media-failed");
        assert_eq!(other.detail(), None);
    }

    #[test]
    fn a_missing_element_names_its_package() {
        gst::init().unwrap();
        let err = make("parley-no-such-element").unwrap_err();
        assert_eq!(err.code(), "missing-plugin");
        assert_eq!(plugin_of("vp8enc"), "vpx (gstreamer1.0-plugins-good)");
        assert!(err.to_string().contains("parley-no-such-element"));
    }
}
