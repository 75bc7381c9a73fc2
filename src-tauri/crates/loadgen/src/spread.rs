//! Shared-mode runs: the two members of each pair on different server instances.

use std::net::SocketAddr;

/// The addresses pair `index`'s two members connect to. Members are dealt round robin over
/// `server` followed by `also`, so with two or more instances the members of every pair sit
/// on different instances; with `also` empty both use `server`.
pub(crate) fn pair_servers(
    server: SocketAddr,
    also: &[SocketAddr],
    index: usize,
) -> (SocketAddr, SocketAddr) {
    let pick = |slot: usize| match slot % (also.len() + 1) {
        0 => server,
        n => also[n - 1],
    };
    (pick(2 * index), pick(2 * index + 1))
}
