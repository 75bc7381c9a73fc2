//! [`PeerConnection`]: webrtcbin behind `RTCPeerConnection`'s shape.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use gst::glib;
use gst::prelude::*;
use gst_webrtc::{WebRTCDataChannel, WebRTCSDPType, WebRTCSessionDescription};
use tokio::sync::mpsc;

use crate::error::{EngineError, make};
use crate::media::{self, Counters, EventSink, SendChain};
use crate::options::MediaOptions;
use crate::types::{
    ConnectionState, IceCandidate, PeerEvent, SdpKind, SessionDescription, SignalingState,
};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// How many events may wait for the owner (frames beyond this are dropped).
const EVENT_QUEUE: usize = 1024;

struct Inner {
    pipeline: gst::Pipeline,
    webrtc: gst::Element,
    events: EventSink,
    counters: Arc<Counters>,
    channels: Mutex<HashMap<u16, WebRTCDataChannel>>,
    video: Mutex<Option<SendChain>>,
    audio: Mutex<Option<SendChain>>,
    receive_only: crate::receive_only::ReceiveOnly,
    closed: AtomicBool,
    /// Local candidates webrtcbin reported, `(m-line, candidate)`: after an ICE restart libnice
    /// keeps them but webrtcbin does not report them again, so the engine does.
    local_candidates: Arc<Mutex<Vec<(u32, String)>>>,
    /// The agent restarted; the next applied local description re-announces the candidates.
    restarted: AtomicBool,
}

/// One peer connection with its own pipeline. Cheap to clone (shared handle).
#[derive(Clone)]
pub struct PeerConnection {
    inner: Arc<Inner>,
}

/// Starts GStreamer once; safe to call repeatedly.
pub fn init() -> Result<(), EngineError> {
    gst::init().map_err(|e| EngineError::Init(e.to_string()))?;
    for element in [
        "webrtcbin",
        "nicesrc",
        "vp8enc",
        "vp8dec",
        "rtpvp8depay",
        "opusenc",
        "opusdec",
        "rtpvp8pay",
        "dtlssrtpenc",
    ] {
        if gst::ElementFactory::find(element).is_none() {
            return Err(EngineError::MissingPlugin {
                element: element.to_owned(),
                plugin: crate::error::plugin_of(element).to_owned(),
            });
        }
    }
    Ok(())
}

fn sdp_type(kind: SdpKind) -> WebRTCSDPType {
    match kind {
        SdpKind::Offer => WebRTCSDPType::Offer,
        SdpKind::Answer => WebRTCSDPType::Answer,
        SdpKind::Pranswer => WebRTCSDPType::Pranswer,
        SdpKind::Rollback => WebRTCSDPType::Rollback,
    }
}

fn kind_of(t: WebRTCSDPType) -> SdpKind {
    match t {
        WebRTCSDPType::Answer => SdpKind::Answer,
        WebRTCSDPType::Pranswer => SdpKind::Pranswer,
        WebRTCSDPType::Rollback => SdpKind::Rollback,
        _ => SdpKind::Offer,
    }
}

fn to_description(d: &WebRTCSessionDescription) -> Result<SessionDescription, EngineError> {
    Ok(SessionDescription {
        kind: kind_of(d.type_()),
        sdp: d.sdp().as_text()?.to_string(),
    })
}

fn signaling(s: gst_webrtc::WebRTCSignalingState) -> SignalingState {
    use gst_webrtc::WebRTCSignalingState as S;
    match s {
        S::HaveLocalOffer => SignalingState::HaveLocalOffer,
        S::HaveRemoteOffer => SignalingState::HaveRemoteOffer,
        S::HaveLocalPranswer => SignalingState::HaveLocalPranswer,
        S::HaveRemotePranswer => SignalingState::HaveRemotePranswer,
        S::Closed => SignalingState::Closed,
        _ => SignalingState::Stable,
    }
}

fn connection(s: gst_webrtc::WebRTCPeerConnectionState) -> ConnectionState {
    use gst_webrtc::WebRTCPeerConnectionState as S;
    match s {
        S::Connecting => ConnectionState::Connecting,
        S::Connected => ConnectionState::Connected,
        S::Disconnected => ConnectionState::Disconnected,
        S::Failed => ConnectionState::Failed,
        S::Closed => ConnectionState::Closed,
        _ => ConnectionState::New,
    }
}

fn ice_connection(s: gst_webrtc::WebRTCICEConnectionState) -> ConnectionState {
    use gst_webrtc::WebRTCICEConnectionState as S;
    match s {
        S::Checking => ConnectionState::Checking,
        S::Connected => ConnectionState::Connected,
        S::Completed => ConnectionState::Completed,
        S::Disconnected => ConnectionState::Disconnected,
        S::Failed => ConnectionState::Failed,
        S::Closed => ConnectionState::Closed,
        _ => ConnectionState::New,
    }
}

/// Runs a webrtcbin action that answers through a promise; resolves to its reply.
async fn with_promise(
    call: impl FnOnce(&gst::Promise),
) -> Result<Option<gst::Structure>, EngineError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let promise = gst::Promise::with_change_func(move |reply| {
        let result = match reply {
            Ok(Some(s)) => match s.get::<glib::Error>("error") {
                Ok(err) => Err(err.to_string()),
                Err(_) => Ok(Some(s.to_owned())),
            },
            Ok(None) => Ok(None),
            Err(e) => Err(format!("{e:?}")),
        };
        let _ = tx.send(result);
    });
    call(&promise);
    match rx.await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(EngineError::Pipeline(e)),
        Err(_) => Err(EngineError::Closed),
    }
}

impl PeerConnection {
    /// Builds the pipeline (capture, encoders, webrtcbin) and starts it. Events arrive on the
    /// returned receiver until the connection is closed.
    pub fn new(options: MediaOptions) -> Result<(Self, mpsc::Receiver<PeerEvent>), EngineError> {
        init()?;
        let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let pipeline = gst::Pipeline::with_name(&format!("parley-peer-{n}"));
        let webrtc = make("webrtcbin")?;
        webrtc.set_property_from_str("bundle-policy", "max-bundle");
        webrtc.set_property("latency", options.receive_latency_ms);
        if let Some(stun) = &options.stun_server {
            webrtc.set_property("stun-server", stun.replace("stun:", "stun://"));
        }
        for turn in &options.turn_servers {
            let _ = webrtc.emit_by_name::<bool>("add-turn-server", &[turn]);
        }
        pipeline.add(&webrtc)?;
        crate::latency::install(&pipeline, &webrtc);
        let (tx, rx) = mpsc::channel(EVENT_QUEUE);
        let events = EventSink(tx);
        let counters = Arc::new(Counters::default());
        let probe_name = format!("parley-echo-probe-{n}");

        let playback = media::playback_bin(&options, &probe_name)?;
        pipeline.add(&playback)?;
        let playback = Some(playback);

        let audio = match media::make_audio_source(&options)? {
            Some(src) => {
                let chain = media::audio_send(&options, src, &probe_name)?;
                Self::attach(&pipeline, &webrtc, &chain)?;
                Some(chain)
            }
            None => None,
        };
        let video = match media::video_source(&options.video)? {
            Some(src) => {
                let mut chain = crate::video_send::video_send(&options, src, &counters)?;
                let sink = Self::attach(&pipeline, &webrtc, &chain)?;
                if let Some(slot) = chain.encoder.as_mut() {
                    slot.use_transceiver(&sink, &chain.rtp_caps);
                }
                Some(chain)
            }
            None => None,
        };
        let receive_only = crate::receive_only::ReceiveOnly::add(
            &webrtc,
            audio.is_some(),
            video.is_some(),
            &options.video_codecs,
        );

        let inner = Arc::new(Inner {
            pipeline,
            webrtc,
            events,
            counters,
            channels: Mutex::new(HashMap::new()),
            video: Mutex::new(video),
            audio: Mutex::new(audio),
            receive_only,
            closed: AtomicBool::new(false),
            local_candidates: Arc::default(),
            restarted: AtomicBool::new(false),
        });
        let pc = PeerConnection { inner };
        pc.connect_signals(playback, options.video_output);
        let last_error = crate::bus::LastError::default();
        crate::bus::watch(&pc.inner.pipeline, &pc.inner.events, &last_error);
        if let Err(e) = pc.inner.pipeline.set_state(gst::State::Playing) {
            // The element that failed posted why (no camera, device busy) just before.
            let _ = pc.inner.pipeline.set_state(gst::State::Null);
            return Err(last_error.take().unwrap_or_else(|| e.into()));
        }
        Ok((pc, rx))
    }

    /// Links `chain` into a new sink pad of webrtcbin; returns that pad.
    fn attach(
        pipeline: &gst::Pipeline,
        webrtc: &gst::Element,
        chain: &SendChain,
    ) -> Result<gst::Pad, EngineError> {
        pipeline.add(&chain.bin)?;
        let sink = webrtc
            .request_pad_simple("sink_%u")
            .ok_or_else(|| EngineError::Pipeline("webrtcbin refused a sink pad".into()))?;
        let src = chain
            .bin
            .static_pad("src")
            .ok_or_else(|| EngineError::Pipeline("no src".into()))?;
        src.link(&sink)
            .map_err(|e| EngineError::Pipeline(format!("link to webrtcbin: {e:?}")))?;
        Ok(sink)
    }

    fn connect_signals(&self, playback: Option<gst::Bin>, output: crate::types::VideoOutput) {
        let webrtc = &self.inner.webrtc;
        let events = self.inner.events.clone();
        let seen = Arc::clone(&self.inner.local_candidates);
        webrtc.connect("on-ice-candidate", false, move |values| {
            let mline = values.get(1).and_then(|v| v.get::<u32>().ok());
            let candidate = values.get(2).and_then(|v| v.get::<String>().ok());
            if let (Some(mline), Some(candidate)) = (mline, candidate) {
                if let Ok(mut seen) = seen.lock() {
                    seen.push((mline, candidate.clone()));
                }
                events.emit(PeerEvent::IceCandidate(Some(IceCandidate {
                    candidate,
                    sdp_mid: None,
                    sdp_m_line_index: Some(mline),
                })));
            }
            None
        });
        let events = self.inner.events.clone();
        webrtc.connect_notify(Some("ice-gathering-state"), move |w, _| {
            let state = w.property::<gst_webrtc::WebRTCICEGatheringState>("ice-gathering-state");
            if state == gst_webrtc::WebRTCICEGatheringState::Complete {
                events.emit(PeerEvent::IceCandidate(None));
            }
        });
        let events = self.inner.events.clone();
        webrtc.connect_notify(Some("connection-state"), move |w, _| {
            let s = w.property::<gst_webrtc::WebRTCPeerConnectionState>("connection-state");
            events.emit(PeerEvent::ConnectionState(connection(s)));
        });
        let events = self.inner.events.clone();
        webrtc.connect_notify(Some("ice-connection-state"), move |w, _| {
            let s = w.property::<gst_webrtc::WebRTCICEConnectionState>("ice-connection-state");
            events.emit(PeerEvent::IceConnectionState(ice_connection(s)));
        });
        let events = self.inner.events.clone();
        webrtc.connect_notify(Some("signaling-state"), move |w, _| {
            let s = w.property::<gst_webrtc::WebRTCSignalingState>("signaling-state");
            events.emit(PeerEvent::SignalingState(signaling(s)));
        });
        let events = self.inner.events.clone();
        webrtc.connect("on-negotiation-needed", false, move |_| {
            events.emit(PeerEvent::NegotiationNeeded);
            None
        });
        let pipeline = self.inner.pipeline.downgrade();
        let counters = Arc::clone(&self.inner.counters);
        let events = self.inner.events.clone();
        webrtc.connect_pad_added(move |_, pad| {
            if pad.direction() != gst::PadDirection::Src {
                return;
            }
            let Some(pipeline) = pipeline.upgrade() else {
                return;
            };
            let Ok(decode) = make("decodebin") else {
                return;
            };
            let playback = playback.clone();
            let counters = Arc::clone(&counters);
            let events2 = events.clone();
            let weak = pipeline.downgrade();
            decode.connect_pad_added(move |_, pad| {
                let Some(pipeline) = weak.upgrade() else {
                    return;
                };
                if let Err(e) = media::link_decoded(
                    &pipeline,
                    pad,
                    playback.as_ref(),
                    output,
                    &counters,
                    &events2,
                ) {
                    events2.emit(PeerEvent::failure(&e));
                }
            });
            if pipeline.add(&decode).is_err() || decode.sync_state_with_parent().is_err() {
                return;
            }
            if let Some(sink) = decode.static_pad("sink")
                && let Err(e) = pad.link(&sink)
            {
                events.emit(PeerEvent::failure(&EngineError::Pipeline(format!(
                    "decoder link: {e:?}"
                ))));
            }
        });
    }

    fn check_open(&self) -> Result<(), EngineError> {
        if self.inner.closed.load(Ordering::Acquire) {
            Err(EngineError::Closed)
        } else {
            Ok(())
        }
    }

    /// `createOffer()`; `ice_restart` asks for new ICE credentials.
    pub async fn create_offer(&self, ice_restart: bool) -> Result<SessionDescription, EngineError> {
        self.check_open()?;
        let webrtc = self.inner.webrtc.clone();
        let opts = ice_restart.then(|| {
            gst::Structure::builder("options")
                .field("ice-restart", true)
                .build()
        });
        let reply =
            with_promise(|p| webrtc.emit_by_name::<()>("create-offer", &[&opts, p])).await?;
        let offer = reply
            .and_then(|s| s.get::<WebRTCSessionDescription>("offer").ok())
            .ok_or_else(|| EngineError::InvalidState("no offer produced".into()))?;
        if ice_restart && self.local_description().is_some() {
            // webrtcbin ignores "ice-restart": restart its agent now (new credentials, new
            // checks); the offer below then carries the new credentials.
            self.restart_ice_agent()?;
        }
        Ok(self.with_agent_credentials(to_description(&offer)?))
    }

    /// Our DTLS role (`active`/`passive`) as the last completed negotiation set it.
    fn dtls_role(&self) -> Option<&'static str> {
        let local = self.description("current-local-description")?;
        let role = if local.kind == SdpKind::Answer {
            crate::sdp::setup(&local.sdp)?
        } else {
            let remote = self.description("current-remote-description")?;
            match crate::sdp::setup(&remote.sdp)? {
                "active" => "passive",
                "passive" => "active",
                _ => return None,
            }
        };
        match role {
            "active" => Some("active"),
            "passive" => Some("passive"),
            _ => None,
        }
    }

    fn restart_ice_agent(&self) -> Result<(), EngineError> {
        crate::ice::restart_agent(&self.inner.webrtc)?;
        self.inner.restarted.store(true, Ordering::Release);
        Ok(())
    }

    /// After a restart, announces the local candidates again for the new credentials (a
    /// browser gathers anew; libnice keeps its candidates, and the remote needs them tagged with
    /// the new generation or it keeps checking with the old ufrag).
    fn announce_candidates_again(&self) {
        if !self.inner.restarted.swap(false, Ordering::AcqRel) {
            return;
        }
        let seen = self
            .inner
            .local_candidates
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default();
        for (mline, candidate) in seen {
            self.inner
                .events
                .emit(PeerEvent::IceCandidate(Some(IceCandidate {
                    candidate,
                    sdp_mid: None,
                    sdp_m_line_index: Some(mline),
                })));
        }
        self.inner.events.emit(PeerEvent::IceCandidate(None));
    }

    /// `desc` with the credentials the ICE agent really uses (webrtcbin writes its first
    /// ones into every description, even after a restart; see `ice.rs`).
    fn with_agent_credentials(&self, mut desc: SessionDescription) -> SessionDescription {
        if let Some((ufrag, pwd)) = crate::ice::agent_credentials(&self.inner.webrtc) {
            desc.sdp = crate::sdp::with_ice_credentials(&desc.sdp, &ufrag, &pwd);
        }
        desc
    }

    /// `createAnswer()`.
    pub async fn create_answer(&self) -> Result<SessionDescription, EngineError> {
        self.check_open()?;
        let webrtc = self.inner.webrtc.clone();
        let reply = with_promise(|p| {
            webrtc.emit_by_name::<()>("create-answer", &[&None::<gst::Structure>, p])
        })
        .await?;
        let answer = reply
            .and_then(|s| s.get::<WebRTCSessionDescription>("answer").ok())
            .ok_or_else(|| {
                EngineError::InvalidState("no answer produced (no remote offer?)".into())
            })?;
        let mut answer = self.with_agent_credentials(to_description(&answer)?);
        if let Some(role) = self.dtls_role()
            && crate::sdp::setup(&answer.sdp) != Some(role)
        {
            // webrtcbin answers `active` whenever it has answered nothing before, even when it
            // is the DTLS server of this call (it made the first offer); browsers refuse a
            // re-answer that flips the role ("Failed to set SSL role").
            answer.sdp = crate::sdp::with_setup(&answer.sdp, role);
        }
        Ok(answer)
    }

    fn parse(desc: &SessionDescription) -> Result<WebRTCSessionDescription, EngineError> {
        let sdp = gst_sdp::SDPMessage::parse_buffer(desc.sdp.as_bytes())
            .map_err(|e| EngineError::BadDescription(e.to_string()))?;
        Ok(WebRTCSessionDescription::new(sdp_type(desc.kind), sdp))
    }

    /// `setLocalDescription(desc)`.
    pub async fn set_local_description(
        &self,
        desc: &SessionDescription,
    ) -> Result<(), EngineError> {
        self.check_open()?;
        let d = Self::parse(desc)?;
        let webrtc = self.inner.webrtc.clone();
        with_promise(|p| webrtc.emit_by_name::<()>("set-local-description", &[&d, p]))
            .await
            .map_err(|e| EngineError::BadDescription(e.to_string()))?;
        if desc.kind == SdpKind::Answer {
            self.settle_video_codec(&desc.sdp, true)?;
        }
        self.announce_candidates_again();
        Ok(())
    }

    /// Argument-less `setLocalDescription()`: an answer if an offer is in, else an offer.
    pub async fn set_local_description_auto(&self) -> Result<SessionDescription, EngineError> {
        let desc = if self.signaling_state() == SignalingState::HaveRemoteOffer {
            self.create_answer().await?
        } else {
            self.create_offer(false).await?
        };
        self.set_local_description(&desc).await?;
        Ok(desc)
    }

    /// `setRemoteDescription(desc)`; payload types of our senders follow the remote's choice.
    pub async fn set_remote_description(
        &self,
        desc: &SessionDescription,
    ) -> Result<(), EngineError> {
        self.check_open()?;
        if desc.kind == SdpKind::Rollback {
            return Err(EngineError::InvalidState(
                "rollback is not supported by this engine".into(),
            ));
        }
        let d = Self::parse(desc)?;
        if desc.kind == SdpKind::Offer {
            self.follow_payload_types(&desc.sdp);
        }
        // A remote offer with new credentials restarts ICE: restart our agent before its
        // credentials and candidates arrive; the answer carries the agent's new credentials.
        let previous = self
            .remote_description()
            .and_then(|r| crate::sdp::ice_credentials(&r.sdp));
        let new = crate::sdp::ice_credentials(&desc.sdp);
        if desc.kind == SdpKind::Offer && previous.is_some() && new.is_some() && new != previous {
            self.restart_ice_agent()?;
        }
        let webrtc = self.inner.webrtc.clone();
        with_promise(|p| webrtc.emit_by_name::<()>("set-remote-description", &[&d, p]))
            .await
            .map_err(|e| EngineError::BadDescription(e.to_string()))?;
        if desc.kind == SdpKind::Answer {
            self.settle_video_codec(&desc.sdp, false)?;
        }
        Ok(())
    }

    /// A browser's offer numbers codecs its own way: send what it expects, and list the video
    /// codecs we accept under its numbers.
    fn follow_payload_types(&self, sdp: &str) {
        if let Some(pt) = crate::sdp::payload_type(sdp, "opus/48000")
            && let Ok(guard) = self.inner.audio.lock()
            && let Some(chain) = guard.as_ref()
        {
            if let Some(pay) = &chain.payloader {
                pay.set_property("pt", pt);
            }
            chain.rtp_caps.set_property("caps", media::opus_caps(pt));
        }
        self.follow_video_offer(sdp);
        self.inner.receive_only.follow_offer(sdp);
    }

    /// `addIceCandidate(candidate)`; `None` marks the end of the remote's candidates.
    pub fn add_ice_candidate(&self, candidate: Option<&IceCandidate>) -> Result<(), EngineError> {
        self.check_open()?;
        let Some(c) = candidate else { return Ok(()) };
        if c.candidate.is_empty() {
            return Ok(());
        }
        let mline = match (c.sdp_m_line_index, c.sdp_mid.as_deref()) {
            (Some(i), _) => i,
            (None, Some(mid)) => self
                .mline_of_mid(mid)
                .ok_or_else(|| EngineError::BadCandidate(format!("unknown mid {mid}")))?,
            (None, None) => {
                return Err(EngineError::BadCandidate(
                    "neither sdpMid nor sdpMLineIndex".into(),
                ));
            }
        };
        let line = c.candidate.strip_prefix("a=").unwrap_or(&c.candidate);
        self.inner
            .webrtc
            .emit_by_name::<()>("add-ice-candidate", &[&mline, &line]);
        Ok(())
    }

    fn mline_of_mid(&self, mid: &str) -> Option<u32> {
        let remote = self.remote_description()?;
        crate::sdp::mline_of_mid(&remote.sdp, mid)
    }

    fn description(&self, prop: &str) -> Option<SessionDescription> {
        let d = self
            .inner
            .webrtc
            .property::<Option<WebRTCSessionDescription>>(prop)?;
        to_description(&d).ok()
    }

    /// `localDescription`.
    pub fn local_description(&self) -> Option<SessionDescription> {
        self.description("local-description")
    }

    /// `remoteDescription`.
    pub fn remote_description(&self) -> Option<SessionDescription> {
        self.description("remote-description")
    }

    /// `currentRemoteDescription`.
    pub fn current_remote_description(&self) -> Option<SessionDescription> {
        self.description("current-remote-description")
    }

    /// `signalingState`.
    pub fn signaling_state(&self) -> SignalingState {
        signaling(self.inner.webrtc.property("signaling-state"))
    }

    /// `connectionState`.
    pub fn connection_state(&self) -> ConnectionState {
        connection(self.inner.webrtc.property("connection-state"))
    }

    /// Remote video frames decoded so far.
    pub fn frames_decoded(&self) -> u64 {
        self.inner.counters.frames_decoded.load(Ordering::Relaxed)
    }

    /// Width and height of the latest decoded remote video frame (0x0 before the first).
    pub fn remote_video_size(&self) -> (u32, u32) {
        let c = &self.inner.counters;
        (
            c.frame_width.load(Ordering::Relaxed),
            c.frame_height.load(Ordering::Relaxed),
        )
    }

    /// Local video frames encoded so far (sent, unless the network drops them).
    pub fn frames_encoded(&self) -> u64 {
        self.inner.counters.frames_encoded.load(Ordering::Relaxed)
    }

    /// Peak level of the latest remote audio buffer, 0..1.
    pub fn audio_level(&self) -> f64 {
        self.inner.counters.audio_level()
    }

    /// Highest remote audio level since the previous call, 0..1.
    pub fn take_audio_peak(&self) -> f64 {
        self.inner.counters.take_audio_peak()
    }

    /// Remote audio buffers received so far.
    pub fn audio_buffers(&self) -> u64 {
        self.inner.counters.audio_buffers.load(Ordering::Relaxed)
    }

    /// `getStats()` as W3C-shaped records.
    pub async fn stats(&self) -> Result<Vec<serde_json::Value>, EngineError> {
        self.check_open()?;
        let webrtc = self.inner.webrtc.clone();
        let reply =
            with_promise(|p| webrtc.emit_by_name::<()>("get-stats", &[&None::<gst::Pad>, p]))
                .await?;
        let mut announced = Vec::new();
        for desc in [self.local_description(), self.remote_description()]
            .into_iter()
            .flatten()
        {
            announced.extend(crate::sdp::ssrc_kinds(&desc.sdp));
        }
        Ok(reply
            .map(|r| crate::stats::records(&r, &self.inner.counters, &announced))
            .unwrap_or_default())
    }

    /// Mute (the sender carries silence) or unmute the microphone.
    pub fn set_audio_muted(&self, muted: bool) {
        if let Ok(guard) = self.inner.audio.lock()
            && let Some(chain) = guard.as_ref()
        {
            chain.gate.set_property("mute", muted);
        }
    }

    /// Stop (true) or resume sending video frames, as `replaceTrack(null)` / a track again.
    pub fn set_video_paused(&self, paused: bool) {
        if let Ok(guard) = self.inner.video.lock()
            && let Some(chain) = guard.as_ref()
        {
            chain.gate.set_property("drop", paused);
        }
    }

    /// Closes: stops the pipeline, closes channels, ends the event stream.
    pub fn close(&self) {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Ok(mut channels) = self.inner.channels.lock() {
            for ch in channels.values() {
                ch.close();
            }
            channels.clear();
        }
        let _ = self.inner.pipeline.set_state(gst::State::Null);
        self.inner
            .events
            .emit(PeerEvent::ConnectionState(ConnectionState::Closed));
    }

    pub(crate) fn webrtc(&self) -> &gst::Element {
        &self.inner.webrtc
    }

    pub(crate) fn events(&self) -> &EventSink {
        &self.inner.events
    }

    pub(crate) fn video_chain(&self) -> &Mutex<Option<SendChain>> {
        &self.inner.video
    }

    pub(crate) fn audio_chain(&self) -> &Mutex<Option<SendChain>> {
        &self.inner.audio
    }

    pub(crate) fn channels(&self) -> &Mutex<HashMap<u16, WebRTCDataChannel>> {
        &self.inner.channels
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}
