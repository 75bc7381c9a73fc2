//! What the engine's integration tests share: small test-source options, the offer/answer
//! exchange between two engines over loopback, and waiting on a condition.
#![allow(dead_code)] // each test file uses its part

use std::time::{Duration, Instant};

use parley_media_gst::{
    AudioOutput, AudioSource, MediaOptions, PeerConnection, PeerEvent, SessionDescription,
    VideoOutput, VideoSource,
};
use tokio::sync::mpsc::Receiver;

/// The send size of [`options`]: small, so two engines run side by side on a busy machine.
pub(crate) const WIDTH: u32 = 320;
/// See [`WIDTH`].
pub(crate) const HEIGHT: u32 = 240;

/// Test sources, no playback, no audio processing, [`WIDTH`]x[`HEIGHT`].
pub(crate) fn options(video: VideoSource) -> MediaOptions {
    MediaOptions {
        video,
        audio: AudioSource::Test { freq: 440 },
        audio_output: AudioOutput::Discard,
        video_output: VideoOutput::CountOnly,
        audio_processing: false,
        width: WIDTH,
        height: HEIGHT,
        ..MediaOptions::default()
    }
}

/// `videotestsrc`'s moving ball: every frame differs.
pub(crate) fn ball() -> VideoSource {
    VideoSource::Test {
        pattern: "ball".into(),
    }
}

/// `a` offers, `b` answers; returns the offer and the answer.
pub(crate) async fn negotiate(
    a: &PeerConnection,
    b: &PeerConnection,
) -> (SessionDescription, SessionDescription) {
    let offer = a.set_local_description_auto().await.unwrap();
    b.set_remote_description(&offer).await.unwrap();
    let answer = b.set_local_description_auto().await.unwrap();
    a.set_remote_description(&answer).await.unwrap();
    (offer, answer)
}

/// Forwards local candidates of one side to the other until the test ends.
pub(crate) fn forward(mut events: Receiver<PeerEvent>, to: PeerConnection) {
    tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            if let PeerEvent::IceCandidate(c) = ev {
                let _ = to.add_ice_candidate(c.as_ref());
            }
        }
    });
}

/// `sender` -> a peer that sends no video, negotiated and connected.
pub(crate) async fn call(sender: MediaOptions) -> (PeerConnection, PeerConnection) {
    let (a, a_events) = PeerConnection::new(sender).unwrap();
    let (b, b_events) = PeerConnection::new(options(VideoSource::None)).unwrap();
    negotiate(&a, &b).await;
    forward(a_events, b.clone());
    forward(b_events, a.clone());
    (a, b)
}

/// Waits until `done` holds, checking `always` on the way, for at most `within`.
pub(crate) async fn until(
    what: &str,
    within: Duration,
    done: impl Fn() -> bool,
    always: impl Fn(),
) {
    let deadline = Instant::now() + within;
    loop {
        always();
        if done() {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await; // polling interval
    }
}

/// Waits until `receiver` has decoded `more` frames beyond now, checking `always` on the way.
pub(crate) async fn frames_advance(
    receiver: &PeerConnection,
    more: u64,
    within: Duration,
    always: impl Fn(),
) {
    let start = receiver.frames_decoded();
    until(
        &format!("{more} more decoded frames after {start}"),
        within,
        || receiver.frames_decoded() >= start + more,
        always,
    )
    .await;
}
