//! Two engines in one process, connected over loopback: what a person would notice when a
//! device is missing, or when the camera is switched or the screen shared mid-call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{ball, call, options};
use parley_media_gst::{
    AudioSource, EngineError, MediaOptions, PeerConnection, PeerEvent, VideoCodec, VideoSource,
};
use tokio::sync::mpsc::Receiver;

/// Waits until `receiver` has decoded `more` frames beyond now.
async fn frames_advance(receiver: &PeerConnection, more: u64) {
    common::frames_advance(receiver, more, Duration::from_secs(30), || {}).await;
}

#[test]
fn a_missing_camera_is_reported_as_no_device() {
    let err = PeerConnection::new(options(VideoSource::Camera {
        id: Some("parley-no-such-camera".into()),
    }))
    .err()
    .expect("no such camera");
    assert!(matches!(err, EngineError::NoDevice(_)), "{err}");
    assert_eq!(err.code(), "no-device");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_the_camera_keeps_frames_coming() {
    let (a, b) = call(options(ball())).await;
    frames_advance(&b, 10).await;
    a.set_video_source(&VideoSource::Test {
        pattern: "smpte".into(),
    })
    .unwrap();
    frames_advance(&b, 20).await;
    // A camera that is not there is refused; the current source keeps sending.
    let err = a
        .set_video_source(&VideoSource::Camera {
            id: Some("parley-no-such-camera".into()),
        })
        .unwrap_err();
    assert_eq!(err.code(), "no-device");
    frames_advance(&b, 10).await;
    // Another microphone.
    a.set_audio_source(&AudioSource::Test { freq: 880 })
        .unwrap();
    let buffers = b.audio_buffers();
    common::until(
        "50 more audio buffers after the switch",
        Duration::from_secs(20),
        || b.audio_buffers() >= buffers + 50,
        || {},
    )
    .await;
    a.close();
    b.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharing_the_screen_sends_it() {
    // ximagesrc needs an X display (CI runs this under Xvfb, see tests/native/run.sh).
    if std::env::var_os("DISPLAY").is_none() {
        eprintln!("skipped: no DISPLAY");
        return;
    }
    let (a, b) = call(options(ball())).await;
    frames_advance(&b, 5).await;
    a.set_video_source(&VideoSource::Screen).unwrap();
    frames_advance(&b, 15).await;
    a.close();
    b.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h264_only_sender_is_decoded() {
    let a_opts = MediaOptions {
        video_codecs: vec![VideoCodec::H264],
        ..options(ball())
    };
    let (a, b) = call(a_opts).await;
    frames_advance(&b, 10).await;
    frames_advance(&b, 10).await;
    assert_eq!(a.video_send_codec(), Some(VideoCodec::H264));
    assert!(
        a.frames_encoded() >= 20,
        "{} frames encoded",
        a.frames_encoded()
    );
    // getStats() reports them as the browser does.
    let stats = a.stats().await.unwrap();
    let encoded = stats
        .iter()
        .filter(|r| r["type"] == "outbound-rtp" && r["kind"] == "video")
        .filter_map(|r| r["framesEncoded"].as_f64())
        .sum::<f64>();
    assert!(
        encoded >= 20.0,
        "outbound-rtp framesEncoded {encoded}: {stats:?}"
    );
    // An ICE restart renegotiates: the re-offer lists the codec being sent, which goes on.
    let offer = a.create_offer(true).await.unwrap();
    assert!(
        offer.sdp.contains("H264/90000") && offer.sdp.contains("profile-level-id=42e01f"),
        "{}",
        offer.sdp
    );
    a.set_local_description(&offer).await.unwrap();
    b.set_remote_description(&offer).await.unwrap();
    let answer = b.set_local_description_auto().await.unwrap();
    a.set_remote_description(&answer).await.unwrap();
    frames_advance(&b, 20).await;
    assert_eq!(a.video_send_codec(), Some(VideoCodec::H264));
    a.close();
    b.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vp8_is_preferred_when_both_are_offered() {
    let (a, b) = call(options(ball())).await;
    frames_advance(&b, 10).await;
    assert_eq!(a.video_send_codec(), Some(VideoCodec::Vp8));
    let offer = a.local_description().unwrap().sdp;
    assert!(
        offer.contains("VP8/90000") && offer.contains("H264/90000"),
        "{offer}"
    );
    a.close();
    b.close();
}

/// Waits for the engine to report that negotiation is needed, as a browser's
/// `negotiationneeded` before any description is exchanged.
async fn negotiation_needed(events: &mut Receiver<PeerEvent>) -> bool {
    let wait = async {
        while let Some(ev) = events.recv().await {
            if matches!(ev, PeerEvent::NegotiationNeeded) {
                return true;
            }
        }
        false
    };
    tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .unwrap_or(false)
}

/// The side that must make the first offer learns it has to, with or without a camera. The
/// video chain has no encoder (so sends no caps) until an answer picks the codec, and webrtcbin
/// stays silent until every sink pad has caps or codec preferences: a caller that waits for
/// `negotiationneeded` then never offered, and the call ended with "no network path".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_connection_reports_that_negotiation_is_needed() {
    for video in [ball(), VideoSource::None] {
        let (pc, mut events) = PeerConnection::new(options(video.clone())).unwrap();
        assert!(
            negotiation_needed(&mut events).await,
            "no negotiationneeded from a new connection sending {video:?}"
        );
        pc.close();
    }
}
