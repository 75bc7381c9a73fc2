//! Desktop-only behaviour: one running instance, remembered window size and position.

use tauri::{Builder, Runtime};

/// Adds the desktop plugins; single-instance must come first so a second launch exits before
/// anything else starts.
pub(crate) fn add_plugins<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    let builder = if single_instance_possible() {
        builder.plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            crate::show_main_window(app);
        }))
    } else {
        tracing::info!("running without the single-instance check");
        builder
    };
    let builder = crate::deep_link::plugins(builder);
    builder.plugin(tauri_plugin_window_state::Builder::default().build())
}

/// Whether to enforce one instance. `PARLEY_SINGLE_INSTANCE=0` turns it off (tests run several
/// apps side by side). On Linux the plugin needs a D-Bus session bus and panics without one, so
/// it is only used when a bus is there.
fn single_instance_possible() -> bool {
    if std::env::var("PARLEY_SINGLE_INSTANCE").is_ok_and(|v| v == "0") {
        return false;
    }
    if cfg!(target_os = "linux") {
        return session_bus_present();
    }
    true
}

fn session_bus_present() -> bool {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
        return true;
    }
    std::env::var_os("XDG_RUNTIME_DIR")
        .is_some_and(|dir| std::path::Path::new(&dir).join("bus").exists())
}
