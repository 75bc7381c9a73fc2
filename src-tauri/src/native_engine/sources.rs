//! What the UI's tracks stand for, as engine sources: the devices a call starts on, and the
//! ones `replaceTrack` switches to. The webview captures nothing for the native engine; its
//! tracks only name a device by label (WebKitGTK names devices as GStreamer's device monitor
//! does) or the screen.

use parley_media_gst::{AudioSource, MediaOptions, VideoSource};
use serde::Deserialize;

/// What the UI's new track stands for, as `replaceTrack` hands it over: a camera or microphone
/// by its label, or the screen.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SourceRequest {
    /// A camera by label; `None` for the default one.
    Camera {
        /// The track's label.
        label: Option<String>,
    },
    /// The screen.
    Screen,
    /// A microphone by label; `None` for the default one.
    Microphone {
        /// The track's label.
        label: Option<String>,
    },
}

/// The tracks a call starts with (`addTrack` before the connection exists): the engine opens
/// these devices rather than the defaults. A kind without a track (an audio-only call, the
/// camera off) starts paused on a test source, so no device is opened for it and the sender is
/// still negotiated for a later camera or screen share.
#[derive(Debug, Default, Deserialize)]
pub struct StartSources {
    /// The video track's source, if there is one.
    pub video: Option<SourceRequest>,
    /// The audio track's source, if there is one.
    pub audio: Option<SourceRequest>,
}

/// A video or an audio source.
pub(super) enum Source {
    Video(VideoSource),
    Audio(AudioSource),
}

/// A small stable number for a label, so mock devices differ visibly and audibly.
fn label_index(label: Option<&str>, modulo: usize) -> usize {
    label.map_or(0, |l| l.bytes().map(usize::from).sum::<usize>() % modulo)
}

/// The engine source for `request`; with mock media, test patterns and tones stand in for
/// devices (one per label), while the screen stays real (ximagesrc works under Xvfb).
pub(super) fn source_for(request: &SourceRequest, mock: bool) -> Source {
    const PATTERNS: [&str; 4] = ["ball", "smpte", "pinwheel", "snow"];
    match request {
        SourceRequest::Screen => Source::Video(VideoSource::Screen),
        SourceRequest::Camera { label } if mock => Source::Video(VideoSource::Test {
            pattern: PATTERNS[label_index(label.as_deref(), PATTERNS.len())].into(),
        }),
        SourceRequest::Camera { label } => Source::Video(VideoSource::Camera { id: label.clone() }),
        SourceRequest::Microphone { label } if mock => Source::Audio(AudioSource::Test {
            freq: 440 + 110 * label_index(label.as_deref(), 4) as u32,
        }),
        SourceRequest::Microphone { label } => {
            Source::Audio(AudioSource::Microphone { id: label.clone() })
        }
    }
}

/// Which senders start paused because the call started without their track.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct StartPaused {
    pub video: bool,
    pub audio: bool,
}

/// Sets `opts`' sources from the tracks the call starts with; returns which start paused.
pub(super) fn apply_start_sources(
    opts: &mut MediaOptions,
    start: &StartSources,
    mock: bool,
) -> StartPaused {
    let mut paused = StartPaused::default();
    match start.video.as_ref().map(|r| source_for(r, mock)) {
        Some(Source::Video(v)) => opts.video = v,
        Some(Source::Audio(_)) => {}
        None => {
            opts.video = black();
            paused.video = true;
        }
    }
    match start.audio.as_ref().map(|r| source_for(r, mock)) {
        Some(Source::Audio(a)) => opts.audio = a,
        Some(Source::Video(_)) => {}
        None => {
            opts.audio = silence();
            paused.audio = true;
        }
    }
    paused
}

/// What a paused video sender carries: nothing is sent while paused, and no camera is open.
pub(super) fn black() -> VideoSource {
    VideoSource::Test {
        pattern: "black".into(),
    }
}

/// What a muted audio sender carries while no microphone is open.
pub(super) fn silence() -> AudioSource {
    AudioSource::Test { freq: 440 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn replaced_tracks_become_engine_sources() {
        let camera = |label: &str| SourceRequest::Camera {
            label: Some(label.into()),
        };
        let Source::Video(VideoSource::Camera { id }) = source_for(&camera("HD Cam"), false) else {
            panic!("a camera by label");
        };
        assert_eq!(id.as_deref(), Some("HD Cam"));
        // Mock cameras differ from each other, so a switch shows on the far side.
        let pattern = |label: &str| match source_for(&camera(label), true) {
            Source::Video(VideoSource::Test { pattern }) => pattern,
            _ => panic!("a test pattern"),
        };
        assert_ne!(
            pattern("Mock video device 1"),
            pattern("Mock video device 2")
        );
        assert!(matches!(
            source_for(&SourceRequest::Screen, true),
            Source::Video(VideoSource::Screen)
        ));
        let request: SourceRequest =
            serde_json::from_value(json!({ "kind": "microphone", "label": null }))
                .unwrap_or(SourceRequest::Screen);
        assert!(matches!(
            source_for(&request, false),
            Source::Audio(AudioSource::Microphone { id: None })
        ));
    }

    #[test]
    fn a_call_starts_on_the_chosen_devices() {
        let start: StartSources = serde_json::from_value(json!({
            "video": { "kind": "camera", "label": "USB Cam" },
            "audio": { "kind": "microphone", "label": "Headset" }
        }))
        .unwrap_or_default();
        let mut opts = MediaOptions::default();
        let paused = apply_start_sources(&mut opts, &start, false);
        assert_eq!(
            opts.video,
            VideoSource::Camera {
                id: Some("USB Cam".into())
            }
        );
        assert_eq!(
            opts.audio,
            AudioSource::Microphone {
                id: Some("Headset".into())
            }
        );
        assert_eq!(paused, StartPaused::default());
    }

    #[test]
    fn an_audio_only_call_opens_no_camera() {
        let start: StartSources = serde_json::from_value(json!({
            "audio": { "kind": "microphone", "label": null }
        }))
        .unwrap_or_default();
        let mut opts = MediaOptions::default();
        let paused = apply_start_sources(&mut opts, &start, false);
        assert_eq!(opts.video, black());
        assert!(paused.video && !paused.audio);
    }
}
