//! One call: signaling, negotiation (UI rules), chat, files, status reports.

use std::sync::Arc;
use std::time::Duration;

use parley_media_gst::{
    ChannelInit, ConnectionState, IceCandidate, PeerConnection, PeerEvent, SdpKind,
    SessionDescription,
};
use parley_protocol::{ClientMessage, PeerId, ServerMessage};
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;
use tokio::sync::Notify;

use crate::args::Args;
use crate::files::{self, FILES};
use crate::report;
use crate::signaling::Signaling;

const CHAT: u16 = 0;

struct Call {
    pc: PeerConnection,
    remote: PeerId,
    polite: bool,
    pending: Vec<Option<IceCandidate>>,
    incoming: files::Incoming,
    drained: Arc<Notify>,
    verified: bool,
    /// The `restart-ice` command asked for an ICE restart offer.
    restart_requested: bool,
}

fn description_message(d: &SessionDescription) -> Value {
    json!({ "description": d })
}

impl Call {
    async fn receive(&mut self, sig: &mut Signaling, data: Value) -> Result<(), String> {
        if let Some(d) = data.get("description") {
            let desc: SessionDescription =
                serde_json::from_value(d.clone()).map_err(|e| e.to_string())?;
            report(json!({ "event": "remote-description", "type": desc.kind, "sdp": desc.sdp }));
            let stable = self.pc.signaling_state() == parley_media_gst::SignalingState::Stable;
            if desc.kind == SdpKind::Offer && !stable && !self.polite {
                return Ok(()); // Collision: the impolite side ignores the other's offer.
            }
            self.pc
                .set_remote_description(&desc)
                .await
                .map_err(|e| e.to_string())?;
            for c in std::mem::take(&mut self.pending) {
                if let Err(e) = self.pc.add_ice_candidate(c.as_ref()) {
                    tracing::warn!("candidate: {e}");
                }
            }
            if desc.kind == SdpKind::Offer {
                let answer = self
                    .pc
                    .set_local_description_auto()
                    .await
                    .map_err(|e| e.to_string())?;
                self.send_description(sig, &answer).await?;
            }
        } else if let Some(c) = data.get("candidate") {
            let cand: Option<IceCandidate> = if c.is_null() {
                None
            } else {
                serde_json::from_value(c.clone()).ok()
            };
            if self.pc.remote_description().is_none() {
                self.pending.push(cand);
            } else if let Err(e) = self.pc.add_ice_candidate(cand.as_ref()) {
                tracing::warn!("candidate: {e}");
            }
        }
        Ok(())
    }

    /// Sends our description, and reports it (tests compare ICE credentials across restarts).
    async fn send_description(
        &self,
        sig: &mut Signaling,
        d: &SessionDescription,
    ) -> Result<(), String> {
        report(json!({ "event": "local-description", "type": d.kind, "sdp": d.sdp }));
        self.signal(sig, description_message(d)).await
    }

    /// Offers an ICE restart (new credentials), as `restartIce()` + negotiation would.
    async fn restart_ice(&self, sig: &mut Signaling) -> Result<(), String> {
        if self.pc.signaling_state() != parley_media_gst::SignalingState::Stable {
            return Err("ICE restart while negotiating".into());
        }
        let offer = self
            .pc
            .create_offer(true)
            .await
            .map_err(|e| e.to_string())?;
        self.pc
            .set_local_description(&offer)
            .await
            .map_err(|e| e.to_string())?;
        self.send_description(sig, &offer).await
    }

    async fn signal(&self, sig: &mut Signaling, data: Value) -> Result<(), String> {
        sig.send(&ClientMessage::Signal {
            to: self.remote.clone(),
            data,
        })
        .await
    }

    fn verify(&mut self) {
        if self.verified {
            return;
        }
        let local = self.pc.local_description();
        let remote = self
            .pc
            .current_remote_description()
            .or_else(|| self.pc.remote_description());
        if let (Some(l), Some(r)) = (local, remote)
            && let Some(code) = parley_media_gst::verify::verification_code(&l.sdp, &r.sdp)
        {
            self.verified = true;
            report(json!({ "event": "verification", "code": code }));
        }
    }

    /// Handles an engine event; `true` ends the call.
    async fn engine(&mut self, sig: &mut Signaling, ev: PeerEvent) -> Result<bool, String> {
        match ev {
            PeerEvent::IceCandidate(c) => self.signal(sig, json!({ "candidate": c })).await?,
            PeerEvent::ConnectionState(s) => {
                report(json!({ "event": "connection", "state": s }));
                if s == ConnectionState::Connected {
                    self.verify();
                }
            }
            PeerEvent::IceConnectionState(s) => report(json!({ "event": "ice", "state": s })),
            PeerEvent::Track(kind) => report(json!({ "event": "track", "kind": kind })),
            PeerEvent::ChannelOpen(id) => {
                report(json!({ "event": "channel-open", "id": id }));
                if id == CHAT {
                    let note =
                        json!({ "t": "media", "audio": true, "video": true, "screen": false });
                    let _ = self.pc.send_text(CHAT, &note.to_string());
                }
            }
            PeerEvent::ChannelClosed(id) => report(json!({ "event": "channel-closed", "id": id })),
            PeerEvent::ChannelText(CHAT, text) => return Ok(self.chat(&text)),
            PeerEvent::ChannelText(FILES, text) => {
                if let Ok(v) = serde_json::from_str::<Value>(&text) {
                    self.incoming.text(&self.pc, &v);
                }
            }
            PeerEvent::ChannelBinary(FILES, data) => self.incoming.binary(&data),
            PeerEvent::ChannelBufferedAmountLow(FILES) => self.drained.notify_waiters(),
            PeerEvent::Error {
                code,
                message,
                detail,
            } => report(json!({
                "event": "engine-error", "code": code, "message": message, "detail": detail
            })),
            _ => {}
        }
        Ok(false)
    }

    fn chat(&mut self, text: &str) -> bool {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return false;
        };
        match v["t"].as_str() {
            Some("chat") => {
                report(json!({ "event": "chat", "text": v["text"], "id": v["id"] }));
                let _ = self
                    .pc
                    .send_text(CHAT, &json!({ "t": "ack", "id": v["id"] }).to_string());
            }
            Some("ack") => report(json!({ "event": "delivered", "id": v["id"] })),
            Some("media") => {
                report(json!({ "event": "remote-media", "audio": v["audio"], "video": v["video"] }))
            }
            Some("bye") => {
                report(json!({ "event": "ended", "reason": "remote-hangup" }));
                return true;
            }
            _ => {}
        }
        false
    }

    /// A stdin command; `true` ends the call.
    fn command(&mut self, line: &str) -> bool {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            return false;
        };
        match v["cmd"].as_str() {
            Some("chat") => {
                let id = format!(
                    "native-{}",
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_nanos())
                        .unwrap_or(0)
                );
                let at = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as u64)
                    .unwrap_or(0);
                let msg = json!({ "t": "chat", "id": id, "text": v["text"], "at": at });
                match self.pc.send_text(CHAT, &msg.to_string()) {
                    Ok(()) => report(json!({ "event": "chat-sent", "id": id })),
                    Err(e) => report(json!({ "event": "error", "message": e.to_string() })),
                }
            }
            Some("file") => {
                let path = v["path"].as_str().unwrap_or_default().to_owned();
                let name = v["name"].as_str().unwrap_or("file.bin").to_owned();
                tokio::spawn(files::send(
                    self.pc.clone(),
                    Arc::clone(&self.drained),
                    path,
                    name,
                ));
            }
            Some("mute") => self.pc.set_audio_muted(v["on"].as_bool().unwrap_or(true)),
            Some("camera-off") => self.pc.set_video_paused(v["on"].as_bool().unwrap_or(true)),
            Some("restart-ice") => self.restart_requested = true,
            Some("hangup") => {
                let _ = self.pc.send_text(CHAT, &json!({ "t": "bye" }).to_string());
                report(json!({ "event": "ended", "reason": "hangup" }));
                return true;
            }
            _ => {}
        }
        false
    }
}

/// Joins (or creates) the room, calls whoever is there, runs until the call ends.
pub(crate) async fn run(args: Args) -> Result<(), String> {
    let mut sig = Signaling::connect(&args.server).await?;
    let me = loop {
        match sig.recv().await? {
            Some(ServerMessage::Welcome { peer_id, .. }) => break peer_id,
            Some(other) => tracing::debug!("before welcome: {other:?}"),
            None => return Err("server closed before welcome".into()),
        }
    };
    report(json!({ "event": "welcome", "peerId": me.0 }));
    match &args.join {
        Some(code) => {
            sig.send(&ClientMessage::Join { code: code.clone() })
                .await?
        }
        None => sig.send(&ClientMessage::Create {}).await?,
    }
    let remote = loop {
        match sig.recv().await? {
            Some(ServerMessage::Created { code, .. }) => {
                report(json!({ "event": "created", "code": code }))
            }
            Some(ServerMessage::Joined { peers, .. }) => {
                report(json!({ "event": "joined" }));
                if let Some(p) = peers.into_iter().next() {
                    break p;
                }
            }
            Some(ServerMessage::PeerJoined { peer }) => break peer,
            Some(ServerMessage::Full { .. }) => return Err("room full".into()),
            Some(ServerMessage::NoSuchRoom { .. }) => return Err("no such room".into()),
            Some(ServerMessage::Error { message, .. }) => return Err(message),
            Some(_) => {}
            None => return Err("server closed".into()),
        }
    };
    let (pc, mut events) =
        PeerConnection::new(args.media.clone()).map_err(|e| format!("{}: {e}", e.code()))?;
    pc.create_data_channel(
        "chat",
        &ChannelInit {
            id: CHAT,
            ordered: true,
        },
    )
    .map_err(|e| e.to_string())?;
    pc.create_data_channel(
        "files",
        &ChannelInit {
            id: FILES,
            ordered: true,
        },
    )
    .map_err(|e| e.to_string())?;
    let polite = me < remote;
    report(json!({ "event": "meet", "remote": remote.0, "polite": polite }));
    let mut call = Call {
        pc: pc.clone(),
        remote,
        polite,
        pending: Vec::new(),
        incoming: files::Incoming::default(),
        drained: Arc::new(Notify::new()),
        verified: false,
        restart_requested: false,
    };
    if !polite {
        let offer = pc
            .set_local_description_auto()
            .await
            .map_err(|e| e.to_string())?;
        call.send_description(&mut sig, &offer).await?;
    }
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let result = loop {
        tokio::select! {
            msg = sig.recv() => match msg {
                Ok(Some(ServerMessage::Signal { from, data })) if from == call.remote => {
                    if let Err(e) = call.receive(&mut sig, data).await {
                        report(json!({ "event": "negotiation-error", "message": e }));
                    }
                }
                Ok(Some(ServerMessage::PeerLeft { peer, .. })) if peer == call.remote => {
                    report(json!({ "event": "ended", "reason": "peer-left" }));
                    break Ok(());
                }
                Ok(Some(_)) => {}
                Ok(None) => break Err("signaling closed".to_owned()),
                Err(e) => break Err(e),
            },
            ev = events.recv() => match ev {
                Some(ev) => match call.engine(&mut sig, ev).await {
                    Ok(true) => break Ok(()),
                    Ok(false) => {}
                    Err(e) => break Err(e),
                },
                None => break Err("engine stopped".to_owned()),
            },
            line = stdin.next_line(), if stdin_open => match line {
                Ok(Some(line)) => {
                    if call.command(&line) {
                        break Ok(());
                    }
                    if std::mem::take(&mut call.restart_requested)
                        && let Err(e) = call.restart_ice(&mut sig).await
                    {
                        report(json!({ "event": "negotiation-error", "message": e }));
                    }
                }
                _ => stdin_open = false,
            },
            _ = tick.tick() => {
                report(json!({
                    "event": "status",
                    "framesDecoded": call.pc.frames_decoded(),
                    "framesEncoded": call.pc.frames_encoded(),
                    "at": parley_media_gst::stamp::now_ms32(),
                    "sendCodec": call.pc.video_send_codec(),
                    "audioBuffers": call.pc.audio_buffers(),
                    "audioPeak": call.pc.take_audio_peak(),
                }));
            }
        }
    };
    let _ = sig.send(&ClientMessage::Leave {}).await;
    // Nobody reads engine events any more: dropping the receiver releases any GStreamer
    // thread waiting to hand one over, so the pipeline can stop.
    drop(events);
    pc.close();
    result
}
