//! Tiny HTTP/1.0 client for the endpoints discovery needs: `GET /healthz`, `GET /device` and
//! `POST /introduce`. HTTP/1.0 with `Connection: close` keeps the answer unchunked and
//! close-delimited, so a few lines replace a full HTTP client stack.

use std::net::SocketAddr;
use std::time::Duration;

use parley_protocol::DeviceInfo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest answer read; device info is a few hundred bytes.
const MAX_RESPONSE_BYTES: u64 = 16 * 1024;

/// Why a probe failed.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// Connecting, writing or reading failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// No complete answer within the timeout.
    #[error("timed out")]
    Timeout,
    /// The answer was not HTTP or not 200.
    #[error("{0}")]
    BadResponse(String),
}

/// `GET path` on `addr`; the body of a 200 answer.
pub(crate) async fn get(
    addr: SocketAddr,
    path: &str,
    timeout: Duration,
) -> Result<Vec<u8>, ProbeError> {
    let (status, body) = request(addr, "GET", path, None, timeout).await?;
    if status != 200 {
        return Err(ProbeError::BadResponse(format!("answered {status}")));
    }
    Ok(body)
}

/// `POST path` on `addr` with a JSON body; the status code and body of the answer.
pub(crate) async fn post_json(
    addr: SocketAddr,
    path: &str,
    body: &[u8],
    timeout: Duration,
) -> Result<(u16, Vec<u8>), ProbeError> {
    request(addr, "POST", path, Some(body), timeout).await
}

async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
    timeout: Duration,
) -> Result<(u16, Vec<u8>), ProbeError> {
    tokio::time::timeout(timeout, request_inner(addr, method, path, body))
        .await
        .map_err(|_| ProbeError::Timeout)?
}

async fn request_inner(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
) -> Result<(u16, Vec<u8>), ProbeError> {
    let mut stream = TcpStream::connect(addr).await?;
    let host = match addr {
        SocketAddr::V4(v4) => v4.to_string(),
        SocketAddr::V6(v6) => format!("[{}]:{}", v6.ip(), v6.port()),
    };
    let mut request = format!("{method} {path} HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n");
    if let Some(body) = body {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default());
    stream.write_all(&bytes).await?;
    let mut raw = Vec::new();
    stream
        .take(MAX_RESPONSE_BYTES)
        .read_to_end(&mut raw)
        .await?;
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| ProbeError::BadResponse("no HTTP header".into()))?;
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let status_line = head.lines().next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .filter(|_| status_line.starts_with("HTTP/"))
        .ok_or_else(|| ProbeError::BadResponse(format!("answered {status_line:?}")))?;
    Ok((status, raw.split_off(head_end + 4)))
}

/// True when a Parley signaling server answers `GET /healthz` with 200 at `addr`.
pub async fn healthz(addr: SocketAddr, timeout: Duration) -> bool {
    get(addr, "/healthz", timeout).await.is_ok()
}

/// `GET /device` at `addr`, decoded.
pub async fn fetch_device_info(
    addr: SocketAddr,
    timeout: Duration,
) -> Result<DeviceInfo, ProbeError> {
    let body = get(addr, "/device", timeout).await?;
    serde_json::from_slice(&body).map_err(|e| ProbeError::BadResponse(format!("device info: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tokio::net::TcpListener;

    /// Serves one connection with a canned answer, the way a real HTTP/1.0 server closes.
    async fn answer_once(response: &'static str) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
            socket.write_all(response.as_bytes()).await.unwrap();
        });
        addr
    }

    #[tokio::test]
    async fn a_200_answer_is_healthy_and_its_body_decodes() {
        let body = r#"{"id":"abc","name":"Ünïcode","version":1,"app":"0.1.0","os":"linux"}"#;
        let response: &'static str = Box::leak(
            format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{body}")
                .into_boxed_str(),
        );
        let info = fetch_device_info(answer_once(response).await, Duration::from_secs(2))
            .await
            .unwrap();
        assert_eq!(info.name, "Ünïcode");
        assert!(
            healthz(
                answer_once("HTTP/1.1 200 OK\r\n\r\nok").await,
                Duration::from_secs(2)
            )
            .await
        );
    }

    #[tokio::test]
    async fn errors_and_garbage_are_not_healthy() {
        let not_found = answer_once("HTTP/1.1 404 Not Found\r\n\r\n").await;
        assert!(!healthz(not_found, Duration::from_secs(2)).await);
        let garbage = answer_once("SSH-2.0-OpenSSH\r\n").await;
        assert!(!healthz(garbage, Duration::from_secs(2)).await);
    }

    #[tokio::test]
    async fn a_closed_port_is_not_healthy() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        assert!(!healthz(addr, Duration::from_secs(2)).await);
    }

    #[tokio::test]
    async fn a_silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let err = get(addr, "/healthz", Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(matches!(err, ProbeError::Timeout), "{err}");
        drop(listener);
    }

    #[tokio::test]
    async fn a_post_returns_any_status_and_its_body() {
        let addr = answer_once("HTTP/1.1 422 Unprocessable Entity\r\n\r\nno such device").await;
        let (status, body) = post_json(addr, "/introduce", b"{}", Duration::from_secs(2))
            .await
            .unwrap();
        assert_eq!((status, body.as_slice()), (422, &b"no such device"[..]));
        let garbage = answer_once("SSH-2.0-OpenSSH\r\n\r\n").await;
        let err = post_json(garbage, "/introduce", b"{}", Duration::from_secs(2))
            .await
            .unwrap_err();
        assert!(matches!(err, ProbeError::BadResponse(_)), "{err}");
    }
}
