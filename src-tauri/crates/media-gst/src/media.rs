//! The audio send chain (capture -> encode -> RTP into webrtcbin; video's is in
//! [`crate::video_send`]) and the receive chains (webrtcbin -> decode -> speaker / frames out).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use gst::prelude::*;

use crate::error::{EngineError, make};
use crate::options::{AudioOutput, AudioSource, MediaOptions, VideoSource};
use crate::types::{MediaKind, PeerEvent, VideoFrame, VideoOutput};

/// Opus payload type in our offers; answers reuse whatever the offer chose.
pub(crate) const OPUS_PT: u32 = 111;

/// Numbers the receive side keeps for stats and tests.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) frames_decoded: AtomicU64,
    /// Video frames out of our encoder (what we send, before RTP packetisation).
    pub(crate) frames_encoded: AtomicU64,
    pub(crate) frame_width: AtomicU32,
    pub(crate) frame_height: AtomicU32,
    /// Peak of the last audio buffer, 0..1 scaled by 1e6.
    pub(crate) audio_peak_micro: AtomicU32,
    pub(crate) audio_buffers: AtomicU64,
    /// Highest peak since the last [`Counters::take_audio_peak`], scaled by 1e6.
    pub(crate) audio_peak_max_micro: AtomicU32,
}

impl Counters {
    /// Remote audio level 0..1.
    pub(crate) fn audio_level(&self) -> f64 {
        f64::from(self.audio_peak_micro.load(Ordering::Relaxed)) / 1e6
    }

    /// Highest remote audio level since the previous call, 0..1.
    pub(crate) fn take_audio_peak(&self) -> f64 {
        f64::from(self.audio_peak_max_micro.swap(0, Ordering::Relaxed)) / 1e6
    }
}

/// One send chain: what to poke for mute / camera off / source switch.
pub(crate) struct SendChain {
    pub(crate) bin: gst::Bin,
    /// `valve` (video: camera off) or `volume` (audio: mute).
    pub(crate) gate: gst::Element,
    /// The payloader, whose `pt` follows the negotiated payload type (audio; video's is in
    /// `encoder`).
    pub(crate) payloader: Option<gst::Element>,
    pub(crate) rtp_caps: gst::Element,
    /// The capture element now feeding the chain (replaced on a device switch).
    pub(crate) source: gst::Element,
    /// The element the source links to.
    pub(crate) after_source: gst::Element,
    /// Video: the encoder, chosen by negotiation.
    pub(crate) encoder: Option<crate::video_send::EncoderSlot>,
}

pub(crate) fn set_str(e: &gst::Element, prop: &str, value: &str) {
    if e.find_property(prop).is_some() {
        e.set_property_from_str(prop, value);
    }
}

pub(crate) fn caps_filter(caps: gst::Caps) -> Result<gst::Element, EngineError> {
    let f = make("capsfilter")?;
    f.set_property("caps", caps);
    Ok(f)
}

/// The device `id` of `class`, or the first one. `auto*` elements are not used for capture:
/// with no device they quietly fall back to a test pattern or silence, and the person would
/// never learn that their camera is missing.
fn device_element(id: Option<&str>, class: &str, what: &str) -> Result<gst::Element, EngineError> {
    let device = match id {
        Some(id) => crate::devices::find(class, id)
            .ok_or_else(|| EngineError::NoDevice(format!("{what} {id}")))?,
        None => crate::devices::first(class)
            .ok_or_else(|| EngineError::NoDevice(format!("no {what} found")))?,
    };
    device
        .create_element(None)
        .map_err(|e| EngineError::NoDevice(format!("{what} {}: {e}", device.display_name())))
}

/// Builds the video source element for `source`.
pub(crate) fn video_source(source: &VideoSource) -> Result<Option<gst::Element>, EngineError> {
    Ok(Some(match source {
        VideoSource::None => return Ok(None),
        VideoSource::Test { pattern } => {
            let e = make("videotestsrc")?;
            e.set_property("is-live", true);
            set_str(&e, "pattern", pattern);
            e
        }
        VideoSource::Camera { id } => device_element(id.as_deref(), "Video/Source", "camera")?,
        VideoSource::Screen => {
            let e = make("ximagesrc")?;
            e.set_property("use-damage", false);
            e
        }
    }))
}

pub(crate) fn audio_source(source: &AudioSource) -> Result<Option<gst::Element>, EngineError> {
    Ok(Some(match source {
        AudioSource::None => return Ok(None),
        AudioSource::Test { freq } => {
            let e = make("audiotestsrc")?;
            e.set_property("is-live", true);
            e.set_property("freq", f64::from(*freq));
            e.set_property("volume", 0.3f64);
            // 10 ms buffers: what webrtcdsp processes.
            e.set_property("samplesperbuffer", 480i32);
            e
        }
        AudioSource::Microphone { id } => {
            device_element(id.as_deref(), "Audio/Source", "microphone")?
        }
    }))
}

pub(crate) fn ghost_src(bin: &gst::Bin, last: &gst::Element) -> Result<(), EngineError> {
    let pad = last
        .static_pad("src")
        .ok_or_else(|| EngineError::Pipeline("no src pad".into()))?;
    let ghost = gst::GhostPad::with_target(&pad)?;
    ghost.set_active(true)?;
    bin.add_pad(&ghost)?;
    Ok(())
}

/// Microphone -> (echo cancel, noise suppression) -> Opus -> RTP.
pub(crate) fn audio_send(
    opts: &MediaOptions,
    source: gst::Element,
    probe_name: &str,
) -> Result<SendChain, EngineError> {
    let bin = gst::Bin::with_name("audio-send");
    let convert = make("audioconvert")?;
    let resample = make("audioresample")?;
    let raw = caps_filter(
        gst::Caps::builder("audio/x-raw")
            .field("format", "S16LE")
            .field("rate", 48000i32)
            .field("channels", 1i32)
            .build(),
    )?;
    let volume = make("volume")?;
    // Until ICE and DTLS are up, webrtcbin blocks its input; a live source blocked there
    // later catches up by pushing everything it owes at once, and the receiver starts with
    // seconds of audio queued (and holds video back to match it: lip sync). A small leaky
    // queue lets the source run on and keeps only the newest 60 ms.
    let queue = make("queue")?;
    queue.set_property("max-size-buffers", 0u32);
    queue.set_property("max-size-bytes", 0u32);
    queue.set_property("max-size-time", 60_000_000u64);
    set_str(&queue, "leaky", "downstream");
    let enc = make("opusenc")?;
    set_str(&enc, "audio-type", "voice");
    let pay = make("rtpopuspay")?;
    pay.set_property("pt", OPUS_PT);
    let rtp_caps = caps_filter(opus_caps(OPUS_PT))?;
    let after_source = queue.clone();
    let mut chain = vec![source.clone(), queue, convert, resample, raw];
    if opts.audio_processing {
        let dsp = make("webrtcdsp")?;
        dsp.set_property("probe", probe_name);
        dsp.set_property("echo-cancel", true);
        dsp.set_property("noise-suppression", true);
        dsp.set_property("gain-control", true);
        chain.push(dsp);
    }
    chain.extend([volume.clone(), enc, pay.clone(), rtp_caps.clone()]);
    bin.add_many(&chain)?;
    gst::Element::link_many(&chain)?;
    ghost_src(&bin, &rtp_caps)?;
    Ok(SendChain {
        bin,
        gate: volume,
        payloader: Some(pay),
        rtp_caps,
        source,
        after_source,
        encoder: None,
    })
}

/// The Opus caps webrtcbin needs on the audio sink pad.
pub(crate) fn opus_caps(pt: u32) -> gst::Caps {
    gst::Caps::builder("application/x-rtp")
        .field("payload", pt as i32)
        .field("media", "audio")
        .field("encoding-name", "OPUS")
        .field("clock-rate", 48000i32)
        .field("encoding-params", "2")
        .build()
}

/// The remote audio's way out; the echo probe sits here so webrtcdsp hears what we play.
pub(crate) fn playback_bin(opts: &MediaOptions, probe_name: &str) -> Result<gst::Bin, EngineError> {
    let bin = gst::Bin::with_name("playback");
    let convert = make("audioconvert")?;
    let resample = make("audioresample")?;
    let raw = caps_filter(
        gst::Caps::builder("audio/x-raw")
            .field("format", "S16LE")
            .field("rate", 48000i32)
            .field("layout", "interleaved")
            .build(),
    )?;
    let mut chain = vec![convert.clone(), resample, raw];
    if opts.audio_processing {
        let probe = gst::ElementFactory::make("webrtcechoprobe")
            .name(probe_name)
            .build()
            .map_err(|_| EngineError::MissingPlugin {
                element: "webrtcechoprobe".into(),
                plugin: crate::error::plugin_of("webrtcechoprobe").into(),
            })?;
        chain.push(probe);
        chain.push(make("audioconvert")?);
    }
    let sink = match &opts.audio_output {
        // The default speaker may be any sink (or none, headless): autoaudiosink picks one.
        AudioOutput::Speaker { id: None } => make("autoaudiosink")?,
        AudioOutput::Speaker { id: Some(id) } => device_element(Some(id), "Audio/Sink", "speaker")?,
        AudioOutput::Discard => {
            let s = make("fakesink")?;
            s.set_property("sync", true);
            s
        }
    };
    if sink.find_property("async").is_some() {
        sink.set_property("async", false);
    }
    chain.push(sink);
    bin.add_many(&chain)?;
    gst::Element::link_many(&chain)?;
    let pad = convert
        .static_pad("sink")
        .ok_or_else(|| EngineError::Pipeline("no sink pad".into()))?;
    let ghost = gst::GhostPad::with_target(&pad)?;
    ghost.set_active(true)?;
    bin.add_pad(&ghost)?;
    Ok(bin)
}

/// Sender for engine events; frames are dropped when the owner lags, nothing else is.
#[derive(Clone)]
pub(crate) struct EventSink(pub(crate) tokio::sync::mpsc::Sender<PeerEvent>);

impl EventSink {
    /// Queues an event; waits for room unless called from inside the async runtime.
    pub(crate) fn emit(&self, event: PeerEvent) {
        let droppable = matches!(event, PeerEvent::VideoFrame(_));
        if droppable || tokio::runtime::Handle::try_current().is_ok() {
            if let Err(e) = self.0.try_send(event)
                && !droppable
            {
                tracing::warn!("engine event dropped: {e}");
            }
        } else {
            // GStreamer threads: back-pressure (a data channel never loses a message).
            let _ = self.0.blocking_send(event);
        }
    }
}

/// Links a decoded remote stream to its way out.
pub(crate) fn link_decoded(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    playback: Option<&gst::Bin>,
    output: VideoOutput,
    counters: &Arc<Counters>,
    events: &EventSink,
) -> Result<(), EngineError> {
    let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
    let name = caps
        .structure(0)
        .map(|s| s.name().to_string())
        .unwrap_or_default();
    if name.starts_with("audio/") {
        let Some(playback) = playback else {
            return Ok(());
        };
        let queue = make("queue")?;
        let convert = make("audioconvert")?;
        let level_caps = caps_filter(
            gst::Caps::builder("audio/x-raw")
                .field("format", "S16LE")
                .field("layout", "interleaved")
                .build(),
        )?;
        pipeline.add_many([&queue, &convert, &level_caps])?;
        gst::Element::link_many([&queue, &convert, &level_caps])?;
        let sink = playback
            .static_pad("sink")
            .ok_or_else(|| EngineError::Pipeline("no playback pad".into()))?;
        if sink.is_linked() {
            // A new remote audio stream (renegotiation) replaces the old one.
            if let Some(peer) = sink.peer() {
                let _ = peer.unlink(&sink);
            }
        }
        level_caps
            .static_pad("src")
            .ok_or_else(|| EngineError::Pipeline("no src pad".into()))?
            .link(&sink)
            .map_err(|e| EngineError::Pipeline(format!("audio link: {e:?}")))?;
        install_level_probe(&level_caps, counters, events);
        for e in [&queue, &convert, &level_caps] {
            e.sync_state_with_parent()?;
        }
        link_pad(pad, &queue)?;
    } else if name.starts_with("video/") {
        let queue = make("queue")?;
        let sink = gst_app::AppSink::builder()
            .sync(false)
            .max_buffers(2)
            .drop(true)
            .build();
        let mut chain: Vec<gst::Element> = vec![queue.clone()];
        match output {
            VideoOutput::CountOnly => {}
            VideoOutput::Rgba => {
                chain.push(make("videoconvert")?);
                chain.push(caps_filter(
                    gst::Caps::builder("video/x-raw")
                        .field("format", "RGBA")
                        .build(),
                )?);
            }
            VideoOutput::Jpeg => {
                chain.push(make("videoconvert")?);
                let enc = make("jpegenc")?;
                enc.set_property("quality", 75i32);
                chain.push(enc);
            }
        }
        chain.push(sink.clone().upcast());
        pipeline.add_many(&chain)?;
        gst::Element::link_many(&chain)?;
        install_frame_sink(&sink, output, counters, events);
        for e in &chain {
            e.sync_state_with_parent()?;
        }
        link_pad(pad, &queue)?;
    }
    Ok(())
}

fn link_pad(pad: &gst::Pad, to: &gst::Element) -> Result<(), EngineError> {
    let sink = to
        .static_pad("sink")
        .ok_or_else(|| EngineError::Pipeline("no sink pad".into()))?;
    pad.link(&sink)
        .map_err(|e| EngineError::Pipeline(format!("link: {e:?}")))?;
    Ok(())
}

fn install_level_probe(element: &gst::Element, counters: &Arc<Counters>, events: &EventSink) {
    let Some(pad) = element.static_pad("src") else {
        return;
    };
    let counters = Arc::clone(counters);
    let events = events.clone();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(buffer) = info.buffer()
            && let Ok(map) = buffer.map_readable()
        {
            let peak = map
                .chunks_exact(2)
                .map(|s| i16::from_le_bytes([s[0], s[1]]).unsigned_abs())
                .max()
                .unwrap_or(0);
            let level = (f64::from(peak) / 32768.0 * 1e6) as u32;
            counters.audio_peak_micro.store(level, Ordering::Relaxed);
            counters
                .audio_peak_max_micro
                .fetch_max(level, Ordering::Relaxed);
            if counters.audio_buffers.fetch_add(1, Ordering::Relaxed) == 0 {
                events.emit(PeerEvent::Track(MediaKind::Audio));
            }
        }
        gst::PadProbeReturn::Ok
    });
}

fn install_frame_sink(
    sink: &gst_app::AppSink,
    output: VideoOutput,
    counters: &Arc<Counters>,
    events: &EventSink,
) {
    let counters = Arc::clone(counters);
    let events = events.clone();
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                let (width, height) = sample
                    .caps()
                    .and_then(|c| {
                        c.structure(0)
                            .map(|s| (s.get::<i32>("width").ok(), s.get::<i32>("height").ok()))
                    })
                    .map(|(w, h)| (w.unwrap_or(0) as u32, h.unwrap_or(0) as u32))
                    .unwrap_or((0, 0));
                counters.frame_width.store(width, Ordering::Relaxed);
                counters.frame_height.store(height, Ordering::Relaxed);
                if counters.frames_decoded.fetch_add(1, Ordering::Relaxed) == 0 {
                    events.emit(PeerEvent::Track(MediaKind::Video));
                }
                if output != VideoOutput::CountOnly
                    && let Some(buffer) = sample.buffer()
                    && let Ok(map) = buffer.map_readable()
                {
                    events.emit(PeerEvent::VideoFrame(VideoFrame {
                        width,
                        height,
                        format: output,
                        data: map.to_vec(),
                    }));
                }
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
}

/// Makes the audio source for `opts` (None when no audio is sent).
pub(crate) fn make_audio_source(opts: &MediaOptions) -> Result<Option<gst::Element>, EngineError> {
    audio_source(&opts.audio)
}
