//! The video send chain: capture -> raw I420 at the chosen size -> camera-off valve -> one-frame
//! queue -> encoder -> RTP into webrtcbin.
//!
//! Which encoder depends on negotiation, so the chain is built without one: until an answer is
//! applied the queue's output is blocked, and the RTP caps towards webrtcbin list every codec
//! the engine offers (webrtcbin builds the offer from them). Once an answer is in, the encoder
//! of the chosen codec is linked in and the block lifted. Later renegotiations keep it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use gst::prelude::*;
use gst_webrtc::WebRTCRTPTransceiver;

use crate::adapt::{self, Adapter};
use crate::codec::{self, VideoCodec};
use crate::error::{EngineError, make};
use crate::media::{Counters, SendChain, caps_filter, ghost_src, set_str};
use crate::options::MediaOptions;
use crate::peer::PeerConnection;
use crate::stamp;

/// The encoder end of the video chain, settled by negotiation.
pub(crate) struct EncoderSlot {
    /// The queue whose output feeds the encoder.
    queue: gst::Element,
    /// The block on the queue's output until an encoder is linked.
    block: Option<gst::PadProbeId>,
    /// What we offer and accept, most preferred first.
    offered: Vec<VideoCodec>,
    /// webrtcbin's transceiver for this chain. Its codec preferences mirror the RTP caps: until
    /// an encoder is linked no caps reach webrtcbin, and without caps or preferences on every
    /// sink pad it never reports that negotiation is needed, so a side that must offer first
    /// would wait forever.
    transceiver: Option<WebRTCRTPTransceiver>,
    /// The codec being sent, its payload type and payloader.
    sending: Option<(VideoCodec, u32, gst::Element)>,
    opts: MediaOptions,
    counters: Arc<Counters>,
    /// Steps the send size with the encoder's pace (`None` when turned off).
    adapter: Option<Arc<Adapter>>,
}

/// Builds the video chain for `source`, with no encoder yet (see the module docs).
pub(crate) fn video_send(
    opts: &MediaOptions,
    source: gst::Element,
    counters: &Arc<Counters>,
) -> Result<SendChain, EngineError> {
    let bin = gst::Bin::with_name("video-send");
    let convert = make("videoconvert")?;
    let scale = make("videoscale")?;
    let raw = caps_filter(adapt::raw_caps(opts.width, opts.height, opts.fps))?;
    let valve = make("valve")?;
    let queue = make("queue")?;
    // One frame: an encoder slower than the camera then always takes the newest frame.
    queue.set_property("max-size-buffers", 1u32);
    queue.set_property("max-size-time", 0u64);
    queue.set_property("max-size-bytes", 0u32);
    set_str(&queue, "leaky", "downstream");
    let offered = codec::available(&opts.video_codecs);
    let listed = offered
        .iter()
        .map(|c| c.rtp_caps(c.default_payload_type()))
        .collect::<gst::Caps>();
    let rtp_caps = caps_filter(listed)?;
    // No videorate: it holds each frame until the next arrives (one frame of latency).
    let chain = [&source, &convert, &scale, &raw, &valve, &queue];
    bin.add_many(chain)?;
    bin.add(&rtp_caps)?;
    gst::Element::link_many(chain)?;
    if opts.stamp_clock
        && let Some(pad) = raw.static_pad("src")
    {
        stamp::install(&pad, opts.width);
    }
    let adapter = opts
        .adapt_video_size
        .then(|| Adapter::install(&queue, &raw, opts.width, opts.height, opts.fps));
    let block = queue.static_pad("src").and_then(|pad| {
        pad.add_probe(gst::PadProbeType::BLOCK_DOWNSTREAM, |_, _| {
            gst::PadProbeReturn::Ok
        })
    });
    ghost_src(&bin, &rtp_caps)?;
    Ok(SendChain {
        bin,
        gate: valve,
        payloader: None,
        rtp_caps,
        source,
        after_source: convert,
        encoder: Some(EncoderSlot {
            queue,
            block,
            offered,
            transceiver: None,
            sending: None,
            opts: opts.clone(),
            counters: Arc::clone(counters),
            adapter,
        }),
    })
}

impl EncoderSlot {
    /// Ties the slot to the transceiver behind `sink` (webrtcbin's pad the chain feeds).
    pub(crate) fn use_transceiver(&mut self, sink: &gst::Pad, rtp_caps: &gst::Element) {
        self.transceiver = sink.property::<Option<WebRTCRTPTransceiver>>("transceiver");
        if self.transceiver.is_none() {
            tracing::warn!("webrtcbin's video pad has no transceiver");
        }
        self.set_caps(rtp_caps.property::<gst::Caps>("caps"), rtp_caps);
    }

    /// The RTP caps towards webrtcbin, and the transceiver's codec preferences with them.
    fn set_caps(&self, caps: gst::Caps, rtp_caps: &gst::Element) {
        if let Some(t) = &self.transceiver {
            t.set_property("codec-preferences", &caps);
        }
        rtp_caps.set_property("caps", caps);
    }

    /// The codec being sent, once negotiated.
    pub(crate) fn sending(&self) -> Option<VideoCodec> {
        self.sending.as_ref().map(|(c, _, _)| *c)
    }

    /// Before a remote offer is applied: list the codecs we accept numbered as the offer
    /// numbers them (webrtcbin answers with what these caps and the offer share).
    pub(crate) fn follow_offer(&mut self, sdp: &str, rtp_caps: &gst::Element) {
        match &self.sending {
            Some((codec, _, _)) => {
                if let Some(&(codec, pt)) = codec::in_sdp(sdp, &[*codec]).first() {
                    self.renumber(codec, pt, rtp_caps);
                }
            }
            None => {
                let found = codec::in_sdp(sdp, &self.offered);
                if found.is_empty() {
                    tracing::warn!("the remote offers no video codec we have");
                    return;
                }
                let caps = self
                    .offered
                    .iter()
                    .filter_map(|c| found.iter().find(|(f, _)| f == c))
                    .map(|(c, pt)| c.rtp_caps(*pt))
                    .collect::<gst::Caps>();
                self.set_caps(caps, rtp_caps);
            }
        }
    }

    /// Once an answer is applied: starts the encoder of the chosen codec. `ours` says whether
    /// we wrote the answer (then we send what we prefer among what it lists) or the remote did
    /// (then we honour its order, as browsers send the answer's first codec too).
    pub(crate) fn settle(
        &mut self,
        answer: &str,
        ours: bool,
        bin: &gst::Bin,
        rtp_caps: &gst::Element,
    ) -> Result<(), EngineError> {
        let mut found = codec::in_sdp(answer, &self.offered);
        if ours {
            found.sort_by_key(|(c, _)| self.offered.iter().position(|o| o == c));
        }
        if let Some((codec, _, _)) = &self.sending {
            let codec = *codec;
            match found.iter().find(|(c, _)| *c == codec) {
                Some(&(_, pt)) => self.renumber(codec, pt, rtp_caps),
                None => tracing::warn!(
                    "renegotiated without {}; still sending it",
                    codec.encoding_name()
                ),
            }
            return Ok(());
        }
        let Some(&(codec, pt)) = found.first() else {
            tracing::warn!("the answer has no video codec we can send");
            return Ok(());
        };
        self.install(codec, pt, bin, rtp_caps)
    }

    fn renumber(&mut self, codec: VideoCodec, pt: u32, rtp_caps: &gst::Element) {
        let Some((_, old, pay)) = &mut self.sending else {
            return;
        };
        if *old != pt {
            pay.set_property("pt", pt);
            *old = pt;
            self.set_caps(gst::Caps::from(codec.rtp_caps(pt)), rtp_caps);
        }
    }

    fn install(
        &mut self,
        codec: VideoCodec,
        pt: u32,
        bin: &gst::Bin,
        rtp_caps: &gst::Element,
    ) -> Result<(), EngineError> {
        let mut elements = codec.encoder(&self.opts, pt)?;
        if self.opts.encoder_delay_ms > 0 {
            // Test and benchmark knob: a slow CPU, in front of the encoder.
            let slow = make("identity")?;
            slow.set_property(
                "sleep-time",
                self.opts.encoder_delay_ms.saturating_mul(1000),
            );
            elements.insert(0, slow);
        }
        let pay = elements
            .last()
            .cloned()
            .ok_or_else(|| EngineError::Pipeline("empty encoder chain".into()))?;
        self.set_caps(gst::Caps::from(codec.rtp_caps(pt)), rtp_caps);
        bin.add_many(&elements)?;
        let mut chain = vec![self.queue.clone()];
        chain.extend(elements.iter().cloned());
        chain.push(rtp_caps.clone());
        gst::Element::link_many(&chain)?;
        for e in &elements {
            e.sync_state_with_parent()?;
        }
        count_frames(&pay, &self.counters);
        if let (Some(adapter), Some(first)) = (&self.adapter, elements.first()) {
            adapter.watch_encoder(first, &pay);
        }
        if let (Some(id), Some(pad)) = (self.block.take(), self.queue.static_pad("src")) {
            pad.remove_probe(id);
        }
        tracing::info!("sending video as {} (pt {pt})", codec.encoding_name());
        self.sending = Some((codec, pt, pay));
        Ok(())
    }
}

impl PeerConnection {
    /// Before a remote offer is applied: the video codecs we accept, under its numbers.
    pub(crate) fn follow_video_offer(&self, sdp: &str) {
        if let Ok(mut guard) = self.video_chain().lock()
            && let Some(chain) = guard.as_mut()
            && let Some(slot) = chain.encoder.as_mut()
        {
            slot.follow_offer(sdp, &chain.rtp_caps);
        }
    }

    /// After an answer is applied (`ours`: we wrote it): start sending video in its codec.
    pub(crate) fn settle_video_codec(&self, answer: &str, ours: bool) -> Result<(), EngineError> {
        let mut guard = self
            .video_chain()
            .lock()
            .map_err(|_| EngineError::Pipeline("video chain lock poisoned".into()))?;
        if let Some(chain) = guard.as_mut()
            && let Some(slot) = chain.encoder.as_mut()
        {
            slot.settle(answer, ours, &chain.bin, &chain.rtp_caps)?;
        }
        Ok(())
    }

    /// The video codec being sent, once negotiated.
    pub fn video_send_codec(&self) -> Option<VideoCodec> {
        let guard = self.video_chain().lock().ok()?;
        guard.as_ref()?.encoder.as_ref()?.sending()
    }
}

/// Counts encoded frames as they enter `payloader` (one buffer per frame).
fn count_frames(payloader: &gst::Element, counters: &Arc<Counters>) {
    let Some(pad) = payloader.static_pad("sink") else {
        return;
    };
    let counters = Arc::clone(counters);
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        counters.frames_encoded.fetch_add(1, Ordering::Relaxed);
        gst::PadProbeReturn::Ok
    });
}
