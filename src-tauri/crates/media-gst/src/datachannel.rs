//! Data channels by id (negotiated channels, as the UI creates them: "chat" 0, "files" 1).

use gst::glib;
use gst::prelude::*;
use gst_webrtc::{WebRTCDataChannel, WebRTCDataChannelState};

use crate::error::EngineError;
use crate::peer::PeerConnection;
use crate::types::PeerEvent;

/// `RTCDataChannelInit` subset.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelInit {
    /// Stream id both sides agreed on.
    pub id: u16,
    /// In-order delivery.
    #[serde(default = "yes")]
    pub ordered: bool,
}

fn yes() -> bool {
    true
}

impl PeerConnection {
    /// `createDataChannel(label, { negotiated: true, id, ordered })`.
    pub fn create_data_channel(&self, label: &str, init: &ChannelInit) -> Result<(), EngineError> {
        let config = gst::Structure::builder("config")
            .field("negotiated", true)
            .field("id", i32::from(init.id))
            .field("ordered", init.ordered)
            .build();
        let channel = self
            .webrtc()
            .emit_by_name::<Option<WebRTCDataChannel>>("create-data-channel", &[&label, &config])
            .ok_or_else(|| EngineError::InvalidState(format!("data channel {label} refused")))?;
        let id = init.id;
        let events = self.events().clone();
        channel.connect_on_open(move |_| events.emit(PeerEvent::ChannelOpen(id)));
        let events = self.events().clone();
        channel.connect_on_close(move |_| events.emit(PeerEvent::ChannelClosed(id)));
        let events = self.events().clone();
        channel.connect_on_message_string(move |_, text| {
            events.emit(PeerEvent::ChannelText(
                id,
                text.unwrap_or_default().to_owned(),
            ));
        });
        let events = self.events().clone();
        channel.connect_on_message_data(move |_, data| {
            events.emit(PeerEvent::ChannelBinary(
                id,
                data.map(|d| d.to_vec()).unwrap_or_default(),
            ));
        });
        let events = self.events().clone();
        channel.connect_on_buffered_amount_low(move |_| {
            events.emit(PeerEvent::ChannelBufferedAmountLow(id))
        });
        self.channels()
            .lock()
            .map_err(|_| EngineError::Pipeline("channel table poisoned".into()))?
            .insert(id, channel);
        Ok(())
    }

    fn channel(&self, id: u16) -> Result<WebRTCDataChannel, EngineError> {
        self.channels()
            .lock()
            .map_err(|_| EngineError::Pipeline("channel table poisoned".into()))?
            .get(&id)
            .cloned()
            .ok_or_else(|| EngineError::InvalidState(format!("no data channel {id}")))
    }

    /// `send(string)`.
    pub fn send_text(&self, id: u16, text: &str) -> Result<(), EngineError> {
        let ch = self.channel(id)?;
        ch.send_string_full(Some(text))
            .map_err(|e| EngineError::InvalidState(e.to_string()))
    }

    /// `send(bytes)`.
    pub fn send_binary(&self, id: u16, data: &[u8]) -> Result<(), EngineError> {
        let ch = self.channel(id)?;
        ch.send_data_full(Some(&glib::Bytes::from(data)))
            .map_err(|e| EngineError::InvalidState(e.to_string()))
    }

    /// `bufferedAmount`.
    pub fn buffered_amount(&self, id: u16) -> Result<u64, EngineError> {
        Ok(self.channel(id)?.buffered_amount())
    }

    /// `bufferedAmountLowThreshold = n`.
    pub fn set_buffered_amount_low_threshold(&self, id: u16, n: u64) -> Result<(), EngineError> {
        self.channel(id)?.set_buffered_amount_low_threshold(n);
        Ok(())
    }

    /// `readyState` as the browser names it.
    pub fn channel_state(&self, id: u16) -> Result<&'static str, EngineError> {
        Ok(match self.channel(id)?.ready_state() {
            WebRTCDataChannelState::Open => "open",
            WebRTCDataChannelState::Closing => "closing",
            WebRTCDataChannelState::Closed => "closed",
            _ => "connecting",
        })
    }
}
