//! The HTTP/1.1 upgrade to WebSocket (RFC 6455, section 4.2), as an axum extractor that
//! hands over the raw upgraded stream instead of a buffered WebSocket.

use std::future::Future;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
pub(crate) use hyper::upgrade::OnUpgrade;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;

/// The upgraded connection: the client's bytes, after the HTTP request.
pub(crate) type Socket = TokioIo<Upgraded>;

/// A valid WebSocket upgrade request; [`Upgrade::on_upgrade`] answers it.
pub(crate) struct Upgrade {
    accept: HeaderValue,
    on_upgrade: OnUpgrade,
}

/// True if the comma-separated header `name` holds `token` (any case).
fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let bad = |status: StatusCode, why: &'static str| (status, why).into_response();
        if parts.method != Method::GET {
            return Err(bad(
                StatusCode::METHOD_NOT_ALLOWED,
                "WebSocket upgrades use GET",
            ));
        }
        let headers = &parts.headers;
        if !has_token(headers, header::CONNECTION, "upgrade")
            || !has_token(headers, header::UPGRADE, "websocket")
        {
            return Err(bad(StatusCode::BAD_REQUEST, "not a WebSocket upgrade"));
        }
        if headers.get(header::SEC_WEBSOCKET_VERSION) != Some(&HeaderValue::from_static("13")) {
            let mut refused = bad(StatusCode::BAD_REQUEST, "WebSocket version 13 only");
            refused.headers_mut().insert(
                header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
            return Err(refused);
        }
        let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
            return Err(bad(StatusCode::BAD_REQUEST, "Sec-WebSocket-Key is missing"));
        };
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        let Ok(accept) = HeaderValue::from_str(&accept) else {
            return Err(bad(StatusCode::BAD_REQUEST, "bad Sec-WebSocket-Key"));
        };
        let Some(on_upgrade) = parts.extensions.remove::<OnUpgrade>() else {
            return Err(bad(
                StatusCode::UPGRADE_REQUIRED,
                "connection cannot be upgraded",
            ));
        };
        Ok(Self { accept, on_upgrade })
    }
}

impl Upgrade {
    /// Answers `101 Switching Protocols` and spawns `serve` with the pending upgrade, which
    /// resolves to the connection once the client has the answer.
    pub(crate) fn on_upgrade<F, Fut>(self, serve: F) -> Response
    where
        F: FnOnce(OnUpgrade) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        // `serve` is called here, not in the task: the task is then its future alone, with no
        // wrapper keeping the closure's captures beside it.
        tokio::spawn(serve(self.on_upgrade));
        (
            StatusCode::SWITCHING_PROTOCOLS,
            [
                (header::CONNECTION, HeaderValue::from_static("upgrade")),
                (header::UPGRADE, HeaderValue::from_static("websocket")),
                (header::SEC_WEBSOCKET_ACCEPT, self.accept),
            ],
        )
            .into_response()
    }
}
