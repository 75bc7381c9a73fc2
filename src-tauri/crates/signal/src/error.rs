//! Errors a caller of the server library can act on.

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    /// Socket trouble (bind, accept, listener conversion).
    #[error("socket error: {0}")]
    Io(#[from] std::io::Error),
    /// The TLS certificate or key could not be used.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// The server task panicked or was cancelled.
    #[error("server task ended abnormally: {0}")]
    Task(String),
    /// Shared mode could not be set up (e.g. a malformed Redis URL).
    #[error("backplane setup failed: {0}")]
    Backplane(String),
}
