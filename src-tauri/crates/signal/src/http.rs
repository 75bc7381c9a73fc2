//! HTTP routes: the WebSocket endpoint, health, metrics, device info, introductions and the
//! UI's files.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json};
use tower_http::services::{ServeDir, ServeFile};

use crate::conn;
use crate::introduce::{MAX_INTRODUCTION_BYTES, introduce};
use crate::metrics::Rejection;
use crate::shared::{Shared, lock};
use crate::ws;

/// Origins of the Parley app's own webviews, always allowed.
const APP_ORIGINS: [&str; 3] = [
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];

/// The routes of one server.
pub(crate) fn routes(shared: Arc<Shared>) -> Router {
    let router = Router::new()
        .route("/ws", get(websocket))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route("/device", get(device))
        .route(
            "/introduce",
            post(introduce).layer(DefaultBodyLimit::max(MAX_INTRODUCTION_BYTES)),
        );
    let router = match &shared.config.static_dir {
        Some(dir) => {
            let index = ServeFile::new(dir.join("index.html"));
            router.fallback_service(ServeDir::new(dir).fallback(index))
        }
        None => router,
    };
    router.with_state(shared)
}

/// True for no-Origin (native) clients, the app, the page this server served, and the
/// configured extra origins.
pub(crate) fn origin_allowed(headers: &HeaderMap, extra: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if APP_ORIGINS.contains(&origin) || extra.iter().any(|o| o == origin) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    host.is_some() && origin_host == host
}

async fn websocket(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    upgrade: ws::Upgrade,
) -> Response {
    if shared.shutting_down.load(Relaxed) {
        shared.metrics.rejected(Rejection::ShuttingDown);
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    if !origin_allowed(&headers, &shared.config.allowed_origins) {
        shared.metrics.rejected(Rejection::Origin);
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let ip = peer.map_or(
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        |Extension(ConnectInfo(a))| a.ip(),
    );
    let limits = &shared.config.limits;
    if !lock(&shared.ips).open(ip, limits.max_conns_per_ip) {
        shared.metrics.rejected(Rejection::PerIp);
        return (StatusCode::TOO_MANY_REQUESTS, "too many connections").into_response();
    }
    upgrade.on_upgrade(move |pending| conn::run(pending, shared, ip))
}

async fn metrics(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let text = shared.metrics_text();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

async fn device(State(shared): State<Arc<Shared>>) -> Response {
    let info = shared
        .device_info
        .read()
        .map(|i| i.clone())
        .unwrap_or_else(|e| e.into_inner().clone());
    match info {
        Some(info) => ([(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")], Json(info)).into_response(),
        None => (StatusCode::NOT_FOUND, "not a device server").into_response(),
    }
}
