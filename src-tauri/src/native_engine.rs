//! The native WebRTC engine (GStreamer, `parley-media-gst`) as Tauri commands, for webviews
//! without `RTCPeerConnection` (WebKitGTK). The UI's adapter (ui/src/engine/native/) gives it
//! `RTCPeerConnection`'s shape; each connection's events go to the UI over one IPC channel.
//!
//! Commands take `pc` (the id `native_create` returned); errors carry a stable `code`
//! (`missing-plugin`, `no-device`, `bad-description`, ...) so the UI can say what to do.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use parley_media_gst::{
    AudioOutput, AudioSource, ChannelInit, ConnectionState, EngineError, IceCandidate, MediaKind,
    MediaOptions, PeerConnection, PeerEvent, SessionDescription, VideoOutput, VideoSource,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tauri::State;
use tauri::ipc::Channel;

mod sources;

use sources::{Source, StartPaused, source_for};
pub use sources::{SourceRequest, StartSources};

/// Live native peer connections by id.
#[derive(Default)]
pub struct NativeEngines {
    next: AtomicU32,
    peers: Mutex<HashMap<u32, PeerConnection>>,
}

impl NativeEngines {
    fn peers(&self) -> MutexGuard<'_, HashMap<u32, PeerConnection>> {
        self.peers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, pc: u32) -> Result<PeerConnection, NativeError> {
        self.peers()
            .get(&pc)
            .cloned()
            .ok_or_else(|| NativeError::from(EngineError::Closed))
    }
}

/// An engine error as the UI receives it: `code` picks the error banner's text, `detail` fills
/// it in (the package to install, the device).
#[derive(Debug, Serialize)]
pub struct NativeError {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

impl From<EngineError> for NativeError {
    fn from(e: EngineError) -> Self {
        // Every failure the page sees is in the app's log too (the page's console is not).
        tracing::warn!(error = %e, "native engine command failed");
        Self {
            code: e.code(),
            message: e.to_string(),
            detail: e.detail(),
        }
    }
}

/// A camera or microphone that is missing or busy should cost the call that one source, not
/// the whole call: true for the errors worth retrying without it.
fn is_device_error(e: &EngineError) -> bool {
    matches!(e, EngineError::NoDevice(_) | EngineError::DeviceBusy(_))
}

/// Whether the error's detail names one of `words` (device kinds in our messages, the send
/// bin in GStreamer element paths).
fn is_about(e: &EngineError, words: &[&str]) -> bool {
    e.detail()
        .is_some_and(|d| words.iter().any(|w| d.contains(w)))
}

/// Starts a connection with `opts`, with the senders in `paused` paused; a failing camera, then
/// a failing microphone, is replaced by a paused test source (black, silent) and reported
/// rather than failing the call. The sender stays negotiated, so switching to a working device
/// later needs no renegotiation. Returns what was replaced and why.
fn start_with_fallback(
    mut opts: MediaOptions,
    paused: StartPaused,
) -> Result<
    (
        PeerConnection,
        tokio::sync::mpsc::Receiver<PeerEvent>,
        Vec<EngineError>,
    ),
    EngineError,
> {
    let mut dropped = Vec::new();
    let (mut no_video, mut no_audio) = (paused.video, paused.audio);
    loop {
        match PeerConnection::new(opts.clone()) {
            Ok((pc, rx)) => {
                if no_video {
                    pc.set_video_paused(true);
                }
                if no_audio {
                    pc.set_audio_muted(true);
                }
                return Ok((pc, rx, dropped));
            }
            Err(e)
                if is_device_error(&e)
                    && !no_video
                    && opts.video != VideoSource::None
                    && !is_about(&e, &["microphone", "audio-send"]) =>
            {
                opts.video = sources::black();
                no_video = true;
                dropped.push(e);
            }
            Err(e) if is_device_error(&e) && !no_audio && opts.audio != AudioSource::None => {
                opts.audio = sources::silence();
                no_audio = true;
                dropped.push(e);
            }
            Err(e) => return Err(e),
        }
    }
}

/// `RTCIceServer` as the UI passes it.
#[derive(Debug, Deserialize)]
pub struct IceServer {
    urls: Value,
    username: Option<String>,
    credential: Option<String>,
}

/// `PARLEY_MOCK_MEDIA=1` (tests, machines without devices): test sources, nothing played aloud.
fn mock_media() -> bool {
    std::env::var("PARLEY_MOCK_MEDIA").is_ok_and(|v| v == "1")
}

/// The engine's options for a call with `ice` servers starting on `start`'s devices (`None`:
/// the defaults); also which senders start paused.
fn media_options(ice: &[IceServer], start: Option<&StartSources>) -> (MediaOptions, StartPaused) {
    // Mock media (tests, machines without devices): test sources, nothing played aloud.
    let mock = mock_media();
    let mut opts = MediaOptions {
        video_output: VideoOutput::Jpeg,
        ..MediaOptions::default()
    };
    if mock {
        opts.video = VideoSource::Test {
            pattern: "ball".into(),
        };
        opts.audio = AudioSource::Test { freq: 440 };
        opts.audio_output = AudioOutput::Discard;
    }
    let paused = start.map_or_else(StartPaused::default, |s| {
        sources::apply_start_sources(&mut opts, s, mock)
    });
    for server in ice {
        let urls: Vec<String> = match &server.urls {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|u| u.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        for url in urls {
            if let Some(rest) = url.strip_prefix("stun:") {
                opts.stun_server
                    .get_or_insert_with(|| format!("stun://{rest}"));
            } else if let Some(rest) = url.strip_prefix("turn:") {
                let user = escape_userinfo(server.username.as_deref().unwrap_or_default());
                let pass = escape_userinfo(server.credential.as_deref().unwrap_or_default());
                let host = rest.split('?').next().unwrap_or(rest);
                opts.turn_servers
                    .push(format!("turn://{user}:{pass}@{host}"));
            }
        }
    }
    (opts, paused)
}

/// Percent-encodes all but unreserved characters: webrtcbin splits the URI's user info at its
/// first `:` and then unescapes both halves, and TURN REST credentials (ours are
/// `expiry:peerId` with a base64 password) hold `:`, `/`, `+` and `=`.
fn escape_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn event_json(ev: PeerEvent) -> Value {
    match ev {
        PeerEvent::IceCandidate(c) => json!({ "type": "candidate", "candidate": c }),
        PeerEvent::ConnectionState(s) => json!({ "type": "connectionState", "state": s }),
        PeerEvent::IceConnectionState(s) => json!({ "type": "iceConnectionState", "state": s }),
        PeerEvent::SignalingState(s) => json!({ "type": "signalingState", "state": s }),
        PeerEvent::NegotiationNeeded => json!({ "type": "negotiationNeeded" }),
        PeerEvent::Track(kind) => json!({ "type": "track", "kind": kind }),
        PeerEvent::ChannelOpen(id) => json!({ "type": "channelOpen", "id": id }),
        PeerEvent::ChannelClosed(id) => json!({ "type": "channelClosed", "id": id }),
        PeerEvent::ChannelText(id, text) => {
            json!({ "type": "channelText", "id": id, "text": text })
        }
        PeerEvent::ChannelBinary(id, data) => {
            json!({ "type": "channelBinary", "id": id, "base64": BASE64.encode(data) })
        }
        PeerEvent::ChannelBufferedAmountLow(id) => {
            json!({ "type": "channelBufferedAmountLow", "id": id, "bufferedAmount": 0 })
        }
        PeerEvent::VideoFrame(f) => json!({
            "type": "frame", "width": f.width, "height": f.height, "jpegBase64": BASE64.encode(f.data)
        }),
        PeerEvent::Error {
            code,
            message,
            detail,
        } => json!({ "type": "error", "code": code, "message": message, "detail": detail }),
    }
}

/// Whether this machine can run the native engine: `true`, or why not (a missing plugin names
/// its package, so the UI can say what to install).
#[tauri::command]
pub fn native_available() -> Result<bool, NativeError> {
    parley_media_gst::init()?;
    Ok(true)
}

/// Cameras, microphones and speakers the engine can use.
#[tauri::command]
pub fn native_devices() -> Vec<parley_media_gst::devices::DeviceEntry> {
    parley_media_gst::devices::list()
}

/// Creates a peer connection, capturing from the devices of the call's first tracks
/// (`sources`; without it, the default devices); its events go to `events` until it closes.
#[tauri::command]
pub async fn native_create(
    state: State<'_, NativeEngines>,
    ice_servers: Vec<IceServer>,
    sources: Option<StartSources>,
    events: Channel<Value>,
) -> Result<u32, NativeError> {
    let (opts, paused) = media_options(&ice_servers, sources.as_ref());
    let (pc, mut rx, dropped) = off_main(move || start_with_fallback(opts, paused)).await?;
    let id = state.next.fetch_add(1, Ordering::Relaxed) + 1;
    state.peers().insert(id, pc);
    for e in &dropped {
        let _ = events.send(event_json(PeerEvent::failure(e)));
    }
    tauri::async_runtime::spawn(async move {
        while let Some(ev) = rx.recv().await {
            match &ev {
                PeerEvent::ConnectionState(state) => tracing::info!(?state, "native call"),
                PeerEvent::Error { code, message, .. } => {
                    tracing::warn!(%code, %message, "native engine error");
                }
                // Frames and messages are the call's content, not its course.
                PeerEvent::VideoFrame(_)
                | PeerEvent::ChannelText(..)
                | PeerEvent::ChannelBinary(..)
                | PeerEvent::ChannelBufferedAmountLow(_) => {}
                other => tracing::debug!(event = ?other, "native engine event"),
            }
            let closed = matches!(ev, PeerEvent::ConnectionState(ConnectionState::Closed));
            if events.send(event_json(ev)).is_err() || closed {
                break;
            }
        }
    });
    Ok(id)
}

/// `createDataChannel(label, { negotiated: true, id, ordered })`.
#[tauri::command]
pub fn native_create_channel(
    state: State<'_, NativeEngines>,
    pc: u32,
    label: String,
    channel: u16,
    ordered: bool,
) -> Result<(), NativeError> {
    Ok(state.get(pc)?.create_data_channel(
        &label,
        &ChannelInit {
            id: channel,
            ordered,
        },
    )?)
}

/// Argument-less `setLocalDescription()` (offer or answer as the state requires).
#[tauri::command]
pub async fn native_set_local_auto(
    state: State<'_, NativeEngines>,
    pc: u32,
    ice_restart: bool,
) -> Result<SessionDescription, NativeError> {
    let pc = state.get(pc)?;
    if ice_restart && pc.signaling_state() == parley_media_gst::SignalingState::Stable {
        let offer = pc.create_offer(true).await?;
        pc.set_local_description(&offer).await?;
        return Ok(offer);
    }
    Ok(pc.set_local_description_auto().await?)
}

/// `setLocalDescription(description)`.
#[tauri::command]
pub async fn native_set_local(
    state: State<'_, NativeEngines>,
    pc: u32,
    description: SessionDescription,
) -> Result<(), NativeError> {
    let pc = state.get(pc)?;
    Ok(pc.set_local_description(&description).await?)
}

/// `setRemoteDescription(description)`.
#[tauri::command]
pub async fn native_set_remote(
    state: State<'_, NativeEngines>,
    pc: u32,
    description: SessionDescription,
) -> Result<(), NativeError> {
    let pc = state.get(pc)?;
    Ok(pc.set_remote_description(&description).await?)
}

/// `addIceCandidate(candidate)`; `null` ends the remote's candidates.
#[tauri::command]
pub fn native_add_candidate(
    state: State<'_, NativeEngines>,
    pc: u32,
    candidate: Option<IceCandidate>,
) -> Result<(), NativeError> {
    Ok(state.get(pc)?.add_ice_candidate(candidate.as_ref())?)
}

/// `channel.send(text)`; returns the channel's buffered amount.
#[tauri::command]
pub fn native_send_text(
    state: State<'_, NativeEngines>,
    pc: u32,
    channel: u16,
    text: String,
) -> Result<u64, NativeError> {
    let pc = state.get(pc)?;
    pc.send_text(channel, &text)?;
    Ok(pc.buffered_amount(channel)?)
}

/// `channel.send(bytes)` with the bytes in base64; returns the buffered amount.
#[tauri::command]
pub fn native_send_binary(
    state: State<'_, NativeEngines>,
    pc: u32,
    channel: u16,
    base64: String,
) -> Result<u64, NativeError> {
    let pc = state.get(pc)?;
    let data = BASE64.decode(base64.as_bytes()).map_err(|e| NativeError {
        code: "bad-data",
        message: e.to_string(),
        detail: None,
    })?;
    pc.send_binary(channel, &data)?;
    Ok(pc.buffered_amount(channel)?)
}

/// Mute/unmute audio, or pause/resume video (`replaceTrack(null)` / a track again).
#[tauri::command]
pub fn native_set_sending(
    state: State<'_, NativeEngines>,
    pc: u32,
    kind: MediaKind,
    on: bool,
) -> Result<(), NativeError> {
    let pc = state.get(pc)?;
    match kind {
        MediaKind::Audio => pc.set_audio_muted(!on),
        MediaKind::Video => pc.set_video_paused(!on),
    }
    Ok(())
}

/// Runs a pipeline change that may block (device open and close, state changes) on the
/// blocking pool: on the main thread a slow device would freeze the window.
async fn off_main<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, EngineError> + Send + 'static,
) -> Result<T, NativeError> {
    match tauri::async_runtime::spawn_blocking(work).await {
        Ok(result) => Ok(result?),
        Err(e) => Err(NativeError::from(EngineError::Pipeline(format!(
            "engine task failed: {e}"
        )))),
    }
}

/// `replaceTrack(track)` with a track of another device, or the screen.
#[tauri::command]
pub async fn native_set_source(
    state: State<'_, NativeEngines>,
    pc: u32,
    source: SourceRequest,
) -> Result<(), NativeError> {
    let pc = state.get(pc)?;
    tracing::info!(?source, "native engine: switching source");
    let source = source_for(&source, mock_media());
    off_main(move || match source {
        Source::Video(v) => pc.set_video_source(&v),
        Source::Audio(a) => pc.set_audio_source(&a),
    })
    .await?;
    tracing::debug!("native engine: source switched");
    Ok(())
}

/// `getStats()` as W3C-shaped records.
#[tauri::command]
pub async fn native_stats(
    state: State<'_, NativeEngines>,
    pc: u32,
) -> Result<Vec<Value>, NativeError> {
    let pc = state.get(pc)?;
    Ok(pc.stats().await?)
}

/// `close()`.
#[tauri::command]
pub async fn native_close(state: State<'_, NativeEngines>, pc: u32) -> Result<(), NativeError> {
    let Some(pc) = state.peers().remove(&pc) else {
        return Ok(());
    };
    off_main(move || {
        pc.close();
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_reach_the_ui_with_code_and_detail() {
        let missing = NativeError::from(EngineError::MissingPlugin {
            element: "vp8enc".into(),
            plugin: "vpx (gstreamer1.0-plugins-good)".into(),
        });
        assert_eq!(
            serde_json::to_value(&missing).unwrap_or_default(),
            json!({
                "code": "missing-plugin",
                "message": "GStreamer element `vp8enc` is missing (install the package that has the `vpx (gstreamer1.0-plugins-good)` plugin)",
                "detail": "vpx (gstreamer1.0-plugins-good)"
            })
        );
        let busy = event_json(PeerEvent::failure(&EngineError::DeviceBusy(
            "camera /dev/video0".into(),
        )));
        assert_eq!(busy["type"], "error");
        assert_eq!(busy["code"], "device-busy");
        assert_eq!(busy["detail"], "camera /dev/video0");
        let closed =
            serde_json::to_value(NativeError::from(EngineError::Closed)).unwrap_or_default();
        assert_eq!(closed["code"], "closed");
        assert!(closed.get("detail").is_none());
    }

    #[test]
    fn a_missing_microphone_costs_the_audio_not_the_camera() {
        let opts = MediaOptions {
            video: VideoSource::Test {
                pattern: "ball".into(),
            },
            audio: AudioSource::Microphone {
                id: Some("parley-no-such-mic".into()),
            },
            audio_output: AudioOutput::Discard,
            video_output: VideoOutput::CountOnly,
            ..MediaOptions::default()
        };
        let Ok((pc, _rx, dropped)) = start_with_fallback(opts, StartPaused::default()) else {
            panic!("the call should start without the microphone");
        };
        assert_eq!(dropped.len(), 1, "only the microphone is replaced");
        assert!(is_about(&dropped[0], &["microphone"]));
        pc.close();
    }

    #[test]
    fn a_missing_camera_costs_the_video_not_the_call() {
        // This machine has no camera: the connection starts without video and says why.
        let opts = MediaOptions {
            video: VideoSource::Camera {
                id: Some("parley-no-such-camera".into()),
            },
            audio: AudioSource::Test { freq: 440 },
            audio_output: AudioOutput::Discard,
            video_output: VideoOutput::CountOnly,
            ..MediaOptions::default()
        };
        let Ok((pc, _rx, dropped)) = start_with_fallback(opts, StartPaused::default()) else {
            panic!("the call should start without the camera");
        };
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].code(), "no-device");
        assert!(
            dropped[0]
                .detail()
                .is_some_and(|d| d.contains("parley-no-such-camera"))
        );
        pc.close();
    }

    #[test]
    fn ice_servers_become_webrtcbin_urls() {
        let ice: Vec<IceServer> = serde_json::from_value(json!([
            { "urls": "stun:stun.example.org:3478" },
            { "urls": ["turn:turn.example.org:3478?transport=udp"], "username": "u", "credential": "p" }
        ]))
        .unwrap_or_default();
        let opts = media_options(&ice, None).0;
        assert_eq!(
            opts.stun_server.as_deref(),
            Some("stun://stun.example.org:3478")
        );
        assert_eq!(
            opts.turn_servers,
            vec!["turn://u:p@turn.example.org:3478".to_string()]
        );
    }

    #[test]
    fn turn_rest_credentials_are_escaped_in_the_webrtcbin_uri() {
        // As the signaling server's `welcome` hands them out: `expiry:peerId`, base64 password.
        let ice: Vec<IceServer> = serde_json::from_value(json!([{
            "urls": "turn:turn.example.org:3478",
            "username": "1700000000:peer-1",
            "credential": "a/b+c9=="
        }]))
        .unwrap_or_default();
        assert_eq!(
            media_options(&ice, None).0.turn_servers,
            vec!["turn://1700000000%3Apeer-1:a%2Fb%2Bc9%3D%3D@turn.example.org:3478".to_string()]
        );
    }
}
