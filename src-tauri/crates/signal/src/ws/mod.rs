//! A WebSocket server side of Parley's own (RFC 6455) after an HTTP/1.1 upgrade, built so
//! an idle connection holds almost nothing: no read or write buffer between messages.
//!
//! The handshake's accept key comes from tungstenite (SHA-1 and base64 from crates); this
//! module only parses and writes frames. No extensions (permessage-deflate is never
//! offered), no subprotocols.

pub(crate) mod read;
pub(crate) mod upgrade;
pub(crate) mod write;

pub(crate) use read::{Flow, FrameReader, Incoming};
pub(crate) use upgrade::{OnUpgrade, Socket, Upgrade};

#[cfg(test)]
pub(crate) use read::Violation;

#[cfg(test)]
mod tests;
