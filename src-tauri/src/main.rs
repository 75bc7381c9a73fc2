//! Parley app entry point.
// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    #[cfg(target_os = "linux")]
    choose_webkit_painting();
    parley_app::run();
}

/// WebKit's web process reads how to paint from the environment it inherits, and only there, so
/// it is set first thing, before any thread exists (see `webview::linux::paint_on_cpu`).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn choose_webkit_painting() {
    use parley_app::webview::linux::{CPU_PAINTING_ENV, paint_on_cpu};
    if paint_on_cpu() && std::env::var_os(CPU_PAINTING_ENV).is_none() {
        // SAFETY: no other thread exists yet, so nothing reads the environment meanwhile.
        unsafe { std::env::set_var(CPU_PAINTING_ENV, "1") };
    }
}
