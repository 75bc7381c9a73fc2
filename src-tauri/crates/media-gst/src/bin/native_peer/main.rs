//! `parley-native-peer`: a headless call party on the native engine. It joins a room on a
//! Parley signaling server, negotiates exactly as the UI does (the impolite side, the higher
//! peer id, sends the first offer), speaks the UI's chat and file wire formats, and reports
//! what it sees as JSON lines on stdout. Commands arrive as JSON lines on stdin:
//! `{"cmd":"chat","text":..}`, `{"cmd":"file","path":..,"name":..}`, `{"cmd":"hangup"}`.
//! Used by the native interop test and the benchmark.

mod args;
mod call;
mod files;
mod signaling;

use serde_json::json;

/// Prints one report line.
pub(crate) fn report(value: serde_json::Value) {
    println!("{value}");
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let args = match args::Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("parley-native-peer: {e}\n{}", args::USAGE);
            std::process::exit(2);
        }
    };
    let code = match call::run(args).await {
        Ok(()) => 0,
        Err(e) => {
            report(json!({ "event": "error", "message": e }));
            1
        }
    };
    report(json!({ "event": "exit", "code": code }));
    // The stdin reader is a blocking thread the runtime would wait for on shutdown.
    std::process::exit(code)
}
