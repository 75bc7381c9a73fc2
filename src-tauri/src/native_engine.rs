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

/// An engine error as the UI receives it.
#[derive(Debug, Serialize)]
pub struct NativeError {
    code: &'static str,
    message: String,
}

impl From<EngineError> for NativeError {
    fn from(e: EngineError) -> Self {
        Self {
            code: e.code(),
            message: e.to_string(),
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

fn media_options(ice: &[IceServer]) -> MediaOptions {
    // Mock media (tests, machines without devices): test sources, nothing played aloud.
    let mock = std::env::var("PARLEY_MOCK_MEDIA").is_ok_and(|v| v == "1");
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
                let user = server.username.as_deref().unwrap_or_default();
                let pass = server.credential.as_deref().unwrap_or_default();
                let host = rest.split('?').next().unwrap_or(rest);
                opts.turn_servers
                    .push(format!("turn://{user}:{pass}@{host}"));
            }
        }
    }
    opts
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
        PeerEvent::Error { code, message } => {
            json!({ "type": "error", "code": code, "message": message })
        }
    }
}

/// Whether this build and machine can run the native engine (GStreamer and its plugins).
#[tauri::command]
pub fn native_available() -> bool {
    parley_media_gst::init().is_ok()
}

/// Cameras, microphones and speakers the engine can use.
#[tauri::command]
pub fn native_devices() -> Vec<parley_media_gst::devices::DeviceEntry> {
    parley_media_gst::devices::list()
}

/// Creates a peer connection; its events go to `events` until it closes.
#[tauri::command]
pub fn native_create(
    state: State<'_, NativeEngines>,
    ice_servers: Vec<IceServer>,
    events: Channel<Value>,
) -> Result<u32, NativeError> {
    let (pc, mut rx) = PeerConnection::new(media_options(&ice_servers))?;
    let id = state.next.fetch_add(1, Ordering::Relaxed) + 1;
    state.peers().insert(id, pc);
    tauri::async_runtime::spawn(async move {
        while let Some(ev) = rx.recv().await {
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
pub fn native_close(state: State<'_, NativeEngines>, pc: u32) {
    if let Some(pc) = state.peers().remove(&pc) {
        pc.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ice_servers_become_webrtcbin_urls() {
        let ice: Vec<IceServer> = serde_json::from_value(json!([
            { "urls": "stun:stun.example.org:3478" },
            { "urls": ["turn:turn.example.org:3478?transport=udp"], "username": "u", "credential": "p" }
        ]))
        .unwrap_or_default();
        let opts = media_options(&ice);
        assert_eq!(
            opts.stun_server.as_deref(),
            Some("stun://stun.example.org:3478")
        );
        assert_eq!(
            opts.turn_servers,
            vec!["turn://u:p@turn.example.org:3478".to_string()]
        );
    }
}
