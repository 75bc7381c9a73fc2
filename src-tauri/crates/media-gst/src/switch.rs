//! Device switching and screen share: the capture element of a running send chain is swapped
//! for another; encoder, payloader and the negotiated transceiver stay, so no renegotiation.

use gst::prelude::*;

use crate::error::EngineError;
use crate::media::{self, SendChain};
use crate::options::{AudioSource, VideoSource};
use crate::peer::PeerConnection;

/// Replaces `chain`'s source with `next`, which starts at the pipeline's running time.
fn swap(chain: &mut SendChain, next: gst::Element) -> Result<(), EngineError> {
    // Stop the old source before unlinking it: a source pushing into an unlinked pad posts a
    // "not-linked" error that would end the call.
    chain.source.set_state(gst::State::Null)?;
    chain.source.unlink(&chain.after_source);
    chain.bin.remove(&chain.source)?;
    chain.bin.add(&next)?;
    if let Err(e) = next.link(&chain.after_source) {
        let _ = chain.bin.remove(&next);
        return Err(EngineError::Pipeline(format!(
            "new source does not fit: {e}"
        )));
    }
    next.sync_state_with_parent()?;
    chain.source = next;
    Ok(())
}

/// Swaps the source of the send chain in `chain` (`kind`: "video" or "audio", for errors).
fn replace_source(
    chain: &std::sync::Mutex<Option<SendChain>>,
    next: gst::Element,
    kind: &str,
) -> Result<(), EngineError> {
    let mut guard = chain
        .lock()
        .map_err(|_| EngineError::Pipeline(format!("{kind} chain lock poisoned")))?;
    let chain = guard.as_mut().ok_or_else(|| {
        EngineError::InvalidState(format!("this call sends no {kind} (negotiated without it)"))
    })?;
    swap(chain, next)
}

impl PeerConnection {
    /// Sends video from `source` from now on (`replaceTrack` with another camera, or the
    /// screen). `VideoSource::None` pauses video instead, like `replaceTrack(null)`.
    pub fn set_video_source(&self, source: &VideoSource) -> Result<(), EngineError> {
        let Some(next) = media::video_source(source)? else {
            self.set_video_paused(true);
            return Ok(());
        };
        replace_source(self.video_chain(), next, "video")?;
        self.set_video_paused(false);
        Ok(())
    }

    /// Sends audio from `source` from now on (another microphone). `AudioSource::None` mutes.
    pub fn set_audio_source(&self, source: &AudioSource) -> Result<(), EngineError> {
        let Some(next) = media::audio_source(source)? else {
            self.set_audio_muted(true);
            return Ok(());
        };
        replace_source(self.audio_chain(), next, "audio")
    }
}
