//! The UI's file wire format (ui/src/engine/files.ts): JSON `offer`, binary chunks, JSON `end`
//! with the sender's SHA-256; the receiver answers `ok` or `bad`.

use std::sync::Arc;
use std::time::Duration;

use parley_media_gst::PeerConnection;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::report;

/// Files channel id (negotiated, as the UI creates it).
pub(crate) const FILES: u16 = 1;
const CHUNK: usize = 64 * 1024;
const HIGH_WATER: u64 = 4 * 1024 * 1024;
const LOW_WATER: u64 = 1024 * 1024;
const MAX_BYTES: usize = 64 * 1024 * 1024;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Receive side of one file at a time.
#[derive(Default)]
pub(crate) struct Incoming {
    current: Option<(String, String, usize, Vec<u8>)>,
}

impl Incoming {
    pub(crate) fn text(&mut self, pc: &PeerConnection, v: &Value) {
        let id = v["id"].as_str().unwrap_or_default().to_owned();
        match v["t"].as_str() {
            Some("offer") => {
                let size = v["size"].as_u64().unwrap_or(0) as usize;
                let name = v["name"].as_str().unwrap_or("file").to_owned();
                if size > MAX_BYTES {
                    let _ = pc.send_text(FILES, &json!({ "t": "cancel", "id": id }).to_string());
                    return;
                }
                self.current = Some((id, name, size, Vec::with_capacity(size)));
            }
            Some("end") => {
                let Some((cur, name, size, data)) = self.current.take() else {
                    return;
                };
                if cur != id {
                    return;
                }
                let sha = hex(&Sha256::digest(&data));
                let ok = data.len() == size
                    && Some(sha.as_str()) == v["sha256"].as_str().map(str::to_lowercase).as_deref();
                let _ = pc.send_text(
                    FILES,
                    &json!({ "t": if ok { "ok" } else { "bad" }, "id": id }).to_string(),
                );
                report(
                    json!({ "event": "file-received", "name": name, "bytes": data.len(), "sha256": sha, "ok": ok }),
                );
            }
            Some("ok") | Some("bad") => {
                report(json!({ "event": "file-sent", "id": id, "result": v["t"] }));
            }
            _ => {}
        }
    }

    pub(crate) fn binary(&mut self, data: &[u8]) {
        if let Some((_, _, size, buf)) = self.current.as_mut()
            && buf.len() + data.len() <= *size
        {
            buf.extend_from_slice(data);
        }
    }
}

/// Sends one file, pausing while the channel's buffer is above the high-water mark.
pub(crate) async fn send(pc: PeerConnection, drained: Arc<Notify>, path: String, name: String) {
    let data = match tokio::fs::read(&path).await {
        Ok(d) => d,
        Err(e) => {
            report(json!({ "event": "error", "message": format!("{path}: {e}") }));
            return;
        }
    };
    let id = format!(
        "native-{}",
        hex(&Sha256::digest(path.as_bytes()))[..12].to_owned()
    );
    let sha = hex(&Sha256::digest(&data));
    let _ = pc.set_buffered_amount_low_threshold(FILES, LOW_WATER);
    let offer = json!({ "t": "offer", "id": id, "name": name, "size": data.len(), "mime": "application/octet-stream" });
    if let Err(e) = pc.send_text(FILES, &offer.to_string()) {
        report(json!({ "event": "error", "message": format!("file offer: {e}") }));
        return;
    }
    for chunk in data.chunks(CHUNK) {
        while pc.buffered_amount(FILES).unwrap_or(0) > HIGH_WATER {
            // Woken by bufferedamountlow; the timeout re-reads the amount in case a wake-up
            // raced with the check.
            let _ = tokio::time::timeout(Duration::from_millis(200), drained.notified()).await;
        }
        if let Err(e) = pc.send_binary(FILES, chunk) {
            report(json!({ "event": "error", "message": format!("file chunk: {e}") }));
            return;
        }
    }
    let _ = pc.send_text(
        FILES,
        &json!({ "t": "end", "id": id, "sha256": sha }).to_string(),
    );
    report(json!({ "event": "file-offered", "id": id, "bytes": data.len(), "sha256": sha }));
}
