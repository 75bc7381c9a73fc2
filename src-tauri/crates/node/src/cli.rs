//! Command-line flags.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Parser;

/// Headless Parley device: runs the embedded signaling server and LAN discovery, and prints
/// peer events as JSON lines on stdout. Reads JSON-line commands on stdin (see README/--help).
#[derive(Debug, Parser)]
#[command(version, about, long_about = None, after_help = COMMANDS_HELP)]
pub(crate) struct Args {
    /// Display name advertised to other devices (any UTF-8). Default: the host name.
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// TCP port of the signaling server; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    pub(crate) port: u16,
    /// Address to bind the signaling server to. Default `::` (IPv6 and IPv4), falling back to
    /// `0.0.0.0` where IPv6 is unavailable.
    #[arg(long)]
    pub(crate) bind: Option<IpAddr>,
    /// Where the stable device id is kept. Default: $XDG_DATA_HOME/parley-node.
    #[arg(long)]
    pub(crate) data_dir: Option<PathBuf>,
    /// Add a device by address (`host:port`) for networks where multicast is blocked.
    #[arg(long = "add", value_name = "HOST:PORT")]
    pub(crate) add: Vec<String>,
    /// Token that makes a WebSocket connection this device's owner. Default: random, printed
    /// in the `listening` line.
    #[arg(long)]
    pub(crate) owner_token: Option<String>,
    /// Serve the built UI (e.g. `ui/dist`) so a phone's browser on the LAN can open this
    /// device's page and call it with no install.
    #[arg(long, value_name = "DIR")]
    pub(crate) static_dir: Option<PathBuf>,
    /// UDP port for mDNS (tests only; every device on the LAN must use the same).
    #[arg(long, default_value_t = 5353, hide = true)]
    pub(crate) mdns_port: u16,
}

const COMMANDS_HELP: &str = "\
Stdout: one JSON object per line, e.g.
  {\"event\":\"listening\",\"addr\":\"[::]:41234\",\"port\":41234,\"id\":\"…\",\"name\":\"…\",\"ownerToken\":\"…\"}
  {\"event\":\"added\",\"peer\":{\"id\":\"…\",\"name\":\"…\",\"addresses\":[…],\"port\":…,…}}
  {\"event\":\"updated\",\"peer\":{…}}   {\"event\":\"removed\",\"peer\":{…},\"reason\":\"goodbye\"|\"unreachable\"}
  {\"event\":\"manual\",\"target\":\"host:port\",\"ok\":true,\"peer\":{…}}   (or \"ok\":false,\"error\":\"…\")
  {\"event\":\"stopped\"}
Stdin commands (one JSON object per line):
  {\"cmd\":\"rename\",\"name\":\"New name\"}   change the advertised name (peers get `updated`)
  {\"cmd\":\"add\",\"addr\":\"host:port\"}     add a device by address (answers with a `manual` line)
  {\"cmd\":\"peers\"}                        print {\"event\":\"peers\",\"peers\":[…]}
  {\"cmd\":\"quit\"}                         stop gracefully, like SIGTERM";
