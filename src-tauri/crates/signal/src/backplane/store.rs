//! Typed Redis requests of the backplane: each is one script call or one pipeline (one round
//! trip), timed for `/metrics` and bounded by the request timeout.

use std::time::{Duration, Instant};

use parley_protocol::{PeerId, RoomCode};
use redis::aio::ConnectionManager;
use redis::{FromRedisValue, ScriptInvocation};

use super::health::Health;
use super::scripts::Scripts;

/// Redis did not answer in time or at all; the client hears `unavailable`.
#[derive(Debug, thiserror::Error)]
#[error("shared room store unreachable")]
pub(crate) struct Unreachable;

/// Outcome of a `join`.
pub(crate) enum Joined {
    NoSuchRoom,
    Full,
    /// Capacity, the room's snapshot, and the members already here, oldest first.
    Ok(u8, String, Vec<PeerId>),
}

/// A reclaimed place: room, capacity, the instance that held it ("" if away), the room's
/// snapshot, peers here.
pub(crate) struct Resumed {
    pub(crate) code: RoomCode,
    pub(crate) capacity: u8,
    pub(crate) previous: String,
    pub(crate) snapshot: String,
    pub(crate) peers: Vec<PeerId>,
}

/// `{"ok", snap}` or anything else (`None`).
fn ok_snapshot(reply: Vec<String>) -> Option<String> {
    let mut fields = reply.into_iter();
    (fields.next().as_deref() == Some("ok")).then(|| fields.next().unwrap_or_default())
}

/// The Redis side of one instance.
pub(crate) struct Store {
    redis: ConnectionManager,
    scripts: Scripts,
    prefix: String,
    /// This instance's id (its channel is `<prefix>inst:<id>`).
    pub(crate) instance: String,
    timeout: Duration,
    pub(crate) health: Health,
}

impl Store {
    pub(crate) fn new(
        redis: ConnectionManager,
        prefix: String,
        instance: String,
        timeout: Duration,
    ) -> Self {
        Self {
            redis,
            scripts: Scripts::new(),
            prefix,
            instance,
            timeout,
            health: Health::default(),
        }
    }

    /// This instance's pub/sub channel.
    pub(crate) fn channel(&self) -> String {
        self.channel_of(&self.instance)
    }

    /// The pub/sub channel of instance `id`.
    pub(crate) fn channel_of(&self, id: &str) -> String {
        format!("{}inst:{id}", self.prefix)
    }

    fn room_key(&self, code: &RoomCode) -> String {
        format!("{}room:{}", self.prefix, code.as_str())
    }

    fn peer_key(&self, peer: &PeerId) -> String {
        format!("{}peer:{}", self.prefix, peer.0)
    }

    /// Runs a script once, or twice when the first try found the connection dropped (the
    /// manager reconnects after that error, and the request never reached Redis).
    async fn run<T: FromRedisValue>(&self, call: ScriptInvocation<'_>) -> Result<T, Unreachable> {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut value = None;
        for attempt in 0..2 {
            let mut redis = self.redis.clone();
            match tokio::time::timeout_at(deadline, call.invoke_async::<T>(&mut redis)).await {
                Ok(Ok(v)) => {
                    value = Some(v);
                    break;
                }
                Ok(Err(err)) if attempt == 0 && err.is_connection_dropped() => {
                    tracing::debug!(%err, "backplane connection dropped; retrying once");
                }
                Ok(Err(err)) => {
                    tracing::warn!(%err, "backplane request failed");
                    break;
                }
                Err(_) => break,
            }
        }
        self.health.request(started.elapsed(), value.is_some());
        value.ok_or(Unreachable)
    }

    /// Checks that Redis answers (heartbeat; keeps the health gauge current when idle).
    pub(crate) async fn ping(&self) -> Result<(), Unreachable> {
        let mut redis = self.redis.clone();
        let started = Instant::now();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut redis);
        let ok = matches!(tokio::time::timeout(self.timeout, ping).await, Ok(Ok(_)));
        self.health.request(started.elapsed(), ok);
        if ok { Ok(()) } else { Err(Unreachable) }
    }

    fn millis(d: Duration) -> u64 {
        u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
    }

    /// Makes room `code` with `peer` in it: its snapshot, or `None` if the code is taken.
    pub(crate) async fn create(
        &self,
        code: &RoomCode,
        capacity: u8,
        peer: &PeerId,
        token: &str,
        ttl: Duration,
    ) -> Result<Option<String>, Unreachable> {
        let mut call = self.scripts.create.key(self.room_key(code));
        call.key(self.peer_key(peer))
            .arg(capacity)
            .arg(&peer.0)
            .arg(&self.instance)
            .arg(token)
            .arg(Self::millis(ttl))
            .arg(code.as_str())
            .arg(&self.prefix);
        Ok(ok_snapshot(self.run(call).await?))
    }

    /// Adds `peer` to room `code` unless full; tells the others with `joined_frame`.
    pub(crate) async fn join(
        &self,
        code: &RoomCode,
        peer: &PeerId,
        token: &str,
        ttl: Duration,
        joined_frame: &str,
    ) -> Result<Joined, Unreachable> {
        let mut call = self.scripts.join.key(self.room_key(code));
        call.key(self.peer_key(peer))
            .arg(&peer.0)
            .arg(&self.instance)
            .arg(token)
            .arg(Self::millis(ttl))
            .arg(code.as_str())
            .arg(&self.prefix)
            .arg(joined_frame);
        let reply: Vec<String> = self.run(call).await?;
        Ok(match reply.first().map(String::as_str) {
            Some("ok") => {
                let capacity = reply.get(1).and_then(|c| c.parse().ok()).unwrap_or(2);
                let snapshot = reply.get(2).cloned().unwrap_or_default();
                Joined::Ok(
                    capacity,
                    snapshot,
                    reply.into_iter().skip(3).map(PeerId).collect(),
                )
            }
            Some("full") => Joined::Full,
            _ => Joined::NoSuchRoom,
        })
    }

    /// Removes `peer` from `code` for good; tells the others with `left_frame`. The room's
    /// snapshot after (empty: the room is gone), or `None` if the place was not ours.
    pub(crate) async fn leave(
        &self,
        code: &RoomCode,
        peer: &PeerId,
        left_frame: &str,
    ) -> Result<Option<String>, Unreachable> {
        let mut call = self.scripts.leave.key(self.room_key(code));
        call.key(self.peer_key(peer))
            .arg(&peer.0)
            .arg(&self.instance)
            .arg(&self.prefix)
            .arg(left_frame);
        Ok(ok_snapshot(self.run(call).await?))
    }

    /// Keeps `peer`'s place in `code` for `grace` for a resume; tells the others. The
    /// room's snapshot after, or `None` if the place was not ours.
    pub(crate) async fn drop_member(
        &self,
        code: &RoomCode,
        peer: &PeerId,
        grace: Duration,
        left_frame: &str,
    ) -> Result<Option<String>, Unreachable> {
        let mut call = self.scripts.drop.key(self.room_key(code));
        call.arg(&peer.0)
            .arg(&self.instance)
            .arg(Self::millis(grace))
            .arg(&self.prefix)
            .arg(left_frame);
        Ok(ok_snapshot(self.run(call).await?))
    }

    /// Takes over `peer`'s place if `token` matches and the place has not expired.
    pub(crate) async fn resume(
        &self,
        peer: &PeerId,
        token: &str,
        new_token: &str,
        ttl: Duration,
        joined_frame: &str,
    ) -> Result<Option<Resumed>, Unreachable> {
        let mut call = self.scripts.resume.key(self.peer_key(peer));
        call.arg(&peer.0)
            .arg(token)
            .arg(&self.instance)
            .arg(Self::millis(ttl))
            .arg(&self.prefix)
            .arg(joined_frame)
            .arg(new_token);
        let reply: Vec<String> = self.run(call).await?;
        let mut fields = reply.into_iter();
        if fields.next().as_deref() != Some("ok") {
            return Ok(None);
        }
        let Some(code) = fields.next().as_deref().and_then(RoomCode::parse) else {
            return Ok(None);
        };
        let capacity = fields.next().and_then(|c| c.parse().ok()).unwrap_or(2);
        let previous = fields.next().unwrap_or_default();
        let snapshot = fields.next().unwrap_or_default();
        Ok(Some(Resumed {
            code,
            capacity,
            previous,
            snapshot,
            peers: fields.map(PeerId).collect(),
        }))
    }

    /// Heartbeat for one member: the room's current snapshot, or `None` if the place is no
    /// longer this instance's.
    pub(crate) async fn touch(
        &self,
        code: &RoomCode,
        peer: &PeerId,
        ttl: Duration,
    ) -> Result<Option<String>, Unreachable> {
        let mut call = self.scripts.touch.key(self.room_key(code));
        call.key(self.peer_key(peer))
            .arg(&peer.0)
            .arg(&self.instance)
            .arg(Self::millis(ttl))
            .arg(&self.prefix);
        Ok(ok_snapshot(self.run(call).await?))
    }

    /// Publishes `(channel, message)` pairs in one pipeline.
    pub(crate) async fn publish(&self, messages: &[(String, String)]) -> Result<(), Unreachable> {
        let started = Instant::now();
        let mut pipe = redis::pipe();
        for (channel, message) in messages {
            pipe.cmd("PUBLISH").arg(channel).arg(message).ignore();
        }
        let mut redis = self.redis.clone();
        let sent = tokio::time::timeout(self.timeout, pipe.query_async::<()>(&mut redis)).await;
        let ok = match sent {
            Ok(Ok(())) => true,
            Ok(Err(err)) => {
                tracing::warn!(%err, "backplane publish failed");
                false
            }
            Err(_) => false,
        };
        self.health.request(started.elapsed(), ok);
        if ok { Ok(()) } else { Err(Unreachable) }
    }

    /// Counts a join attempt from `ip`; the count in the current window.
    pub(crate) async fn count_join(
        &self,
        ip: std::net::IpAddr,
        window: Duration,
    ) -> Result<u64, Unreachable> {
        let mut call = self
            .scripts
            .count_join
            .key(format!("{}joins:{ip}", self.prefix));
        call.arg(Self::millis(window).max(1));
        self.run(call).await
    }
}
