//! TURN REST credentials (the scheme coturn calls `use-auth-secret`): the user name is
//! `expiry:peerId` with `expiry` in Unix seconds, the password is
//! base64(HMAC-SHA1(shared secret, user name)). The TURN server recomputes the password from
//! the same secret, so this server never talks to it.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use parley_protocol::{IceServer, PeerId};
use sha1::Sha1;

use crate::config::IceConfig;

/// User name and password for `peer`, valid until `expiry` (Unix seconds).
pub fn turn_credentials(secret: &str, peer: &PeerId, expiry: u64) -> (String, String) {
    let username = format!("{expiry}:{}", peer.0);
    // HMAC accepts keys of any length, so this never fails.
    let password = match Hmac::<Sha1>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(username.as_bytes());
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    };
    (username, password)
}

/// The ICE servers for `peer`'s `welcome`: STUN as configured, TURN with fresh credentials
/// (only when a shared secret is configured).
pub fn ice_servers(ice: &IceConfig, peer: &PeerId, unix_now: u64) -> Vec<IceServer> {
    let mut out = Vec::new();
    if !ice.stun_urls.is_empty() {
        out.push(IceServer {
            urls: ice.stun_urls.clone(),
            username: None,
            credential: None,
        });
    }
    if let (false, Some(secret)) = (ice.turn_urls.is_empty(), &ice.turn_secret) {
        let expiry = unix_now.saturating_add(ice.turn_ttl.as_secs());
        let (username, credential) = turn_credentials(secret, peer, expiry);
        out.push(IceServer {
            urls: ice.turn_urls.clone(),
            username: Some(username),
            credential: Some(credential),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_rfc_2202_hmac_sha1_vector() {
        // RFC 2202 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = Hmac::<Sha1>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }

    #[test]
    fn username_is_expiry_colon_peer() {
        let (user, pass) = turn_credentials("s3cret", &PeerId("abc".into()), 1_700_000_000);
        assert_eq!(user, "1700000000:abc");
        assert_eq!(pass.len(), 28, "base64 of 20 bytes");
    }
}
