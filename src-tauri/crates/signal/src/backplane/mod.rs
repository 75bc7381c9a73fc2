//! Shared mode: public rooms kept in Redis so several instances behind a load balancer serve
//! any member of any room. The synchronous [`crate::hub::Hub`] stays the single-instance
//! path; this layer replaces it for public rooms when `--redis-url` is given.
//!
//! Each instance keeps its own connections' sessions in memory, and a copy of the member
//! lists of their rooms ([`cache`]). Room codes, members, capacity, resume tokens and per-IP
//! join counters live in Redis and change only through Lua scripts (atomic, one round trip
//! each), which publish every membership change to the instances concerned. A signal is
//! routed by the local copy: delivered here, or queued ([`publisher`]) and sent in batches
//! through Redis pub/sub, one channel per instance. Members carry a deadline that the owning
//! instance's heartbeat keeps pushing forward; a dead instance's members stay resumable for
//! the grace period after its last beat and then expire.

mod cache;
mod health;
mod publisher;
mod scripts;
mod session;
mod store;
mod tasks;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use parley_protocol::{PeerId, RoomCode};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::Notify;

use crate::config::BackplaneConfig;
use crate::error::SignalError;
use crate::hub::ConnId;
use crate::shared::lock;

pub(crate) use tasks::start as start_tasks;

use cache::RoomCache;
use publisher::Publisher;
use store::Store;

/// A connection that said `hello` on this instance.
struct Session {
    peer: PeerId,
    resume_token: String,
    room: Option<RoomCode>,
}

/// This instance's sessions, which connection holds each peer id, and the member lists of
/// their rooms (one lock: a signal is routed with one look).
#[derive(Default)]
struct Local {
    sessions: HashMap<ConnId, Session>,
    peers: HashMap<PeerId, ConnId>,
    rooms: RoomCache,
}

/// The shared-mode room layer of one instance.
pub(crate) struct Backplane {
    client: redis::Client,
    store: Store,
    local: Mutex<Local>,
    /// Frames waiting to be published to other instances.
    publisher: Publisher,
    /// Asks the heartbeat to run now (after a resubscribe: the room copies may have missed
    /// changes while pub/sub was down).
    refresh: Notify,
    heartbeat: Duration,
    /// Room capacity for new rooms.
    capacity: u8,
    /// How long a dropped member's place is kept.
    grace: Duration,
    /// How long a member outlives its instance's last heartbeat.
    member_ttl: Duration,
}

impl Backplane {
    /// Connects lazily: the instance starts even while Redis is down and serves rooms once
    /// it is up.
    pub(crate) fn new(
        config: &BackplaneConfig,
        capacity: u8,
        grace: Duration,
    ) -> Result<Self, SignalError> {
        let backplane = |e: redis::RedisError| SignalError::Backplane(e.to_string());
        let client = redis::Client::open(config.redis_url.as_str()).map_err(backplane)?;
        let manager_config = ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_secs(2))
            .set_connection_timeout(Some(config.op_timeout))
            .set_response_timeout(Some(config.op_timeout));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), manager_config)
            .map_err(backplane)?;
        let instance = session::random_id(12).map_err(|e| SignalError::Backplane(e.0))?;
        Ok(Self {
            client,
            store: Store::new(
                manager,
                config.key_prefix.clone(),
                instance,
                config.op_timeout,
            ),
            local: Mutex::new(Local::default()),
            publisher: Publisher::new(config.op_timeout),
            refresh: Notify::new(),
            heartbeat: config.heartbeat,
            capacity,
            grace,
            member_ttl: config.heartbeat * 3 + grace,
        })
    }

    /// Appends the backplane's lines to the `/metrics` text.
    pub(crate) fn render_metrics(&self, out: &mut String) {
        let (sessions, rooms) = {
            let local = lock(&self.local);
            (local.sessions.len(), local.rooms.len())
        };
        self.store
            .health
            .render(out, &self.store.instance, sessions);
        let queued = self.publisher.queued_bytes();
        let _ = writeln!(
            out,
            "# HELP parley_backplane_cached_rooms Rooms whose member list this instance holds.\n\
             # TYPE parley_backplane_cached_rooms gauge\nparley_backplane_cached_rooms {rooms}\n\
             # HELP parley_backplane_queued_bytes Frames waiting to be published to Redis.\n\
             # TYPE parley_backplane_queued_bytes gauge\nparley_backplane_queued_bytes {queued}"
        );
    }
}
