//! The verification code, derived exactly as the UI's `verify.ts` does, so a native peer and a
//! browser peer show the same six digits.

use sha2::{Digest, Sha256};

/// The `a=fingerprint:` values of an SDP, normalised and sorted, without repeats.
pub fn sdp_fingerprints(sdp: &str) -> Vec<String> {
    let mut found: Vec<String> = sdp
        .lines()
        .filter_map(|line| line.trim_end().strip_prefix("a=fingerprint:"))
        .filter_map(|rest| {
            let mut parts = rest.split_whitespace();
            let (algo, hex) = (parts.next()?, parts.next()?);
            let valid =
                parts.next().is_none() && hex.chars().all(|c| c.is_ascii_hexdigit() || c == ':');
            valid.then(|| format!("{} {}", algo.to_lowercase(), hex.to_uppercase()))
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

/// "123 456", or `None` when either side has no fingerprint.
pub fn verification_code(local_sdp: &str, remote_sdp: &str) -> Option<String> {
    let local = sdp_fingerprints(local_sdp);
    let remote = sdp_fingerprints(remote_sdp);
    if local.is_empty() || remote.is_empty() {
        return None;
    }
    let mut sides = [local.join(","), remote.join(",")];
    sides.sort();
    let hash = Sha256::digest(format!("parley-verify-v1\n{}", sides.join("\n")).as_bytes());
    let n = u32::from_be_bytes([hash[0], hash[1], hash[2], hash[3]]) % 1_000_000;
    let digits = format!("{n:06}");
    Some(format!("{} {}", &digits[..3], &digits[3..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_code_from_both_sides_and_none_without_fingerprints() {
        let a = "v=0\r\na=fingerprint:SHA-256 ab:cd\r\n";
        let b = "v=0\r\na=fingerprint:sha-256 12:34\r\na=fingerprint:sha-256 12:34\r\n";
        let code = verification_code(a, b);
        assert_eq!(code, verification_code(b, a));
        assert_eq!(code.map(|c| c.len()), Some(7));
        assert_eq!(verification_code(a, "v=0\r\n"), None);
        assert_eq!(sdp_fingerprints(a), vec!["sha-256 AB:CD".to_string()]);
    }
}
