//! `parley://join/CODE` links: the OS hands them to the app (first argument on Linux and
//! Windows, forwarded by the single-instance plugin to a running app), and the UI opens the join
//! form with the code filled in, like the browser's `?join=CODE`.
//!
//! A link is untrusted input from any web page or chat message: it is parsed strictly, anything
//! else is dropped with a warning, and it only ever fills in a form; joining stays a click.

use std::sync::Mutex;

use parley_protocol::RoomCode;
use serde::Serialize;
use tauri::{Emitter, Manager, Runtime};

/// The URL scheme the app registers.
pub const SCHEME: &str = "parley";
/// Event telling the UI a join link arrived; it then calls `take_join_link`.
pub const JOIN_LINK_EVENT: &str = "join-link";
/// Longer "links" are not ours; a cap keeps log lines and parsing small.
const MAX_LINK_CHARS: usize = 256;

/// Why a link was not opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Longer than any link the app makes.
    #[error("longer than {MAX_LINK_CHARS} characters")]
    TooLong,
    /// Not a URL, or another scheme.
    #[error("not a parley:// URL")]
    NotParley,
    /// A `parley://` URL for something other than joining a room.
    #[error("`parley://{0}` is not a link the app knows (expected parley://join/CODE)")]
    UnknownAction(String),
    /// The room code is malformed.
    #[error("`{0}` is not a room code like 7K3Q-H2MX")]
    BadCode(String),
}

/// Reads `parley://join/CODE` (also `parley:join/CODE`, a trailing `/`, any case); returns the
/// room code. Query and fragment are ignored.
pub fn parse_join_link(text: &str) -> Result<RoomCode, LinkError> {
    let text = text.trim();
    if text.chars().count() > MAX_LINK_CHARS {
        return Err(LinkError::TooLong);
    }
    let url = url::Url::parse(text).map_err(|_| LinkError::NotParley)?;
    if url.scheme() != SCHEME {
        return Err(LinkError::NotParley);
    }
    // `parley://join/CODE` has host `join`; `parley:join/CODE` has it as the path's first part.
    let path = url.path().trim_start_matches('/');
    let (action, rest) = match url.host_str() {
        Some(host) => (host, path),
        None => path.split_once('/').unwrap_or((path, "")),
    };
    if !action.eq_ignore_ascii_case("join") {
        return Err(LinkError::UnknownAction(action.to_owned()));
    }
    let code = rest.strip_suffix('/').unwrap_or(rest);
    // Room codes never contain `/` or escapes; `RoomCode::parse` rejects both.
    RoomCode::parse(code).ok_or_else(|| LinkError::BadCode(code.to_owned()))
}

/// The join code that arrived last and the UI has not taken yet.
#[derive(Debug, Default)]
pub struct PendingJoinLink(Mutex<Option<RoomCode>>);

impl PendingJoinLink {
    fn put(&self, code: RoomCode) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(code);
        }
    }

    fn take(&self) -> Option<RoomCode> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// What the `join-link` event carries.
#[derive(Debug, Clone, Serialize)]
struct JoinLinkEvent {
    code: String,
}

/// The join code from the latest `parley://join/CODE` link as `XXXX-XXXX`, once: `null` after
/// it was taken or when there was none. The UI calls it at start (the app may have been
/// launched by the link) and on each `join-link` event.
#[tauri::command]
pub fn take_join_link(pending: tauri::State<'_, PendingJoinLink>) -> Option<String> {
    pending.take().map(|code| code.to_string())
}

/// Handles the URLs the OS opened the app with: keeps the last good join code for the UI, tells
/// it, and brings the window forward. Bad links are logged and dropped.
pub fn open_urls<R: Runtime>(app: &tauri::AppHandle<R>, urls: &[String]) {
    let mut opened = None;
    for url in urls {
        match parse_join_link(url) {
            Ok(code) => opened = Some(code),
            Err(error) => {
                let shown: String = url.chars().take(MAX_LINK_CHARS).collect();
                tracing::warn!(%error, url = %shown, "ignoring a link the app was opened with");
            }
        }
    }
    let Some(code) = opened else { return };
    tracing::info!(%code, "join link opened");
    if let Some(pending) = app.try_state::<PendingJoinLink>() {
        pending.put(code.clone());
    }
    let event = JoinLinkEvent {
        code: code.to_string(),
    };
    if let Err(error) = app.emit(JOIN_LINK_EVENT, event) {
        tracing::warn!(%error, "could not tell the UI about a join link");
    }
    crate::show_main_window(app);
}

/// Desktop: the deep-link plugin (reads a link given as the first argument) and the hook that
/// turns its URLs into join codes. Register after the single-instance plugin, whose `deep-link`
/// feature forwards a second launch's link to this app.
#[cfg(desktop)]
pub(crate) fn plugins<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_deep_link::init())
        .plugin(hook_plugin())
}

#[cfg(desktop)]
fn hook_plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    use tauri_plugin_deep_link::DeepLinkExt;
    tauri::plugin::Builder::new("parley-deep-link")
        .setup(|app, _api| {
            // A launch link arrives now, before the app's own setup hook; `PendingJoinLink` is
            // managed by `crate::build` on the builder, so it is already there.
            let deep_link = app.deep_link();
            let handle = app.clone();
            deep_link.on_open_url(move |event| {
                let urls: Vec<String> = event.urls().iter().map(|u| u.to_string()).collect();
                open_urls(&handle, &urls);
            });
            // Launched by a link: the plugin read it from the arguments before we listened.
            match deep_link.get_current() {
                Ok(Some(urls)) => {
                    let urls: Vec<String> = urls.iter().map(|u| u.to_string()).collect();
                    open_urls(app, &urls);
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "could not read the launch link"),
            }
            register_scheme_for_dev(app);
            Ok(())
        })
        .build()
}

/// A packaged app is registered by its .desktop file (`MimeType=x-scheme-handler/parley`, from
/// `plugins.deep-link` in tauri.conf.json). A development build or an AppImage registers itself
/// at start, unless `PARLEY_REGISTER_SCHEME=0`. Runs the `xdg-mime` tools, so off the UI thread.
#[cfg(desktop)]
fn register_scheme_for_dev<R: Runtime>(app: &tauri::AppHandle<R>) {
    use tauri_plugin_deep_link::DeepLinkExt;
    let unpackaged = cfg!(debug_assertions) || app.env().appimage.is_some();
    let disabled = std::env::var("PARLEY_REGISTER_SCHEME").is_ok_and(|v| v == "0");
    if !unpackaged || disabled || cfg!(target_os = "macos") {
        return;
    }
    let app = app.clone();
    std::thread::spawn(move || match app.deep_link().register_all() {
        Ok(()) => tracing::info!("registered as the handler of {SCHEME}:// links"),
        Err(error) => tracing::warn!(%error, "could not register {SCHEME}:// links"),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_links_give_the_canonical_code() {
        for link in [
            "parley://join/ABCD-EFGH",
            "parley://join/abcd-efgh/",
            "PARLEY://JOIN/ABCDEFGH",
            "parley:join/ABCD-EFGH",
            "  parley://join/ABCD-EFGH?from=qr#x  ",
        ] {
            let code = parse_join_link(link).unwrap_or_else(|e| panic!("{link}: {e}"));
            assert_eq!(code.to_string(), "ABCD-EFGH", "{link}");
        }
        // Look-alikes read the way the server reads them.
        assert_eq!(
            parse_join_link("parley://join/7k3q-h2mo").map(|c| c.to_string()),
            Ok("7K3Q-H2M0".to_owned())
        );
    }

    #[test]
    fn junk_is_rejected_with_a_reason() {
        let cases: [(&str, LinkError); 9] = [
            ("https://join/ABCD-EFGH", LinkError::NotParley),
            ("ABCD-EFGH", LinkError::NotParley),
            ("", LinkError::NotParley),
            (
                "parley://call/ABCD-EFGH",
                LinkError::UnknownAction("call".into()),
            ),
            (
                "parley://join/ABCD-EFG",
                LinkError::BadCode("ABCD-EFG".into()),
            ),
            (
                "parley://join/ABCD-EFGH/extra",
                LinkError::BadCode("ABCD-EFGH/extra".into()),
            ),
            (
                "parley://join/ABCD%2DEFGH",
                LinkError::BadCode("ABCD%2DEFGH".into()),
            ),
            ("parley://join/", LinkError::BadCode(String::new())),
            (
                "parley://join/ÄBCD-EFGH",
                LinkError::BadCode("%C3%84BCD-EFGH".into()),
            ),
        ];
        for (link, expected) in cases {
            assert_eq!(parse_join_link(link), Err(expected), "{link}");
        }
        let long = format!("parley://join/{}", "A".repeat(300));
        assert_eq!(parse_join_link(&long), Err(LinkError::TooLong));
    }

    #[test]
    fn a_pending_code_is_taken_once() {
        let pending = PendingJoinLink::default();
        assert_eq!(pending.take(), None);
        pending.put(parse_join_link("parley://join/ABCD-EFGH").unwrap());
        pending.put(parse_join_link("parley://join/7K3Q-H2MX").unwrap());
        assert_eq!(
            pending.take().map(|c| c.to_string()),
            Some("7K3Q-H2MX".into())
        );
        assert_eq!(pending.take(), None);
    }
}
