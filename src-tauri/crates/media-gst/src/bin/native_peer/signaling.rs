//! The signaling connection: hello, join, relayed signals.

use futures_util::{SinkExt, StreamExt};
use parley_protocol::{ClientMessage, PROTOCOL_VERSION, ServerMessage};
use tokio::net::TcpStream;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A signaling server connection.
pub(crate) struct Signaling {
    ws: Ws,
}

impl Signaling {
    pub(crate) async fn connect(url: &str) -> Result<Self, String> {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| format!("connect {url}: {e}"))?;
        let mut s = Self { ws };
        s.send(&ClientMessage::Hello {
            version: PROTOCOL_VERSION,
            token: None,
            resume: None,
        })
        .await?;
        Ok(s)
    }

    pub(crate) async fn send(&mut self, msg: &ClientMessage) -> Result<(), String> {
        let text = serde_json::to_string(msg).map_err(|e| e.to_string())?;
        self.ws
            .send(Message::text(text))
            .await
            .map_err(|e| format!("signaling send: {e}"))
    }

    /// The next server message; `None` when the server closed the connection.
    pub(crate) async fn recv(&mut self) -> Result<Option<ServerMessage>, String> {
        while let Some(frame) = self.ws.next().await {
            match frame.map_err(|e| format!("signaling: {e}"))? {
                Message::Text(text) => match parley_protocol::decode_server(text.as_str()) {
                    Ok(ServerMessage::Ping {}) => self.send(&ClientMessage::Pong {}).await?,
                    Ok(msg) => return Ok(Some(msg)),
                    Err(e) => tracing::warn!("bad server frame: {e}"),
                },
                Message::Close(_) => return Ok(None),
                _ => {}
            }
        }
        Ok(None)
    }
}
