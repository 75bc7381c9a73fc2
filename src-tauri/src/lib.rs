//! Parley desktop and mobile app shell (placeholder until the shell lands).

/// Starts the app.
pub fn run() {}
