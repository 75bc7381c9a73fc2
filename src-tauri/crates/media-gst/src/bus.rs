//! The pipeline's bus: errors become [`PeerEvent::Error`]s with stable codes, and the latest one
//! is kept so a failed start can say why (no camera, device busy) instead of "state change
//! failed".

use std::sync::{Arc, Mutex, PoisonError};

use gst::prelude::*;

use crate::error::EngineError;
use crate::media::EventSink;
use crate::types::PeerEvent;

/// The most recent error GStreamer posted, for [`PeerConnection::new`](crate::PeerConnection::new).
#[derive(Default, Clone)]
pub(crate) struct LastError(Arc<Mutex<Option<EngineError>>>);

impl LastError {
    /// Takes the stored error, if any.
    pub(crate) fn take(&self) -> Option<EngineError> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    fn store(&self, error: EngineError) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
    }
}

/// Watches `pipeline`'s bus on the posting thread (no main loop needed).
pub(crate) fn watch(pipeline: &gst::Pipeline, events: &EventSink, last: &LastError) {
    let Some(bus) = pipeline.bus() else {
        return;
    };
    let events = events.clone();
    let last = last.clone();
    bus.set_sync_handler(move |_, msg| {
        match msg.view() {
            gst::MessageView::Error(err) => {
                let source = err
                    .src()
                    .map(|s| s.path_string().to_string())
                    .unwrap_or_default();
                let error = EngineError::from_gst(&err.error(), &source);
                tracing::warn!("pipeline error: {error}");
                events.emit(PeerEvent::failure(&error));
                last.store(error);
            }
            gst::MessageView::Warning(w) => tracing::debug!("pipeline warning: {}", w.error()),
            _ => {}
        }
        gst::BusSyncReply::Drop
    });
}
