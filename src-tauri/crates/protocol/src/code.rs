//! Room codes: 8 symbols of Crockford base32 (40 bits), shown as `XXXX-XXXX`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ts_rs::TS;

/// Symbols used in room codes: digits and letters without I, L, O and U, so that nothing
/// reads as something else when spoken or hand-written.
pub const ROOM_CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Number of symbols in a room code (8 x 5 bits = 40 bits of entropy).
pub const ROOM_CODE_LEN: usize = 8;

/// A room code in canonical form (8 upper-case symbols, no dash).
///
/// Parsing is forgiving the way people type: case, dashes and spaces are ignored, and the
/// look-alikes `O`, `I` and `L` are read as `0`, `1` and `1`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, TS)]
#[ts(type = "string")]
pub struct RoomCode([u8; ROOM_CODE_LEN]);

impl RoomCode {
    /// Builds a code from 40 random bits (the caller supplies them from a CSPRNG).
    pub fn from_random_bytes(bytes: [u8; 5]) -> Self {
        let mut bits: u64 = 0;
        for b in bytes {
            bits = (bits << 8) | u64::from(b);
        }
        let mut out = [0u8; ROOM_CODE_LEN];
        for (i, slot) in out.iter_mut().enumerate() {
            let shift = 5 * (ROOM_CODE_LEN - 1 - i);
            *slot = ROOM_CODE_ALPHABET[((bits >> shift) & 0x1f) as usize];
        }
        Self(out)
    }

    /// Parses what a person typed; `None` if it is not a well-formed code.
    pub fn parse(input: &str) -> Option<Self> {
        let mut out = [0u8; ROOM_CODE_LEN];
        let mut n = 0;
        for ch in input.chars() {
            if ch == '-' || ch.is_whitespace() {
                continue;
            }
            let sym = match ch.to_ascii_uppercase() {
                'O' => b'0',
                'I' | 'L' => b'1',
                c if c.is_ascii() && ROOM_CODE_ALPHABET.contains(&(c as u8)) => c as u8,
                _ => return None,
            };
            *out.get_mut(n)? = sym;
            n += 1;
        }
        (n == ROOM_CODE_LEN).then_some(Self(out))
    }

    /// The canonical form without the dash, e.g. `7K3QH2MX`.
    pub fn as_str(&self) -> &str {
        // Only alphabet bytes (ASCII) are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for RoomCode {
    /// Shown as `XXXX-XXXX`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.as_str();
        write!(f, "{}-{}", &s[..4], &s[4..])
    }
}

impl fmt::Debug for RoomCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoomCode({self})")
    }
}

impl Serialize for RoomCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RoomCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        RoomCode::parse(&raw).ok_or_else(|| serde::de::Error::custom("malformed room code"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_bytes_cover_the_alphabet_edges() {
        assert_eq!(RoomCode::from_random_bytes([0; 5]).as_str(), "00000000");
        assert_eq!(RoomCode::from_random_bytes([0xff; 5]).as_str(), "ZZZZZZZZ");
    }

    #[test]
    fn parse_is_forgiving_about_case_dashes_and_lookalikes() {
        let code = RoomCode::parse("7k3q-h2mx").unwrap();
        assert_eq!(code.to_string(), "7K3Q-H2MX");
        assert_eq!(RoomCode::parse(" 7K3QH2MX ").unwrap(), code);
        assert_eq!(RoomCode::parse("oIl0-0000").unwrap().as_str(), "01100000");
    }

    #[test]
    fn parse_rejects_wrong_length_and_symbols() {
        for bad in [
            "",
            "7K3Q-H2M",
            "7K3Q-H2MXX",
            "7K3Q-H2MU",
            "7K3Q_H2MX",
            "７K3Q-H2MX",
        ] {
            assert!(RoomCode::parse(bad).is_none(), "{bad:?} should be rejected");
        }
    }
}
