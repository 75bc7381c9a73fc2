//! CPU adaptation, seen from the receiving side of a loopback call: a sender whose encoder cannot
//! keep up (made slow with the `encoder_delay_ms` test knob) sends a smaller picture that keeps
//! being decoded, in VP8 and H.264; a sender that keeps up keeps its size.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{HEIGHT, WIDTH, ball, forward, negotiate, options, until};
use parley_media_gst::{MediaOptions, PeerConnection, VideoCodec, VideoSource};

fn sender(codec: VideoCodec, encoder_delay_ms: u32, adapt: bool) -> MediaOptions {
    MediaOptions {
        video_codecs: vec![codec],
        encoder_delay_ms,
        adapt_video_size: adapt,
        ..options(ball())
    }
}

/// The engine's steps ("video send size 320x240 -> 240x180: ...") in a failing test's output.
fn show_engine_log() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("parley_media_gst=info")
        .try_init();
}

/// `sender` -> a receive-only peer, negotiated and connected, with the engine's log shown.
async fn call(sender: MediaOptions) -> (PeerConnection, PeerConnection) {
    show_engine_log();
    common::call(sender).await
}

/// Waits until `receiver` has decoded `more` frames beyond now.
async fn frames_advance(receiver: &PeerConnection, more: u64, always: impl Fn()) {
    common::frames_advance(receiver, more, Duration::from_secs(60), always).await;
}

/// The picture the receiver decodes shrinks, one rung and then the floor, and keeps coming.
async fn slow_encoder_sends_smaller(codec: VideoCodec) {
    // 100 ms per frame: 10 of the camera's 30 fps, at every size.
    let (a, b) = call(sender(codec, 100, true)).await;
    frames_advance(&b, 5, || {}).await;
    let smaller = || {
        let (w, h) = b.remote_video_size();
        w < WIDTH && h < HEIGHT && w > 0
    };
    until("a smaller picture", Duration::from_secs(60), smaller, || {}).await;
    frames_advance(&b, 10, || assert!(smaller(), "{:?}", b.remote_video_size())).await;
    // At the floor (160 px wide) it stays, still decoded.
    until(
        "the smallest picture",
        Duration::from_secs(60),
        || b.remote_video_size() == (160, 120),
        || {},
    )
    .await;
    frames_advance(&b, 10, || assert_eq!(b.remote_video_size(), (160, 120))).await;
    assert_eq!(a.video_send_codec(), Some(codec));
    a.close();
    b.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_vp8_encoder_sends_a_smaller_picture_that_is_decoded() {
    slow_encoder_sends_smaller(VideoCodec::Vp8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_h264_encoder_sends_a_smaller_picture_that_is_decoded() {
    slow_encoder_sends_smaller(VideoCodec::H264).await;
}

/// Several judged windows (2 s each) of a call that keeps up: the size never changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encoder_that_keeps_up_keeps_the_configured_size() {
    let (a, b) = call(sender(VideoCodec::Vp8, 0, true)).await;
    frames_advance(&b, 5, || {}).await;
    let configured = || {
        let size = b.remote_video_size();
        assert_eq!(size, (WIDTH, HEIGHT), "the picture changed size");
    };
    // 8 s of frames at 30 fps (longer if the machine is slow).
    frames_advance(&b, 240, configured).await;
    a.close();
    b.close();
}

/// A call whose connection takes long to come up: until DTLS is up webrtcbin holds the first
/// frame, the queue before the encoder drops everything, and none of that may count against
/// the encoder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_connection_start_is_not_taken_for_a_slow_encoder() {
    show_engine_log();
    let (a, a_events) = PeerConnection::new(sender(VideoCodec::Vp8, 0, true)).unwrap();
    let (b, b_events) = PeerConnection::new(options(VideoSource::None)).unwrap();
    negotiate(&a, &b).await;
    // The scenario: candidates arrive 6 s late (three judged windows), so the encoder is
    // linked but nothing can flow. This wait is the slow network, not synchronisation.
    tokio::time::sleep(Duration::from_secs(6)).await;
    forward(a_events, b.clone());
    forward(b_events, a.clone());
    frames_advance(&b, 5, || {}).await;
    frames_advance(&b, 150, || {
        assert_eq!(b.remote_video_size(), (WIDTH, HEIGHT), "the picture shrank")
    })
    .await;
    a.close();
    b.close();
}

/// With adaptation off, a slow encoder sends fewer frames at the configured size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adaptation_turned_off_keeps_the_size_of_a_slow_encoder() {
    let (a, b) = call(sender(VideoCodec::Vp8, 100, false)).await;
    frames_advance(&b, 5, || {}).await;
    // 10 fps: 80 frames is 8 s, four judged windows had adaptation been on.
    frames_advance(&b, 80, || {
        assert_eq!(b.remote_video_size(), (WIDTH, HEIGHT))
    })
    .await;
    a.close();
    b.close();
}
