//! `parley-server`: the public signaling server (rooms by code), optionally over TLS.

mod cli;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;
use tracing_subscriber::EnvFilter;

use cli::{Cli, LogFormat};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(%err, "parley-server stopped");
            eprintln!("parley-server: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), parley_signal::SignalError> {
    let config = cli.config();
    if config.ice.turn_secret.is_none() && !config.ice.turn_urls.is_empty() {
        tracing::warn!("--turn given without --turn-secret: TURN servers are not sent to clients");
    }
    let listener = tokio::net::TcpListener::bind(cli.bind).await?;
    let addr = listener.local_addr()?;
    let (scheme, handle) = match (&cli.tls_cert, &cli.tls_key) {
        (Some(cert), Some(key)) => {
            let tls = parley_signal::tls_config_from_pem(cert, key)?;
            (
                "https",
                parley_signal::spawn_tls(listener, config, tls, stop_signal())?,
            )
        }
        _ => (
            "http",
            parley_signal::spawn(listener, config, stop_signal())?,
        ),
    };
    // The first stdout line is for people and scripts (tests read the port from it).
    let mut out = std::io::stdout();
    let _ = writeln!(out, "parley-server listening on {scheme}://{addr}");
    let _ = out.flush();
    tracing::info!(%addr, scheme, "listening");
    let (_handle, task) = handle;
    task.await
        .map_err(|e| parley_signal::SignalError::Task(e.to_string()))?
}

/// Resolves on ctrl-c or SIGTERM.
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("stop signal received");
}
