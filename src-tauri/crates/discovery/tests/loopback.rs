//! Discovery between devices on this host, over the loopback interface only and on a private
//! mDNS port per test, so tests run in parallel and nothing leaves the machine. The multi-host
//! behaviour (real LAN, crashes, firewalls, Avahi) is covered by `tests/lan/` in namespaces.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use parley_discovery::{
    AddPeerError, Discovery, DiscoveryConfig, DiscoveryError, Interfaces, LivenessConfig,
    PeerEvent, PeerSource, RemoveReason, new_device_id,
};
use parley_protocol::{DeviceInfo, PROTOCOL_VERSION};
use parley_signal::{ServerConfig, ServerHandle};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{broadcast, oneshot};

/// Longest any expected event may take here (generous: CI machines are slow).
const WAIT: Duration = Duration::from_secs(10);

fn info(name: &str, version: u32) -> DeviceInfo {
    DeviceInfo {
        id: new_device_id().unwrap(),
        name: name.into(),
        version,
        app: "0.1.0".into(),
        os: "linux".into(),
    }
}

/// A free UDP port to use as this test's private mDNS port.
async fn private_mdns_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A device's real signaling server (device mode) on loopback. Dropping the returned sender
/// shuts it down and closes its port, as a crashed device's server would disappear.
async fn device_server(info: &DeviceInfo) -> (SocketAddr, oneshot::Sender<()>) {
    let (handle, stop) = device_server_handle(info).await;
    (handle.local_addr(), stop)
}

/// [`device_server`], with the handle (to take its introductions).
async fn device_server_handle(info: &DeviceInfo) -> (ServerHandle, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let config = ServerConfig::device("owner-token", info.clone());
    let (handle, _task) = parley_signal::spawn(listener, config, async move {
        let _ = stopped.await;
    })
    .unwrap();
    (handle, stop)
}

struct Device {
    info: DeviceInfo,
    discovery: Arc<Discovery>,
    events: broadcast::Receiver<PeerEvent>,
    server: oneshot::Sender<()>,
    addr: SocketAddr,
}

async fn device(name: &str, version: u32, mdns_port: u16) -> Device {
    let info = info(name, version);
    let (addr, server) = device_server(&info).await;
    let liveness = LivenessConfig {
        period: Duration::from_millis(300),
        timeout: Duration::from_millis(300),
        misses: 2,
    };
    Device::start(info, addr, server, mdns_port, liveness)
}

impl Device {
    /// Starts discovery (loopback only, on `mdns_port`) for the device whose server is at `addr`.
    fn start(
        info: DeviceInfo,
        addr: SocketAddr,
        server: oneshot::Sender<()>,
        mdns_port: u16,
        liveness: LivenessConfig,
    ) -> Self {
        let mut config = DiscoveryConfig::new(info.clone(), addr.port());
        config.mdns_port = mdns_port;
        config.interfaces = Interfaces::LoopbackOnly;
        config.liveness = liveness;
        let discovery = Arc::new(Discovery::start(config).unwrap());
        let events = discovery.subscribe();
        Device {
            info,
            discovery,
            events,
            server,
            addr,
        }
    }
}

/// Waits for the first event matching `want`, skipping others; fails after [`WAIT`].
async fn next_matching(
    events: &mut broadcast::Receiver<PeerEvent>,
    what: &str,
    want: impl Fn(&PeerEvent) -> bool,
) -> PeerEvent {
    let found = tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(event) if want(&event) => return event,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => {
                    panic!("event stream closed waiting for {what}")
                }
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("no {what} within {WAIT:?}"))
}

/// Waits for the next removal and checks that liveness, not a goodbye, caused it.
async fn removed_as_unreachable(events: &mut broadcast::Receiver<PeerEvent>, what: &str) {
    let gone = next_matching(events, what, |e| matches!(e, PeerEvent::Removed { .. })).await;
    assert!(
        matches!(
            gone,
            PeerEvent::Removed {
                reason: RemoveReason::Unreachable,
                ..
            }
        ),
        "{what}: {gone:?}"
    );
}

fn added(id: &str) -> impl Fn(&PeerEvent) -> bool + '_ {
    move |e| matches!(e, PeerEvent::Added { peer } if peer.id == id)
}

#[tokio::test]
async fn two_devices_list_each_other_with_names_and_never_themselves() {
    let port = private_mdns_port().await;
    let mut a = device("客厅的电脑", PROTOCOL_VERSION, port).await;
    let mut b = device("Bob's laptop", PROTOCOL_VERSION, port).await;

    let seen_by_a = next_matching(&mut a.events, "b added", added(&b.info.id)).await;
    let peer = seen_by_a.peer();
    assert_eq!(peer.name, "Bob's laptop");
    assert_eq!(peer.port, b.addr.port());
    assert!(peer.compatible);
    assert_eq!(peer.source, PeerSource::Mdns);
    assert!(peer.addresses.contains(&"127.0.0.1".parse().unwrap()));
    let seen_by_b = next_matching(&mut b.events, "a added", added(&a.info.id)).await;
    assert_eq!(seen_by_b.peer().name, "客厅的电脑");

    let listed: Vec<String> = a
        .discovery
        .peers()
        .await
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(listed, vec![b.info.id.clone()], "a lists b and not itself");

    a.discovery.shutdown().await;
    b.discovery.shutdown().await;
}

#[tokio::test]
async fn a_rename_arrives_as_an_update_and_shutdown_as_a_goodbye() {
    let port = private_mdns_port().await;
    let mut a = device("Anna", PROTOCOL_VERSION, port).await;
    let b = device("Berta", PROTOCOL_VERSION, port).await;
    next_matching(&mut a.events, "b added", added(&b.info.id)).await;

    let renamed = DeviceInfo {
        name: "Бэрта".into(),
        ..b.info.clone()
    };
    b.discovery.set_info(renamed).await.unwrap();
    let other_id = DeviceInfo {
        id: new_device_id().unwrap(),
        ..b.info.clone()
    };
    let err = b.discovery.set_info(other_id).await.unwrap_err();
    assert!(matches!(err, DiscoveryError::IdChanged), "{err}");
    let id = b.info.id.clone();
    next_matching(
        &mut a.events,
        "rename",
        |e| matches!(e, PeerEvent::Updated { peer } if peer.id == id && peer.name == "Бэрта"),
    )
    .await;

    b.discovery.shutdown().await;
    let gone = next_matching(
        &mut a.events,
        "b removed",
        |e| matches!(e, PeerEvent::Removed { peer, .. } if peer.id == id),
    )
    .await;
    assert!(
        matches!(
            gone,
            PeerEvent::Removed {
                reason: RemoveReason::Goodbye,
                ..
            }
        ),
        "{gone:?}"
    );
    assert!(a.discovery.peers().await.is_empty());
    a.discovery.shutdown().await;
}

#[tokio::test]
async fn a_peer_whose_server_dies_is_removed_as_unreachable() {
    let port = private_mdns_port().await;
    let mut a = device("Anna", PROTOCOL_VERSION, port).await;
    let b = device("Crashy", PROTOCOL_VERSION, port).await;
    next_matching(&mut a.events, "b added", added(&b.info.id)).await;

    // mDNS still answers for b, but its server is gone: only liveness can notice.
    drop(b.server);
    let id = b.info.id.clone();
    let gone = next_matching(
        &mut a.events,
        "b removed",
        |e| matches!(e, PeerEvent::Removed { peer, .. } if peer.id == id),
    )
    .await;
    assert!(
        matches!(
            gone,
            PeerEvent::Removed {
                reason: RemoveReason::Unreachable,
                ..
            }
        ),
        "{gone:?}"
    );
    a.discovery.shutdown().await;
    b.discovery.shutdown().await;
}

#[tokio::test]
async fn an_incompatible_version_is_listed_as_such() {
    let port = private_mdns_port().await;
    let mut a = device("Anna", PROTOCOL_VERSION, port).await;
    let old = device("Old phone", PROTOCOL_VERSION + 1, port).await;
    let event = next_matching(&mut a.events, "old added", added(&old.info.id)).await;
    assert_eq!(event.peer().version, Some(PROTOCOL_VERSION + 1));
    assert!(!event.peer().compatible);
    a.discovery.shutdown().await;
    old.discovery.shutdown().await;
}

#[tokio::test]
async fn same_display_names_are_both_listed() {
    let port = private_mdns_port().await;
    let mut a = device("Anna", PROTOCOL_VERSION, port).await;
    let twin1 = device("Twin", PROTOCOL_VERSION, port).await;
    let twin2 = device("Twin", PROTOCOL_VERSION, port).await;
    // Both get listed (in any order); mDNS renames one instance ("Twin (2)"), the TXT name stays.
    let mut missing = vec![twin1.info.id.clone(), twin2.info.id.clone()];
    while !missing.is_empty() {
        let event = next_matching(&mut a.events, "twins", |e| {
            matches!(e, PeerEvent::Added { .. })
        })
        .await;
        assert_eq!(event.peer().name, "Twin");
        missing.retain(|id| *id != event.peer().id);
    }
    for d in [a, twin1, twin2] {
        d.discovery.shutdown().await;
    }
}

#[tokio::test]
async fn a_device_added_by_address_is_listed_and_kept_alive_like_the_rest() {
    // Another mDNS port: the manual device must not be found by browsing.
    let mut a = device("Anna", PROTOCOL_VERSION, private_mdns_port().await).await;
    let far = info("Far away", PROTOCOL_VERSION);
    let (far_addr, far_server) = device_server(&far).await;

    let peer = a.discovery.add_manual(&far_addr.to_string()).await.unwrap();
    assert_eq!(
        (peer.id.as_str(), peer.name.as_str()),
        (far.id.as_str(), "Far away")
    );
    assert_eq!(peer.source, PeerSource::Manual);
    next_matching(&mut a.events, "far added", added(&far.id)).await;
    assert_eq!(a.discovery.peers().await.len(), 1);

    drop(far_server);
    removed_as_unreachable(&mut a.events, "far removed").await;
    a.discovery.shutdown().await;
}

#[tokio::test]
async fn manual_add_explains_what_went_wrong() {
    let a = device("Anna", PROTOCOL_VERSION, private_mdns_port().await).await;
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let err = a
        .discovery
        .add_manual(&closed.to_string())
        .await
        .unwrap_err();
    assert!(matches!(err, AddPeerError::Unreachable(_)), "{err}");
    let err = a.discovery.add_manual("not an address").await.unwrap_err();
    assert!(matches!(err, AddPeerError::BadAddress { .. }), "{err}");
    let err = a
        .discovery
        .add_manual(&a.addr.to_string())
        .await
        .unwrap_err();
    assert!(matches!(err, AddPeerError::IsSelf(_)), "{err}");
    a.discovery.shutdown().await;
}

/// A device whose server passes `POST /introduce` to its discovery, as `parley-node` does.
async fn device_taking_introductions(name: &str, mdns_port: u16) -> Device {
    let info = info(name, PROTOCOL_VERSION);
    let (handle, server) = device_server_handle(&info).await;
    let device = Device::start(
        info,
        handle.local_addr(),
        server,
        mdns_port,
        LivenessConfig::default(),
    );
    let mut requests = handle.accept_introductions(4);
    let verifier = device.discovery.clone();
    tokio::spawn(async move {
        while let Some(request) = requests.recv().await {
            let verdict = verifier
                .accept_introduction(request.from, &request.introduction)
                .await
                .map(|_| ())
                .map_err(|e| parley_signal::IntroductionRejected(e.to_string()));
            let _ = request.reply.send(verdict);
        }
    });
    device
}

/// `POST /introduce` to `addr` claiming `id` and `port`: status and body of the answer.
async fn introduce(addr: SocketAddr, id: &str, port: u16) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = serde_json::json!({"id": id, "port": port}).to_string();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /introduce HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    tokio::time::timeout(WAIT, stream.read_to_string(&mut raw))
        .await
        .unwrap()
        .unwrap();
    let status = raw.split(' ').nth(1).unwrap().parse().unwrap();
    let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    (status, body)
}

#[tokio::test]
async fn an_introduced_device_is_listed_at_once_and_forged_introductions_are_refused() {
    // Another mDNS port for the newcomer: only its introduction can make it known.
    let mut a = device_taking_introductions("Anna", private_mdns_port().await).await;
    let newcomer = info("Newcomer 新人", PROTOCOL_VERSION);
    let (newcomer_addr, newcomer_server) = device_server(&newcomer).await;

    // Forged: a claimed port where no Parley device listens, someone else's id, a's own id.
    let nothing_there = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let (status, reason) = introduce(a.addr, &newcomer.id, nothing_there).await;
    assert_eq!(status, 422, "{reason}");
    assert!(reason.contains("no Parley device answers"), "{reason}");
    let (status, reason) = introduce(a.addr, "someone-else", newcomer_addr.port()).await;
    assert_eq!(status, 422, "{reason}");
    assert!(reason.contains("is not someone-else"), "{reason}");
    assert_eq!(introduce(a.addr, &a.info.id, a.addr.port()).await.0, 422);
    assert!(
        a.discovery.peers().await.is_empty(),
        "nothing forged is listed"
    );

    // Genuine: listed at once, at the address the introduction came from.
    let (status, body) = introduce(a.addr, &newcomer.id, newcomer_addr.port()).await;
    assert_eq!(status, 204, "{body}");
    let event = next_matching(&mut a.events, "newcomer added", added(&newcomer.id)).await;
    let peer = event.peer();
    assert_eq!(peer.name, "Newcomer 新人");
    assert_eq!(peer.source, PeerSource::Introduced);
    assert_eq!(peer.port, newcomer_addr.port());
    assert_eq!(peer.addresses, vec![newcomer_addr.ip()]);

    // Liveness covers it like any other peer.
    drop(newcomer_server);
    removed_as_unreachable(&mut a.events, "newcomer removed").await;
    a.discovery.shutdown().await;
}
