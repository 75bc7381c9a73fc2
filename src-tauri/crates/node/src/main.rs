//! `parley-node`: a Parley device with no UI, for servers, Raspberry Pis and tests.
//!
//! It runs the embedded (device-mode) signaling server, advertises it over mDNS, lists the other
//! devices on the LAN, and prints every change as one JSON object per line on stdout. Commands
//! arrive as JSON lines on stdin (`--help` lists both). SIGTERM, SIGINT and `{"cmd":"quit"}`
//! stop it gracefully: goodbye packets first, then the server tells its clients `bye`.

mod cli;
mod commands;

use std::error::Error;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use parley_discovery::{Discovery, DiscoveryConfig, Peer, load_or_create_device_id, new_device_id};
use parley_protocol::{DeviceInfo, PROTOCOL_VERSION};
use parley_signal::{IntroductionRejected, IntroductionRequest, ServerConfig};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::cli::Args;
use crate::commands::{StdinCommand, parse_line};

type AnyError = Box<dyn Error + Send + Sync>;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let code = match run(Args::parse()).await {
        Ok(()) => 0,
        Err(e) => {
            emit(&json!({"event": "error", "message": e.to_string()}));
            eprintln!("parley-node: {e}");
            1
        }
    };
    // Exit now: the runtime would otherwise wait on shutdown for the blocking stdin read,
    // which only ends when stdin does.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    std::process::exit(code)
}

/// One JSON object per line; stdout is line-buffered, so each line leaves at once.
fn emit(value: &serde_json::Value) {
    println!("{value}");
}

async fn run(args: Args) -> Result<(), AnyError> {
    let data_dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    let mut info = DeviceInfo {
        id: load_or_create_device_id(&data_dir)?,
        name: args.name.clone().unwrap_or_else(default_name),
        version: PROTOCOL_VERSION,
        app: env!("CARGO_PKG_VERSION").to_owned(),
        os: std::env::consts::OS.to_owned(),
    };
    let owner_token = match &args.owner_token {
        Some(token) => token.clone(),
        None => new_device_id()?,
    };

    // The server is up before the device is advertised, so a peer's first /healthz succeeds.
    let listener = bind(args.bind, args.port).await?;
    let (stop_server, server_stopped) = oneshot::channel::<()>();
    let mut config = ServerConfig::device(owner_token.clone(), info.clone());
    config.static_dir = args.static_dir.clone();
    let (server, server_task) = parley_signal::spawn(listener, config, async move {
        let _ = server_stopped.await;
    })?;
    let addr = server.local_addr();

    let mut discovery_config = DiscoveryConfig::new(info.clone(), addr.port());
    discovery_config.mdns_port = args.mdns_port;
    let discovery = Arc::new(Discovery::start(discovery_config)?);
    let mut events = discovery.subscribe();
    tokio::spawn(verify_introductions(
        Arc::clone(&discovery),
        server.accept_introductions(16),
    ));
    emit(&json!({
        "event": "listening", "addr": addr.to_string(), "port": addr.port(),
        "id": info.id, "name": info.name, "ownerToken": owner_token,
    }));

    let (manual_tx, mut manual_rx) = mpsc::channel(16);
    for target in &args.add {
        spawn_manual_add(&discovery, target.clone(), manual_tx.clone());
    }
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;

    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(event) => emit(&serde_json::to_value(&event)?),
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Events were dropped: print the whole table so readers can resync.
                    emit(&json!({"event": "peers", "peers": discovery.peers().await}));
                }
                Err(broadcast::error::RecvError::Closed) => return Err("discovery stopped".into()),
            },
            Some(line) = manual_rx.recv() => emit(&line),
            line = stdin.next_line(), if stdin_open => match line {
                Ok(Some(line)) => match parse_line(&line) {
                    Ok(Some(StdinCommand::Quit)) => break,
                    Ok(Some(StdinCommand::Rename { name })) => {
                        info.name = name;
                        server.set_device_info(info.clone());
                        if let Err(e) = discovery.set_info(info.clone()).await {
                            emit(&json!({"event": "error", "message": e.to_string()}));
                        }
                    }
                    Ok(Some(StdinCommand::Add { addr })) => spawn_manual_add(&discovery, addr, manual_tx.clone()),
                    Ok(Some(StdinCommand::Peers)) => {
                        emit(&json!({"event": "peers", "peers": discovery.peers().await}));
                    }
                    Ok(None) => {}
                    Err(e) => emit(&json!({"event": "error", "message": format!("bad command: {e}")})),
                },
                // Stdin closed (e.g. </dev/null under a service manager): keep running.
                Ok(None) | Err(_) => stdin_open = false,
            },
            _ = terminate.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }

    discovery.shutdown().await;
    let _ = stop_server.send(());
    server_task.await??;
    emit(&json!({"event": "stopped"}));
    Ok(())
}

/// Answers `POST /introduce` requests: discovery checks each one (`GET /device` at its source)
/// and lists the sender. The server bounds how many are in flight.
async fn verify_introductions(
    discovery: Arc<Discovery>,
    mut requests: mpsc::Receiver<IntroductionRequest>,
) {
    while let Some(request) = requests.recv().await {
        let discovery = Arc::clone(&discovery);
        tokio::spawn(async move {
            let verdict = discovery
                .accept_introduction(request.from, &request.introduction)
                .await
                .map(|_| ())
                .map_err(|e| IntroductionRejected(e.to_string()));
            let _ = request.reply.send(verdict);
        });
    }
}

fn spawn_manual_add(
    discovery: &Arc<Discovery>,
    target: String,
    results: mpsc::Sender<serde_json::Value>,
) {
    let discovery = Arc::clone(discovery);
    tokio::spawn(async move {
        let line = match discovery.add_manual(&target).await {
            Ok(peer) => manual_line(&target, Ok(peer)),
            Err(e) => manual_line(&target, Err(e.to_string())),
        };
        let _ = results.send(line).await;
    });
}

fn manual_line(target: &str, result: Result<Peer, String>) -> serde_json::Value {
    match result {
        Ok(peer) => json!({"event": "manual", "target": target, "ok": true, "peer": peer}),
        Err(error) => json!({"event": "manual", "target": target, "ok": false, "error": error}),
    }
}

/// Binds `bind:port`; without `--bind`, tries dual-stack `::` and falls back to `0.0.0.0`.
async fn bind(bind: Option<IpAddr>, port: u16) -> Result<TcpListener, AnyError> {
    if let Some(ip) = bind {
        return Ok(TcpListener::bind(SocketAddr::new(ip, port)).await?);
    }
    match TcpListener::bind(SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port)).await {
        Ok(listener) => Ok(listener),
        Err(e) => {
            tracing::info!(error = %e, "IPv6 unavailable; listening on IPv4 only");
            Ok(TcpListener::bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port)).await?)
        }
    }
}

fn default_data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("parley-node")
}

fn default_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "Parley node".to_owned())
}
