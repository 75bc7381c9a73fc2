//! The backplane's background tasks: the pub/sub subscriber (frames and room snapshots from
//! other instances), the publisher (frames to them) and the heartbeat (keeps this
//! instance's members alive, refreshes the room copies, notices lost rooms).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use futures_util::StreamExt as _;
use parley_protocol::{ErrorCode, PeerId, RoomCode};
use tokio::task::JoinHandle;

use super::{Backplane, publisher};
use crate::shared::{Shared, lock};

/// Longest wait between reconnection attempts to Redis.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Starts the subscriber, the publisher and the heartbeat; abort the handles to stop them.
pub(crate) fn start(shared: &Arc<Shared>) -> Vec<JoinHandle<()>> {
    if shared.backplane.is_none() {
        return Vec::new();
    }
    vec![
        tokio::spawn(subscribe_forever(shared.clone())),
        tokio::spawn(heartbeat_forever(shared.clone())),
        tokio::spawn(publisher::run(shared.clone())),
    ]
}

/// Keeps one pub/sub connection subscribed to this instance's channel, reconnecting with
/// exponential backoff whenever Redis goes away.
async fn subscribe_forever(shared: Arc<Shared>) {
    let Some(bp) = shared.backplane.as_ref() else {
        return;
    };
    let channel = bp.store.channel();
    let mut backoff = Duration::from_millis(50);
    loop {
        match bp.client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    tracing::info!(%channel, "backplane subscribed");
                    bp.store.health.subscribed.store(true, Relaxed);
                    bp.store.health.subscribes.fetch_add(1, Relaxed);
                    backoff = Duration::from_millis(50);
                    // Changes published while unsubscribed were missed: refresh the copies.
                    bp.refresh.notify_one();
                    let mut messages = pubsub.on_message();
                    while let Some(msg) = messages.next().await {
                        if let Ok(text) = std::str::from_utf8(msg.get_payload_bytes()) {
                            on_message(&shared, bp, text);
                        }
                    }
                    bp.store.health.subscribed.store(false, Relaxed);
                    tracing::warn!("backplane subscription lost; reconnecting");
                }
                Err(err) => tracing::warn!(%err, "backplane subscribe failed"),
            },
            Err(err) => tracing::debug!(%err, "backplane pub/sub connect failed"),
        }
        // Backoff between reconnection attempts (not a synchronisation wait).
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// `b\n...` delivers a batch of frames (see `publisher::pack`), `d <peer>\n<frame>` one
/// frame, `r <code> <snapshot>` is a room's new member list, and `k <peer>` means the peer
/// resumed elsewhere.
fn on_message(shared: &Shared, bp: &Backplane, text: &str) {
    if let Some(rest) = text.strip_prefix("b\n") {
        bp.deliver(shared, publisher::unpack(rest));
    } else if let Some(rest) = text.strip_prefix("d ") {
        if let Some((peer, frame)) = rest.split_once('\n') {
            bp.deliver(shared, [(peer, frame)]);
        }
    } else if let Some(rest) = text.strip_prefix("r ") {
        if let Some((code, snapshot)) = rest.split_once(' ')
            && let Some(code) = RoomCode::parse(code)
        {
            lock(&bp.local).rooms.apply_text(&code, snapshot);
        }
    } else if let Some(peer) = text.strip_prefix("k ") {
        bp.kick(shared, &PeerId(peer.to_owned()));
    }
}

/// Every heartbeat, pushes this instance's members' deadlines forward. A member whose place
/// is gone (Redis lost its data, or it expired during a long outage) is told so.
async fn heartbeat_forever(shared: Arc<Shared>) {
    let Some(bp) = shared.backplane.as_ref() else {
        return;
    };
    let mut interval = tokio::time::interval(bp.heartbeat);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = bp.refresh.notified() => {}
        }
        let _ = bp.store.ping().await;
        let members: Vec<_> = lock(&bp.local)
            .sessions
            .iter()
            .filter_map(|(conn, s)| Some((*conn, s.peer.clone(), s.room.clone()?)))
            .collect();
        let touches = members
            .iter()
            .map(|(_, peer, code)| bp.store.touch(code, peer, bp.member_ttl));
        let results = futures_util::future::join_all(touches).await;
        for ((conn, _, code), result) in members.into_iter().zip(results) {
            match result {
                Ok(Some(snapshot)) => lock(&bp.local).rooms.apply_text(&code, &snapshot),
                Ok(None) if bp.forget_room(conn, &code) => shared.reject(
                    conn,
                    ErrorCode::Unavailable,
                    "your room was lost by the server; create or join again".into(),
                ),
                _ => {}
            }
        }
        bp.sweep_rooms();
    }
}

impl Backplane {
    /// Forgets the room copies no local session needs any more.
    fn sweep_rooms(&self) {
        let mut local = lock(&self.local);
        let in_use: HashSet<RoomCode> = local
            .sessions
            .values()
            .filter_map(|s| s.room.clone())
            .collect();
        local.rooms.sweep(&in_use);
    }

    /// Clears `conn`'s room if it is still `code`; true if it was.
    fn forget_room(&self, conn: crate::hub::ConnId, code: &parley_protocol::RoomCode) -> bool {
        let mut local = lock(&self.local);
        match local.sessions.get_mut(&conn) {
            Some(s) if s.room.as_ref() == Some(code) => {
                s.room = None;
                true
            }
            _ => false,
        }
    }
}
