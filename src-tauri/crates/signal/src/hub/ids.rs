//! Random identifiers: room codes, peer ids, resume tokens, knock ids.

use parley_protocol::{ROOM_CODE_ALPHABET, RoomCode};

/// The OS random source failed (practically never; reported as `unavailable`).
#[derive(Debug, thiserror::Error)]
#[error("no randomness available: {0}")]
pub struct EntropyError(pub String);

/// Where random bytes come from. Production uses the OS CSPRNG; tests may be deterministic.
pub trait Entropy: Send {
    /// Fills `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), EntropyError>;
}

/// The operating system's CSPRNG (`getrandom`).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), EntropyError> {
        getrandom::fill(buf).map_err(|e| EntropyError(e.to_string()))
    }
}

/// A fresh room code (40 bits).
pub(crate) fn room_code(rng: &mut dyn Entropy) -> Result<RoomCode, EntropyError> {
    let mut bytes = [0u8; 5];
    rng.fill(&mut bytes)?;
    Ok(RoomCode::from_random_bytes(bytes))
}

/// `len` lower-case symbols of the room-code alphabet (5 bits each).
pub(crate) fn token(rng: &mut dyn Entropy, len: usize) -> Result<String, EntropyError> {
    let mut bytes = vec![0u8; len];
    rng.fill(&mut bytes)?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ROOM_CODE_ALPHABET[usize::from(b & 0x1f)]).to_ascii_lowercase())
        .collect())
}

/// Compares secrets in time independent of where they differ.
pub(crate) fn secrets_match(given: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}
