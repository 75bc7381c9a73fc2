//! `parley-loadgen`: measures a signaling server (`parley-server`, or peerjs-server for
//! comparison) on this machine: idle connections and their memory, relay throughput across
//! room pairs, and relay latency at a fixed offered load.
//!
//! Each scenario prints one JSON line ([`Outcome`]) on stdout and a summary on stderr;
//! `table` turns a file of such lines into the Markdown table of docs/benchmarks.md.
//! Driven by scripts/bench-signal.sh, which starts the servers.

mod conn;
mod idle;
mod latency;
mod pairs;
mod procfs;
mod spread;
mod table;
mod target;
mod throughput;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde::{Deserialize, Serialize};

use crate::target::Kind;

/// Everything that can stop a run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LoadError {
    /// A socket or /proc read failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The WebSocket layer failed.
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    /// A frame was not the JSON we expected.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// The server answered something else than the protocol says.
    #[error("unexpected: {0}")]
    Unexpected(String),
    /// The server closed the connection.
    #[error("closed by server: {0}")]
    Closed(String),
    /// Nothing came in time.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// Not every pair could be set up.
    #[error("set up {built} of {asked} pairs; first failure: {cause}")]
    Setup {
        built: usize,
        asked: usize,
        cause: Box<LoadError>,
    },
}

/// One scenario's result, as printed (one JSON line) and read back by `table`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "scenario", rename_all = "kebab-case")]
pub(crate) enum Outcome {
    /// Idle connections and their memory.
    Idle {
        server: String,
        asked: usize,
        held: usize,
        failed: usize,
        ramp_secs: f64,
        hold_secs: f64,
        rss_before_kib: u64,
        rss_after_kib: u64,
        rss_per_conn_bytes: f64,
        first_error: Option<String>,
    },
    /// Closed-loop relay throughput.
    Throughput {
        server: String,
        pairs: usize,
        payload_bytes: usize,
        window: usize,
        seconds: f64,
        delivered: u64,
        msgs_per_sec: f64,
        per_second: Vec<u64>,
        server_cpu_pct: f64,
        loadgen_cpu_pct: f64,
        failed_pairs: usize,
        first_error: Option<String>,
    },
    /// Open-loop relay latency.
    Latency {
        server: String,
        pairs: usize,
        payload_bytes: usize,
        offered_per_sec: f64,
        seconds: f64,
        sent: u64,
        received: u64,
        lost: u64,
        p50_us: f64,
        p90_us: f64,
        p99_us: f64,
        p999_us: f64,
        max_us: f64,
        send_lag_p99_us: f64,
        server_cpu_pct: f64,
        loadgen_cpu_pct: f64,
        failed_pairs: usize,
        first_error: Option<String>,
    },
}

#[derive(Parser)]
#[command(
    name = "parley-loadgen",
    about = "Load generator for Parley's signaling server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Hold many idle connections and report the server's RSS per connection.
    Idle {
        #[command(flatten)]
        common: Common,
        /// Connections to open.
        #[arg(long, default_value_t = 15_000)]
        conns: usize,
        /// Connections that share one 127.x.y.z source address.
        #[arg(long, default_value_t = 4)]
        per_ip: usize,
        /// Seconds to hold all connections before reading RSS.
        #[arg(long, default_value_t = 5.0)]
        hold: f64,
    },
    /// Closed-loop relay throughput across room pairs.
    Throughput {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        relay: Relay,
        /// Frames in flight per direction per pair.
        #[arg(long, default_value_t = 8)]
        window: usize,
    },
    /// Open-loop relay latency at a fixed offered rate.
    Latency {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        relay: Relay,
        /// Offered messages per second, all pairs and directions together.
        #[arg(long, default_value_t = 10_000.0)]
        rate: f64,
        /// Seconds to wait for the last messages after sending stops.
        #[arg(long, default_value_t = 1.0)]
        drain: f64,
    },
    /// Print the Markdown comparison table for a file of result lines.
    Table {
        /// File of JSON lines printed by the other subcommands.
        results: PathBuf,
    },
}

#[derive(Args)]
struct Common {
    /// Which server speaks on `--server`.
    #[arg(long, value_enum)]
    kind: Kind,
    /// Server address (a loopback address: this generator is for this machine only).
    #[arg(long)]
    server: SocketAddr,
    /// Further instances sharing rooms with `--server` (shared mode, repeatable): pair
    /// members are dealt round robin over all of them, so each pair spans two instances.
    #[arg(long = "also-server")]
    also_server: Vec<SocketAddr>,
    /// Server process id, for RSS and CPU readings.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Further processes whose CPU time counts as the server's (repeatable): the other
    /// instances and Redis in shared mode.
    #[arg(long = "cpu-pid")]
    cpu_pids: Vec<u32>,
    /// Name of the server in the results.
    #[arg(long)]
    label: Option<String>,
    /// Tokio worker threads of the generator.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Connection set-ups in progress at once.
    #[arg(long, default_value_t = 200)]
    concurrency: usize,
}

#[derive(Args)]
struct Relay {
    /// Room pairs (two connections each, one room each).
    #[arg(long, default_value_t = 1000)]
    pairs: usize,
    /// Size of each relayed payload's JSON, in bytes.
    #[arg(long, default_value_t = 200)]
    payload: usize,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Seconds measured.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let common = match &cli.command {
        Command::Idle { common, .. }
        | Command::Throughput { common, .. }
        | Command::Latency { common, .. } => common,
        Command::Table { results } => {
            return match table::render(results) {
                Ok(markdown) => {
                    println!("{markdown}");
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("parley-loadgen: {err}");
                    ExitCode::FAILURE
                }
            };
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(common.threads.max(1))
        .enable_all()
        .build();
    let outcome = match runtime {
        Ok(runtime) => runtime.block_on(run(&cli.command, common)),
        Err(err) => Err(err.into()),
    };
    match outcome.and_then(|outcome| Ok((serde_json::to_string(&outcome)?, outcome))) {
        Ok((line, outcome)) => {
            println!("{line}");
            eprintln!("{}", table::summary(&outcome));
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("parley-loadgen: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: &Command, common: &Common) -> Result<Outcome, LoadError> {
    if !common.server.ip().is_loopback() {
        return Err(LoadError::Unexpected(format!(
            "{} is not a loopback address; this generator only loads servers on this machine",
            common.server
        )));
    }
    let label = common
        .label
        .clone()
        .unwrap_or_else(|| format!("{:?}", common.kind).to_lowercase());
    let secs = Duration::from_secs_f64;
    match command {
        Command::Idle {
            conns,
            per_ip,
            hold,
            ..
        } => {
            let server_pid = common.server_pid.ok_or_else(|| {
                LoadError::Unexpected("idle needs --server-pid to read RSS".into())
            })?;
            idle::run(idle::IdlePlan {
                kind: common.kind,
                label,
                server: common.server,
                server_pid,
                conns: *conns,
                per_ip: *per_ip,
                concurrency: common.concurrency,
                hold: secs(*hold),
                ramp_limit: Duration::from_secs(180),
            })
            .await
        }
        Command::Throughput { relay, window, .. } => {
            let pairs = pairs::build(&pair_plan(common, relay)).await?;
            throughput::run(
                throughput::ThroughputPlan {
                    kind: common.kind,
                    label,
                    server_pids: server_pids(common),
                    payload_bytes: relay.payload,
                    window: *window,
                    warmup: secs(relay.warmup),
                    measure: secs(relay.seconds),
                },
                pairs,
            )
            .await
        }
        Command::Latency {
            relay, rate, drain, ..
        } => {
            let pairs = pairs::build(&pair_plan(common, relay)).await?;
            latency::run(
                latency::LatencyPlan {
                    kind: common.kind,
                    label,
                    server_pids: server_pids(common),
                    payload_bytes: relay.payload,
                    rate: *rate,
                    warmup: secs(relay.warmup),
                    measure: secs(relay.seconds),
                    drain: secs(*drain),
                },
                pairs,
            )
            .await
        }
        Command::Table { .. } => Err(LoadError::Unexpected("table runs no load".into())),
    }
}

/// Every process whose CPU time counts as the server's.
fn server_pids(common: &Common) -> Vec<u32> {
    common
        .server_pid
        .into_iter()
        .chain(common.cpu_pids.iter().copied())
        .collect()
}

fn pair_plan(common: &Common, relay: &Relay) -> pairs::PairPlan {
    pairs::PairPlan {
        kind: common.kind,
        server: common.server,
        also: common.also_server.clone(),
        pairs: relay.pairs,
        concurrency: common.concurrency,
        payload: target::candidate_payload(relay.payload),
    }
}
