//! What the webview can do for calls, and (on Linux) the WebKitGTK settings calls need.
//!
//! The page itself is the only reliable judge of whether `RTCPeerConnection` exists (Debian's
//! WebKitGTK has none), so a script injected before the UI loads reports it back here.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Browser media features found in the app's webview.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WebviewFeatures {
    /// `window.RTCPeerConnection` is a constructor.
    pub rtc_peer_connection: bool,
    /// `navigator.mediaDevices.getUserMedia` exists.
    pub get_user_media: bool,
}

/// Which engine carries a call's media in this app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum MediaEngine {
    /// The page has not reported its features yet.
    Unknown,
    /// The webview's own `RTCPeerConnection`.
    Webview,
    /// The webview has no WebRTC and the native engine is not in this build: calls cannot carry
    /// media, while discovery, rooms and chat still work.
    NativeUnavailable,
}

impl MediaEngine {
    /// Chooses the engine for what the webview reported.
    pub fn choose(features: Option<WebviewFeatures>) -> Self {
        match features {
            None => Self::Unknown,
            Some(f) if f.rtc_peer_connection => Self::Webview,
            Some(_) => Self::NativeUnavailable,
        }
    }
}

/// Runs in every page of the main window before the UI's own scripts, after Tauri's.
pub const FEATURE_PROBE_SCRIPT: &str = r#"
(() => {
  const features = {
    rtcPeerConnection: typeof window.RTCPeerConnection === "function",
    getUserMedia: !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia),
  };
  Object.defineProperty(window, "__PARLEY_WEBVIEW__", { value: Object.freeze(features) });
  const ipc = window.__TAURI_INTERNALS__;
  if (!ipc) return;
  ipc.invoke("report_webview_features", { features }).catch(() => {});
  // First contentful paint, for the start-up benchmark (scripts/bench-app.sh).
  if (typeof PerformanceObserver !== "function") return;
  const observer = new PerformanceObserver((list) => {
    const paint = list.getEntries().find((entry) => entry.name === "first-contentful-paint");
    if (!paint) return;
    observer.disconnect();
    ipc.invoke("report_first_paint", { sinceNavigationMs: paint.startTime }).catch(() => {});
  });
  try { observer.observe({ type: "paint", buffered: true }); } catch (_) { /* no Paint Timing */ }
})();
"#;

/// True when `page_url` is one of `allowed` origins, compared by scheme, host and port (custom
/// schemes such as `tauri://localhost` have opaque origins, so `Url::origin` cannot do this).
pub fn is_allowed_origin(page_url: &str, allowed: &[url::Url]) -> bool {
    let Ok(page) = url::Url::parse(page_url) else {
        return false;
    };
    let key = |u: &url::Url| {
        (
            u.scheme().to_owned(),
            u.host_str().map(str::to_owned),
            u.port_or_known_default(),
        )
    };
    allowed.iter().any(|origin| key(origin) == key(&page))
}

/// Origins the app's own UI is served from: the bundled assets and, in debug builds, the dev
/// server.
pub fn app_origins(dev_url: Option<&url::Url>) -> Vec<url::Url> {
    let mut origins: Vec<url::Url> = ["tauri://localhost", "http://tauri.localhost"]
        .iter()
        .filter_map(|u| url::Url::parse(u).ok())
        .collect();
    if cfg!(debug_assertions) {
        origins.extend(dev_url.cloned());
    }
    origins
}

/// WebKitGTK: turn on media capture and WebRTC, and answer permission requests.
#[cfg(target_os = "linux")]
pub mod linux {
    use webkit2gtk::{
        CacheModel, DeviceInfoPermissionRequest, HardwareAccelerationPolicy, PermissionRequestExt,
        SettingsExt, UserMediaPermissionRequest, WebContextExt, WebViewExt,
        glib::prelude::ObjectExt,
    };

    use std::path::Path;

    use super::is_allowed_origin;

    /// Environment variable that makes WebKit's web process paint with Skia on the CPU.
    pub const CPU_PAINTING_ENV: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";

    /// Whether WebKit should paint on the CPU without accelerated compositing: yes when this
    /// machine has no GPU render node, since GL is then Mesa's software rasterizer, which
    /// costs the web process 40-130 MiB more than painting on the CPU (docs/benchmarks.md).
    /// `PARLEY_WEBKIT_COMPOSITING=1` keeps WebKit's GPU path, `=0` forces the CPU one.
    pub fn paint_on_cpu() -> bool {
        match std::env::var("PARLEY_WEBKIT_COMPOSITING").as_deref() {
            Ok("1") => false,
            Ok("0") => true,
            _ => !has_gpu_render_node(Path::new("/dev/dri")),
        }
    }

    /// True when `dri` (normally `/dev/dri`) holds a DRM render node (`renderD128`, ...).
    pub fn has_gpu_render_node(dri: &Path) -> bool {
        std::fs::read_dir(dri).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
        })
    }

    /// Enables what calls need and installs the permission policy on `webview`.
    ///
    /// With `mock_media` the webview offers WebKit's mock camera and microphone (for tests on
    /// machines without devices).
    pub fn configure(webview: &webkit2gtk::WebView, allowed: Vec<url::Url>, mock_media: bool) {
        if let Some(settings) = WebViewExt::settings(webview) {
            settings.set_enable_media_stream(true);
            settings.set_enable_mediasource(true);
            // Has no effect on builds without WebRTC (Debian 12); the UI learns that by probing.
            settings.set_enable_webrtc(true);
            settings.set_media_playback_requires_user_gesture(false);
            if mock_media {
                settings.set_enable_mock_capture_devices(true);
            }
            // Paired with CPU painting (see `paint_on_cpu`): compositing on GL alone kept the
            // window from repainting under Xvfb.
            if paint_on_cpu() {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        }
        // One local page, no browsing: WebKit's page and resource caches only hold memory.
        if let Some(context) = webview.context() {
            context.set_cache_model(CacheModel::DocumentViewer);
        }
        webview.connect_permission_request(move |view, request| {
            let own_page = view
                .uri()
                .is_some_and(|uri| is_allowed_origin(uri.as_str(), &allowed));
            // Camera/microphone/screen, and device labels for the pickers; nothing else, and
            // only for the app's own pages.
            let media = request.is::<UserMediaPermissionRequest>()
                || request.is::<DeviceInfoPermissionRequest>();
            if own_page && media {
                request.allow();
            } else {
                tracing::info!(uri = ?view.uri(), "denied a webview permission request");
                request.deny();
            }
            true
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins() -> Vec<url::Url> {
        app_origins(url::Url::parse("http://localhost:5173").ok().as_ref())
    }

    #[test]
    fn own_pages_are_allowed() {
        assert!(is_allowed_origin("tauri://localhost/", &origins()));
        assert!(is_allowed_origin(
            "tauri://localhost/index.html#call",
            &origins()
        ));
        assert!(is_allowed_origin("http://tauri.localhost/", &origins()));
    }

    #[test]
    fn other_pages_are_refused() {
        for url in [
            "https://evil.example/",
            "tauri://evil/",
            "http://localhost:8080/",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(!is_allowed_origin(url, &origins()), "{url}");
        }
    }

    #[test]
    fn dev_server_is_trusted_only_in_debug_builds() {
        let allowed = is_allowed_origin("http://localhost:5173/", &origins());
        assert_eq!(allowed, cfg!(debug_assertions));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_render_node_means_a_gpu() {
        use super::linux::has_gpu_render_node;
        let dir = tempfile::tempdir().unwrap();
        assert!(!has_gpu_render_node(&dir.path().join("missing")));
        assert!(!has_gpu_render_node(dir.path()));
        std::fs::write(dir.path().join("card0"), b"").unwrap();
        assert!(
            !has_gpu_render_node(dir.path()),
            "a card without a render node"
        );
        std::fs::write(dir.path().join("renderD128"), b"").unwrap();
        assert!(has_gpu_render_node(dir.path()));
    }

    #[test]
    fn engine_follows_the_webview() {
        let with = WebviewFeatures {
            rtc_peer_connection: true,
            get_user_media: true,
        };
        let without = WebviewFeatures {
            rtc_peer_connection: false,
            get_user_media: true,
        };
        assert_eq!(MediaEngine::choose(None), MediaEngine::Unknown);
        assert_eq!(MediaEngine::choose(Some(with)), MediaEngine::Webview);
        assert_eq!(
            MediaEngine::choose(Some(without)),
            MediaEngine::NativeUnavailable
        );
    }
}
