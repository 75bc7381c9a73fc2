//! ICE restart between two native engines (two Linux apps calling each other) over loopback:
//! the restarting side offers new credentials on every m-line, the other answers with new ones,
//! both agents run connectivity checks again and come back connected, and video keeps flowing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{ball, negotiate, options};
use parley_media_gst::{ConnectionState, PeerConnection, PeerEvent, SessionDescription};
use tokio::sync::mpsc::Receiver;

/// ICE connection states one side went through, in order.
type States = Arc<Mutex<Vec<ConnectionState>>>;

/// Forwards one side's candidates to the other and records its ICE connection states.
fn forward(mut events: Receiver<PeerEvent>, to: PeerConnection) -> States {
    let states = States::default();
    let seen = Arc::clone(&states);
    tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            match ev {
                PeerEvent::IceCandidate(c) => {
                    let _ = to.add_ice_candidate(c.as_ref());
                }
                PeerEvent::IceConnectionState(s) => seen.lock().unwrap().push(s),
                _ => {}
            }
        }
    });
    states
}

/// Waits until `pred` holds, for at most 30 s.
async fn until(what: &str, pred: impl Fn() -> bool) {
    common::until(what, Duration::from_secs(30), pred, || {}).await;
}

/// Since `from`, the states went through checking and then connected or completed.
fn checked_and_connected(states: &States, from: usize) -> bool {
    let states = states.lock().unwrap();
    let after = &states[from.min(states.len())..];
    after
        .iter()
        .position(|s| *s == ConnectionState::Checking)
        .is_some_and(|i| {
            after[i..]
                .iter()
                .any(|s| matches!(s, ConnectionState::Connected | ConnectionState::Completed))
        })
}

/// `(ufrag, pwd)` of every m-section.
fn credentials(d: &SessionDescription) -> Vec<(String, String)> {
    d.sdp
        .split("\r\nm=")
        .skip(1)
        .map(|section| {
            let value = |prefix: &str| {
                section
                    .lines()
                    .find_map(|l| l.trim_end().strip_prefix(prefix).map(str::to_owned))
                    .unwrap_or_default()
            };
            (value("a=ice-ufrag:"), value("a=ice-pwd:"))
        })
        .collect()
}

/// Every m-section of `after` has credentials none of `before`'s sections had.
fn assert_fresh(before: &SessionDescription, after: &SessionDescription, what: &str) {
    let old = credentials(before);
    let new = credentials(after);
    assert!(new.len() >= 2, "{what}: m-lines {new:?}");
    for (ufrag, pwd) in &new {
        assert!(!ufrag.is_empty() && !pwd.is_empty(), "{what}: {new:?}");
        assert!(
            old.iter().all(|(u, p)| u != ufrag && p != pwd),
            "{what}: {new:?} reuses {old:?}"
        );
    }
}

/// `offerer` restarts ICE; returns its offer and the answer.
async fn restart(
    offerer: &PeerConnection,
    answerer: &PeerConnection,
) -> (SessionDescription, SessionDescription) {
    let offer = offerer.create_offer(true).await.unwrap();
    offerer.set_local_description(&offer).await.unwrap();
    answerer.set_remote_description(&offer).await.unwrap();
    let answer = answerer.set_local_description_auto().await.unwrap();
    offerer.set_remote_description(&answer).await.unwrap();
    (offer, answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn either_native_side_restarts_ice_and_the_call_goes_on() {
    let (a, a_events) = PeerConnection::new(options(ball())).unwrap();
    let (b, b_events) = PeerConnection::new(options(ball())).unwrap();
    let (offer, answer) = negotiate(&a, &b).await;
    let a_states = forward(a_events, b.clone());
    let b_states = forward(b_events, a.clone());
    until("connected", || checked_and_connected(&a_states, 0)).await;
    let frames = b.frames_decoded();
    until("frames at b", || b.frames_decoded() > frames + 10).await;

    let mut last = (offer, answer);
    for (offerer, answerer, who) in [(&a, &b, "a restarts"), (&b, &a, "b restarts")] {
        let marks = (
            a_states.lock().unwrap().len(),
            b_states.lock().unwrap().len(),
        );
        let (offer, answer) = restart(offerer, answerer).await;
        let (previous_a, previous_b) = if who == "a restarts" {
            (&last.0, &last.1)
        } else {
            (&last.1, &last.0)
        };
        assert_fresh(previous_a, &offer, &format!("{who}: offer"));
        assert_fresh(previous_b, &answer, &format!("{who}: answer"));
        until(&format!("{who}: a checks again and connects"), || {
            checked_and_connected(&a_states, marks.0)
        })
        .await;
        until(&format!("{who}: b checks again and connects"), || {
            checked_and_connected(&b_states, marks.1)
        })
        .await;
        let (fa, fb) = (a.frames_decoded(), b.frames_decoded());
        until(&format!("{who}: frames both ways"), || {
            a.frames_decoded() > fa + 20 && b.frames_decoded() > fb + 20
        })
        .await;
        last = if who == "a restarts" {
            (offer, answer)
        } else {
            (answer, offer)
        };
    }
    a.close();
    b.close();
}
