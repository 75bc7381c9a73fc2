//! Errors, split by what the caller does next.

use std::io;

/// Starting or driving discovery failed; the device cannot advertise or browse.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// The mDNS daemon refused a command (bad service name, daemon gone, queue full).
    #[error("mDNS: {0}")]
    Mdns(#[from] mdns_sd::Error),
    /// The device id file could not be read or written.
    #[error("device id file: {0}")]
    DeviceId(#[source] io::Error),
    /// `set_info` was given another device id; the id is fixed for a device's lifetime.
    #[error("the device id cannot change while discovery runs")]
    IdChanged,
    /// The discovery task has stopped (after shutdown).
    #[error("discovery has stopped")]
    Stopped,
}

/// Adding a device by address failed; the message is fit to show to the user.
#[derive(Debug, thiserror::Error)]
pub enum AddPeerError {
    /// `host:port` could not be parsed or resolved.
    #[error("cannot resolve {target}: {reason}")]
    BadAddress {
        /// What the user typed.
        target: String,
        /// Why it failed.
        reason: String,
    },
    /// Nothing answered `/healthz` there.
    #[error("no Parley device answers at {0}")]
    Unreachable(String),
    /// Something answered but `GET /device` did not return device info.
    #[error("{target} is not a Parley device: {reason}")]
    NotADevice {
        /// What the user typed.
        target: String,
        /// What was wrong with the answer.
        reason: String,
    },
    /// The address is this device itself.
    #[error("{0} is this device")]
    IsSelf(String),
    /// The discovery task has stopped.
    #[error("discovery has stopped")]
    Stopped,
}

/// An introduction (`POST /introduce`) was refused; the message goes back to its sender.
#[derive(Debug, thiserror::Error)]
pub enum IntroductionError {
    /// It claims to be this device.
    #[error("that is this device's own id")]
    IsSelf,
    /// Port 0 cannot be a server's port.
    #[error("port 0 is not a server port")]
    BadPort,
    /// No Parley device answered `GET /device` at the source address and claimed port.
    #[error("no Parley device answers at {addr}: {reason}")]
    NotADevice {
        /// Source address and claimed port.
        addr: std::net::SocketAddr,
        /// What went wrong there.
        reason: String,
    },
    /// The device there has another id than the one claimed.
    #[error("the device at {addr} is not {claimed}")]
    WrongId {
        /// Source address and claimed port.
        addr: std::net::SocketAddr,
        /// The id the introduction claimed.
        claimed: String,
    },
    /// The discovery task has stopped.
    #[error("discovery has stopped")]
    Stopped,
}
