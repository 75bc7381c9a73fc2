//! The running discovery: an mDNS daemon plus one task that owns the peer table.
//!
//! The task is the only writer of the table; mDNS events, liveness results and user commands
//! all arrive as messages, so no lock is held across an await and ordering is simple.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mdns_sd::{DaemonEvent, IfKind, ServiceDaemon, ServiceEvent};
use parley_protocol::{DeviceInfo, Introduction};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::SERVICE_TYPE;
use crate::config::{DiscoveryConfig, Interfaces, LivenessConfig};
use crate::error::{AddPeerError, DiscoveryError, IntroductionError};
use crate::introduce::{INTRODUCTION_WINDOW, send, verify};
use crate::peer::{Peer, PeerEvent, PeerSource};
use crate::probe::{fetch_device_info, healthz};
use crate::table::PeerTable;
use crate::txt::{address_rank, instance_name, peer_from_service, service_info};

/// Events kept for a slow subscriber before it sees `Lagged` (then it re-reads `peers()`).
const EVENT_BUFFER: usize = 256;
/// How long `shutdown` waits for the goodbye packets to leave.
const GOODBYE_WAIT: Duration = Duration::from_secs(2);

enum Command {
    Peers(oneshot::Sender<Vec<Peer>>),
    SetInfo(DeviceInfo, oneshot::Sender<Result<(), DiscoveryError>>),
    /// A peer verified at this address: added by the user, or introduced itself.
    AddByAddress(Peer, SocketAddr, oneshot::Sender<Peer>),
    Shutdown(oneshot::Sender<()>),
}

/// Handle to a running discovery. Dropping it stops discovery as well (mdns-sd still sends its
/// goodbye packets) but does not wait for that; [`Discovery::shutdown`] does.
#[derive(Debug)]
pub struct Discovery {
    commands: mpsc::Sender<Command>,
    events: broadcast::Sender<PeerEvent>,
    own_id: String,
    liveness: LivenessConfig,
}

impl Discovery {
    /// Advertises this device and starts browsing. Must be called inside a tokio runtime.
    pub fn start(config: DiscoveryConfig) -> Result<Self, DiscoveryError> {
        let daemon = ServiceDaemon::new_with_port(config.mdns_port)?;
        let instance = instance_name(&config.info.name);
        let channels = setup(&daemon, &config, &instance);
        let (monitor, browse) = match channels {
            Ok(channels) => channels,
            Err(e) => {
                // Do not leave the daemon thread running behind a failed start.
                let _ = daemon.shutdown();
                return Err(e);
            }
        };

        let (commands, command_rx) = mpsc::channel(32);
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let (probe_tx, probe_rx) = mpsc::channel(64);
        let own_id = config.info.id.clone();
        let liveness = config.liveness.clone();
        let worker = Worker {
            daemon,
            info: config.info,
            instance,
            port: config.port,
            liveness: config.liveness,
            table: PeerTable::default(),
            events: events.clone(),
            probe_tx,
            introduce_until: tokio::time::Instant::now() + INTRODUCTION_WINDOW,
        };
        tokio::spawn(worker.run(command_rx, browse, monitor, probe_rx));
        Ok(Self {
            commands,
            events,
            own_id,
            liveness,
        })
    }

    /// A stream of table changes from now on. Read [`Discovery::peers`] for the current state.
    pub fn subscribe(&self) -> broadcast::Receiver<PeerEvent> {
        self.events.subscribe()
    }

    /// The peers listed right now, sorted by name.
    pub async fn peers(&self) -> Vec<Peer> {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Peers(tx)).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Changes what this device advertises (e.g. a rename); peers see an `Updated` event.
    /// The id must stay the same.
    pub async fn set_info(&self, info: DeviceInfo) -> Result<(), DiscoveryError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::SetInfo(info, tx))
            .await
            .map_err(|_| DiscoveryError::Stopped)?;
        rx.await.map_err(|_| DiscoveryError::Stopped)?
    }

    /// Adds a device by `host:port` (for networks where multicast does not get through): checks
    /// `/healthz`, reads `GET /device`, then lists it and keeps checking it like the others.
    pub async fn add_manual(&self, target: &str) -> Result<Peer, AddPeerError> {
        let bad = |reason: String| AddPeerError::BadAddress {
            target: target.to_owned(),
            reason,
        };
        let mut addrs: Vec<SocketAddr> = tokio::net::lookup_host(target)
            .await
            .map_err(|e| bad(e.to_string()))?
            .collect();
        if addrs.is_empty() {
            return Err(bad("no address".into()));
        }
        addrs.sort_by_key(|a| address_rank(&a.ip()));
        let timeout = self.liveness.timeout.max(Duration::from_secs(2));
        let mut answered = None;
        for addr in addrs {
            if healthz(addr, timeout).await {
                answered = Some(addr);
                break;
            }
        }
        let addr = answered.ok_or_else(|| AddPeerError::Unreachable(target.to_owned()))?;
        let info =
            fetch_device_info(addr, timeout)
                .await
                .map_err(|e| AddPeerError::NotADevice {
                    target: target.to_owned(),
                    reason: e.to_string(),
                })?;
        if info.id == self.own_id {
            return Err(AddPeerError::IsSelf(target.to_owned()));
        }
        let peer = Peer::answered_at(info, addr, PeerSource::Manual);
        self.list_by_address(peer, addr)
            .await
            .ok_or(AddPeerError::Stopped)
    }

    /// Checks an introduction (`POST /introduce`) that came from `from`: lists the sender when
    /// `GET /device` at `from` and the claimed port answers with the claimed id. Only the source
    /// address is ever contacted, so a sender can vouch for nobody but itself. A device already
    /// listed by mDNS stays as mDNS lists it.
    pub async fn accept_introduction(
        &self,
        from: IpAddr,
        introduction: &Introduction,
    ) -> Result<Peer, IntroductionError> {
        let timeout = self.liveness.timeout.max(Duration::from_secs(2));
        let (peer, addr) = verify(from, introduction, &self.own_id, timeout).await?;
        self.list_by_address(peer, addr)
            .await
            .ok_or(IntroductionError::Stopped)
    }

    /// Lists a peer verified at `addr`; the peer as listed, or `None` once discovery stopped.
    async fn list_by_address(&self, peer: Peer, addr: SocketAddr) -> Option<Peer> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::AddByAddress(peer, addr, tx))
            .await
            .ok()?;
        rx.await.ok()
    }

    /// Sends goodbye packets (peers drop this device about 1 s later) and stops. Later calls
    /// on this handle find discovery stopped.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Shutdown(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

type Channels = (
    mdns_sd::Receiver<DaemonEvent>,
    mdns_sd::Receiver<ServiceEvent>,
);

/// Configures the daemon, registers this device and starts browsing.
fn setup(
    daemon: &ServiceDaemon,
    config: &DiscoveryConfig,
    instance: &str,
) -> Result<Channels, DiscoveryError> {
    if config.interfaces == Interfaces::LoopbackOnly {
        daemon.disable_interface(IfKind::All)?;
        daemon.enable_interface(IfKind::LoopbackV4)?;
    }
    let check_secs = u32::try_from(config.ip_check_interval.as_secs().max(1)).unwrap_or(u32::MAX);
    daemon.set_ip_check_interval(check_secs)?;
    let monitor = daemon.monitor()?;
    daemon.register(service_info(&config.info, instance, config.port)?)?;
    let browse = daemon.browse(SERVICE_TYPE)?;
    Ok((monitor, browse))
}

/// The task that owns the daemon and the table.
struct Worker {
    daemon: ServiceDaemon,
    info: DeviceInfo,
    instance: String,
    port: u16,
    liveness: LivenessConfig,
    table: PeerTable,
    events: broadcast::Sender<PeerEvent>,
    probe_tx: mpsc::Sender<(String, Option<SocketAddr>)>,
    /// Peers first found before this instant may not know us yet (our announcement waits for
    /// probing), so we introduce ourselves to each of them.
    introduce_until: tokio::time::Instant,
}

impl Worker {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        browse: mdns_sd::Receiver<ServiceEvent>,
        monitor: mdns_sd::Receiver<DaemonEvent>,
        mut probes: mpsc::Receiver<(String, Option<SocketAddr>)>,
    ) {
        let mut tick = tokio::time::interval(self.liveness.period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut monitor_open = true;
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(Command::Shutdown(done)) => {
                        self.stop().await;
                        let _ = done.send(());
                        return;
                    }
                    Some(command) => self.handle_command(command),
                    None => {
                        // Every handle is gone: stop quietly.
                        let _ = self.daemon.shutdown();
                        return;
                    }
                },
                event = browse.recv_async() => match event {
                    Ok(event) => self.handle_service_event(event),
                    Err(_) => {
                        tracing::error!("mDNS browse channel closed; discovery stops");
                        return;
                    }
                },
                event = monitor.recv_async(), if monitor_open => match event {
                    Ok(event) => {
                        if matches!(event, DaemonEvent::IpAdd(_)) {
                            // A new network: its devices do not know us yet either.
                            self.introduce_until = tokio::time::Instant::now() + INTRODUCTION_WINDOW;
                        }
                        log_daemon_event(event);
                    }
                    Err(_) => monitor_open = false,
                },
                Some((id, answered)) = probes.recv() => {
                    let (event, verify) = self.table.probe_finished(&id, answered, now_ms(), self.liveness.misses);
                    if let Some(fullname) = verify {
                        // Ask mDNS too, so a dead host's records are flushed instead of lingering.
                        let _ = self.daemon.verify(fullname, Duration::from_secs(1));
                    }
                    self.publish(event);
                },
                _ = tick.tick() => self.start_probes(),
            }
        }
    }

    fn handle_command(&mut self, command: Command) {
        match command {
            Command::Peers(reply) => {
                let _ = reply.send(self.table.peers());
            }
            Command::SetInfo(info, reply) => {
                let result = self.set_info(info);
                let _ = reply.send(result);
            }
            Command::AddByAddress(peer, addr, reply) => {
                let (listed, event) = self.table.added_by_address(peer, addr);
                self.publish(event);
                let _ = reply.send(listed);
            }
            Command::Shutdown(_) => {}
        }
    }

    /// Re-registers under the same instance name with the new TXT; mdns-sd keeps any
    /// conflict-resolved name and announces the changed records at once.
    fn set_info(&mut self, info: DeviceInfo) -> Result<(), DiscoveryError> {
        if info.id != self.info.id {
            return Err(DiscoveryError::IdChanged);
        }
        let service = service_info(&info, &self.instance, self.port)?;
        self.daemon.register(service)?;
        self.info = info;
        Ok(())
    }

    fn handle_service_event(&mut self, event: ServiceEvent) {
        match event {
            ServiceEvent::ServiceResolved(service) => {
                let (peer, probe_addrs) = peer_from_service(&service, now_ms());
                if peer.id == self.info.id {
                    return;
                }
                let event = self
                    .table
                    .mdns_resolved(&service.fullname, peer, probe_addrs.clone());
                let early = tokio::time::Instant::now() < self.introduce_until;
                if early && matches!(event, Some(PeerEvent::Added { .. })) {
                    self.introduce_to(probe_addrs);
                }
                self.publish(event);
            }
            ServiceEvent::ServiceRemoved(_, fullname) => {
                let event = self.table.mdns_removed(&fullname);
                self.publish(event);
            }
            other => tracing::trace!(?other, "mDNS browse event"),
        }
    }

    /// Tells a peer found while our own mDNS probing may still run that we exist, so it lists
    /// us now rather than after our announcement. Best effort: a peer that refuses (or is not
    /// a Parley device, or predates introductions) learns about us from mDNS as before.
    fn introduce_to(&self, addrs: Vec<SocketAddr>) {
        let introduction = Introduction {
            id: self.info.id.clone(),
            port: self.port,
        };
        tokio::spawn(send(introduction, addrs));
    }

    fn start_probes(&mut self) {
        for (id, addrs) in self.table.due_probes() {
            let tx = self.probe_tx.clone();
            let timeout = self.liveness.timeout;
            tokio::spawn(async move {
                let mut answered = None;
                for addr in addrs {
                    if healthz(addr, timeout).await {
                        answered = Some(addr);
                        break;
                    }
                }
                let _ = tx.send((id, answered)).await;
            });
        }
    }

    fn publish(&self, event: Option<PeerEvent>) {
        if let Some(event) = event {
            tracing::debug!(?event, "peer table changed");
            // No subscriber is fine: the table is still readable through `peers()`.
            let _ = self.events.send(event);
        }
    }

    /// Shuts the daemon down, which first unregisters our service (goodbye packets), and waits
    /// briefly for it to finish.
    async fn stop(&mut self) {
        if let Ok(status) = self.daemon.shutdown() {
            let _ = tokio::time::timeout(GOODBYE_WAIT, status.recv_async()).await;
        }
    }
}

fn log_daemon_event(event: DaemonEvent) {
    match event {
        DaemonEvent::Error(e) => tracing::warn!(error = %e, "mDNS daemon error"),
        DaemonEvent::NameChange(change) => {
            tracing::info!(from = %change.original, to = %change.new_name, "mDNS name conflict resolved")
        }
        DaemonEvent::IpAdd(ip) => tracing::info!(%ip, "interface address added"),
        DaemonEvent::IpDel(ip) => tracing::info!(%ip, "interface address removed"),
        other => tracing::trace!(?other, "mDNS daemon event"),
    }
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
