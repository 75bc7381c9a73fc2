//! Opening WebSocket connections from many loopback source addresses.
//!
//! Servers limit connections and joins per IP, so the load generator spreads its sockets over
//! 127.x.y.z source addresses (all of 127.0.0.0/8 reaches `lo` on Linux without set-up).

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::LoadError;

/// A client WebSocket over plain TCP.
pub(crate) type Ws = WebSocketStream<TcpStream>;

/// How long one connect plus WebSocket handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// Source address for the `index`-th connection when `per_ip` connections share one address.
///
/// Addresses start at 127.1.0.1 and skip host octets 0 and 255, so they never collide with
/// 127.0.0.1 (where the servers listen) or look like broadcast addresses.
pub(crate) fn source_addr(index: usize, per_ip: usize) -> Ipv4Addr {
    let slot = u32::try_from(index / per_ip.max(1)).unwrap_or(u32::MAX);
    let host = 1 + slot % 254;
    let rest = slot / 254;
    let mid = rest % 256;
    let high = 1 + (rest / 256) % 254;
    Ipv4Addr::new(127, high as u8, mid as u8, host as u8)
}

/// Client-side buffers kept small: the generator holds up to tens of thousands of sockets and
/// must not compete with the server for memory; writes are flushed explicitly in batches.
fn client_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(16 * 1024)
}

/// Connects from `source` to `server` and performs the WebSocket handshake on `path`.
pub(crate) async fn connect(
    server: SocketAddr,
    source: Ipv4Addr,
    path: &str,
) -> Result<Ws, LoadError> {
    let attempt = async {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::V4(SocketAddrV4::new(source, 0)))?;
        let stream = socket.connect(server).await?;
        stream.set_nodelay(true)?;
        let url = format!("ws://{server}{path}");
        let (ws, _response) =
            tokio_tungstenite::client_async_with_config(url, stream, Some(client_config())).await?;
        Ok::<Ws, LoadError>(ws)
    };
    tokio::time::timeout(CONNECT_TIMEOUT, attempt)
        .await
        .map_err(|_| LoadError::Timeout("connect and WebSocket handshake"))?
}

/// Sends one text frame and flushes it.
pub(crate) async fn send_text(ws: &mut Ws, text: String) -> Result<(), LoadError> {
    ws.send(Message::text(text)).await?;
    Ok(())
}

/// Waits for the next text frame, skipping WebSocket control frames.
pub(crate) async fn next_text(ws: &mut Ws, within: Duration) -> Result<String, LoadError> {
    let wait = async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => return Ok(text.as_str().to_owned()),
                Some(Ok(Message::Close(frame))) => {
                    return Err(LoadError::Closed(format!("{frame:?}")));
                }
                Some(Ok(_)) => continue,
                Some(Err(err)) => return Err(err.into()),
                None => return Err(LoadError::Closed("end of stream".into())),
            }
        }
    };
    tokio::time::timeout(within, wait)
        .await
        .map_err(|_| LoadError::Timeout("an answer from the server"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_addresses_are_spread_and_skip_reserved_octets() {
        assert_eq!(source_addr(0, 10), Ipv4Addr::new(127, 1, 0, 1));
        assert_eq!(source_addr(9, 10), Ipv4Addr::new(127, 1, 0, 1));
        assert_eq!(source_addr(10, 10), Ipv4Addr::new(127, 1, 0, 2));
        assert_eq!(source_addr(253, 1), Ipv4Addr::new(127, 1, 0, 254));
        assert_eq!(source_addr(254, 1), Ipv4Addr::new(127, 1, 1, 1));
        let distinct: std::collections::HashSet<_> =
            (0..20_000).map(|i| source_addr(i, 1)).collect();
        assert_eq!(distinct.len(), 20_000);
    }
}
