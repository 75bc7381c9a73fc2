//! State shared by all connection tasks: the hub, each connection's outbox, counters.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use parley_protocol::{DeviceInfo, ErrorCode, ServerMessage};
use tokio::sync::Notify;

use crate::backplane::Backplane;
use crate::config::{Mode, ServerConfig};
use crate::error::SignalError;
use crate::hub::{ConnId, Effect, Hub, HubConfig, Now, Policy};
use crate::introduce::Introductions;
use crate::limits::IpTable;
use crate::metrics::{Metrics, ServerClose};
use crate::outbox::{Closing, Outbox};

/// Close code for a normal closure.
pub(crate) const CLOSE_NORMAL: u16 = 1000;
/// Close code when the server goes away.
pub(crate) const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code for a policy violation (slow consumer, abuse).
pub(crate) const CLOSE_POLICY: u16 = 1008;

/// Locks a mutex; a panic elsewhere while holding it leaves consistent-enough data here
/// (counters and maps), so a poisoned lock is used as is rather than spreading the panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The hub and where to deliver its effects, under one lock so delivery order is hub order.
pub(crate) struct Core {
    pub(crate) hub: Hub,
    outboxes: HashMap<ConnId, Arc<Outbox>>,
}

/// Everything the connection tasks and HTTP handlers share.
pub(crate) struct Shared {
    pub(crate) config: ServerConfig,
    pub(crate) core: Mutex<Core>,
    pub(crate) ips: Mutex<IpTable>,
    pub(crate) metrics: Metrics,
    pub(crate) device_info: RwLock<Option<DeviceInfo>>,
    /// Where `POST /introduce` goes (device mode), and its rate limit.
    pub(crate) introductions: Introductions,
    /// Shared mode (public rooms in Redis); `None` runs every room through the hub.
    pub(crate) backplane: Option<Backplane>,
    pub(crate) shutting_down: AtomicBool,
    next_conn: AtomicU64,
    live: AtomicUsize,
    drained: Notify,
    /// Start of [`Shared::now_ms`]'s clock.
    epoch: Instant,
    /// The liveness keeper task runs (started with the first connection).
    keeper: AtomicBool,
}

impl Shared {
    /// A single-instance server: every room in this process's hub.
    pub(crate) fn new(config: ServerConfig) -> Arc<Self> {
        Self::build(config, None)
    }

    /// Like [`Shared::new`], in shared mode when the configuration asks for it (public
    /// mode with a backplane; a device server never uses one).
    pub(crate) fn with_backplane(config: ServerConfig) -> Result<Arc<Self>, SignalError> {
        let backplane = match (&config.mode, &config.backplane) {
            (Mode::Public { capacity }, Some(bp)) => Some(Backplane::new(
                bp,
                (*capacity).clamp(2, 8),
                config.limits.resume_grace,
            )?),
            _ => None,
        };
        Ok(Self::build(config, backplane))
    }

    fn build(config: ServerConfig, backplane: Option<Backplane>) -> Arc<Self> {
        let (policy, info) = match &config.mode {
            Mode::Public { capacity } => (
                Policy::Public {
                    capacity: (*capacity).clamp(2, 8),
                },
                None,
            ),
            Mode::Device { owner_token, info } => (
                Policy::Device {
                    owner_token: owner_token.clone(),
                },
                Some(info.clone()),
            ),
        };
        let hub = Hub::new(HubConfig {
            policy,
            ice: config.ice.clone(),
            resume_grace: config.limits.resume_grace,
            server_name: concat!("parley/", env!("CARGO_PKG_VERSION")).to_owned(),
        });
        Arc::new(Self {
            config,
            core: Mutex::new(Core {
                hub,
                outboxes: HashMap::new(),
            }),
            ips: Mutex::new(IpTable::default()),
            metrics: Metrics::default(),
            device_info: RwLock::new(info),
            introductions: Introductions::default(),
            backplane,
            shutting_down: AtomicBool::new(false),
            next_conn: AtomicU64::new(1),
            live: AtomicUsize::new(0),
            drained: Notify::new(),
            epoch: Instant::now(),
            keeper: AtomicBool::new(false),
        })
    }

    /// Adds a connection; it receives `bye` at shutdown even before `hello`.
    pub(crate) fn register(self: &Arc<Self>) -> (ConnId, Arc<Outbox>) {
        if !self.keeper.swap(true, Relaxed) {
            tokio::spawn(keep_alive(Arc::downgrade(self)));
        }
        let conn = self.next_conn.fetch_add(1, Relaxed);
        let outbox = Arc::new(Outbox::default());
        outbox.heard(self.now_ms());
        lock(&self.core).outboxes.insert(conn, outbox.clone());
        self.live.fetch_add(1, Relaxed);
        self.metrics.open.fetch_add(1, Relaxed);
        self.metrics.opened.fetch_add(1, Relaxed);
        (conn, outbox)
    }

    /// Removes a finished connection and tells its room.
    pub(crate) fn unregister(&self, conn: ConnId, ip: IpAddr) {
        {
            let mut core = lock(&self.core);
            core.outboxes.remove(&conn);
            let effects = core.hub.disconnect(conn, Now::current());
            self.apply(&mut core, effects);
        }
        lock(&self.ips).close(ip);
        self.metrics.open.fetch_sub(1, Relaxed);
        if self.live.fetch_sub(1, Relaxed) == 1 {
            self.drained.notify_waiters();
        }
    }

    /// Feeds a decoded message to the hub and delivers the result.
    pub(crate) fn handle(&self, conn: ConnId, msg: parley_protocol::ClientMessage) {
        let mut core = lock(&self.core);
        let effects = core.hub.handle(conn, msg, Now::current());
        self.apply(&mut core, effects);
    }

    /// Sends one message to `conn` (shared mode, where the hub does not speak).
    pub(crate) fn send(&self, conn: ConnId, msg: ServerMessage) {
        let mut core = lock(&self.core);
        self.apply(&mut core, vec![Effect::Send(conn, msg)]);
    }

    /// Queues an already encoded frame for `conn` (shared mode: relayed between instances).
    pub(crate) fn push_text(&self, conn: ConnId, text: String) {
        let core = lock(&self.core);
        let Some(outbox) = core.outboxes.get(&conn) else {
            return;
        };
        self.metrics.messages_out.fetch_add(1, Relaxed);
        if !outbox.push(text, self.config.limits.queue_depth) {
            self.metrics.closed(ServerClose::SlowConsumer);
        }
    }

    /// Closes `conn` after what is queued for it.
    pub(crate) fn close(&self, conn: ConnId) {
        if let Some(outbox) = lock(&self.core).outboxes.get(&conn) {
            outbox.close(Closing::ByServer);
        }
    }

    /// Software name and version for `welcome`.
    pub(crate) fn server_name(&self) -> String {
        concat!("parley/", env!("CARGO_PKG_VERSION")).to_owned()
    }

    /// Tells `conn` its frame was refused.
    pub(crate) fn reject(&self, conn: ConnId, code: ErrorCode, message: String) {
        self.send(conn, ServerMessage::Error { code, message });
    }

    /// Carries out effects; a connection whose queue overflows is disconnected, which may
    /// produce further effects (its room hears `peer-left`).
    fn apply(&self, core: &mut Core, mut effects: Vec<Effect>) {
        let depth = self.config.limits.queue_depth;
        while !effects.is_empty() {
            let mut condemned = Vec::new();
            for effect in effects.drain(..) {
                match effect {
                    Effect::Send(conn, msg) => {
                        if let ServerMessage::Error { code, .. } = &msg {
                            self.metrics.error(*code);
                        }
                        let Some(outbox) = core.outboxes.get(&conn) else {
                            continue;
                        };
                        let Ok(text) = serde_json::to_string(&msg) else {
                            continue;
                        };
                        self.metrics.messages_out.fetch_add(1, Relaxed);
                        if !outbox.push(text, depth) {
                            self.metrics.closed(ServerClose::SlowConsumer);
                            condemned.push(conn);
                        }
                    }
                    Effect::Close(conn) => {
                        if let Some(outbox) = core.outboxes.get(&conn) {
                            outbox.close(Closing::ByServer);
                        }
                    }
                }
            }
            for conn in condemned {
                tracing::info!(conn, "dropping slow consumer");
                effects.extend(core.hub.disconnect(conn, Now::current()));
            }
        }
    }

    /// Releases expired room places and join windows.
    pub(crate) fn sweep(&self) {
        {
            let mut core = lock(&self.core);
            let effects = core.hub.expire(Now::current());
            self.apply(&mut core, effects);
        }
        let limits = &self.config.limits;
        lock(&self.ips).sweep(limits.join_window, std::time::Instant::now());
    }

    /// The `/metrics` text, with the backplane's health in shared mode.
    pub(crate) fn metrics_text(&self) -> String {
        let mut text = self.metrics.render(self.room_count());
        if let Some(bp) = &self.backplane {
            bp.render_metrics(&mut text);
        }
        text
    }

    /// Number of rooms (for metrics).
    pub(crate) fn room_count(&self) -> usize {
        lock(&self.core).hub.room_count()
    }

    /// Sends `bye` to every connection and closes them all.
    pub(crate) fn begin_shutdown(&self) {
        self.shutting_down.store(true, Relaxed);
        let core = lock(&self.core);
        let bye = ServerMessage::Bye {
            reason: "server shutting down".into(),
        };
        let Ok(text) = serde_json::to_string(&bye) else {
            return;
        };
        for outbox in core.outboxes.values() {
            // One frame over the depth is fine: shutdown is the last thing said.
            outbox.push(text.clone(), usize::MAX);
            outbox.close(Closing::ShuttingDown);
        }
        tracing::info!(connections = core.outboxes.len(), "shutting down");
    }

    /// Milliseconds since this server started (the liveness clock).
    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Pings connections quiet for a ping interval, closes those quiet past the idle
    /// timeout. One pass over all connections replaces a timer in each.
    fn check_liveness(&self) {
        let limits = &self.config.limits;
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let (ping, idle) = (ms(limits.ping_interval), ms(limits.idle_timeout));
        let now = self.now_ms();
        let core = lock(&self.core);
        for outbox in core.outboxes.values() {
            let quiet = now.saturating_sub(outbox.heard_at());
            if quiet >= idle {
                if outbox.close(Closing::Idle) {
                    self.metrics.closed(ServerClose::Idle);
                }
            } else if quiet >= ping {
                outbox.ping_if_due(now, ping);
            }
        }
    }

    /// Waits until every connection task ended, or `grace` passed.
    pub(crate) async fn drained(&self, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let woken = self.drained.notified();
            if self.live.load(Relaxed) == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, woken).await.is_err() {
                return;
            }
        }
    }
}

/// Runs the liveness checks while the server exists, a few times per ping interval.
async fn keep_alive(shared: Weak<Shared>) {
    let period = match shared.upgrade() {
        Some(shared) => {
            let limits = &shared.config.limits;
            (limits.ping_interval.min(limits.idle_timeout) / 4)
                .clamp(Duration::from_millis(10), Duration::from_secs(1))
        }
        None => return,
    };
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        shared.check_liveness();
    }
}
