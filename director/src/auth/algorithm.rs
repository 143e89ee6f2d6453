//! The digest algorithms the director speaks (RFC 8760: `SHA-256`; RFC 2617: `MD5`), hashing
//! into lowercase hex without allocation, and a constant-time comparison for secrets.

use md5::Md5;
use sha2::{Digest, Sha256};

/// Longest hex digest (SHA-256: 64 characters).
pub const MAX_HEX: usize = 64;

/// A digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `SHA-256` (RFC 7616 / RFC 8760).
    Sha256,
    /// `MD5` (RFC 2617), the SIP default when a challenge names no algorithm.
    Md5,
}

impl Algorithm {
    /// Every algorithm, in the default order of challenges (strongest first).
    pub const ALL: [Algorithm; 2] = [Algorithm::Sha256, Algorithm::Md5];

    /// The token in `algorithm=` (and in configuration).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Md5 => "MD5",
        }
    }

    /// The algorithm named by an `algorithm=` token (case-insensitive); `-sess` variants are
    /// not supported.
    pub fn from_token(token: &[u8]) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.as_str().as_bytes().eq_ignore_ascii_case(token))
    }

    /// Length of the hex digest.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Md5 => 32,
        }
    }

    /// Hashes the concatenation of `parts` into lowercase hex.
    pub fn hex(self, parts: &[&[u8]]) -> HexDigest {
        let mut out = HexDigest {
            buf: [0; MAX_HEX],
            len: self.hex_len(),
        };
        match self {
            Algorithm::Sha256 => {
                let mut h = Sha256::new();
                parts.iter().for_each(|p| h.update(p));
                hex_into(&h.finalize(), &mut out.buf);
            }
            Algorithm::Md5 => {
                let mut h = Md5::new();
                parts.iter().for_each(|p| h.update(p));
                hex_into(&h.finalize(), &mut out.buf);
            }
        }
        out
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lowercase hex digest on the stack.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HexDigest {
    buf: [u8; MAX_HEX],
    len: usize,
}

impl HexDigest {
    /// A digest from hex text (already checked: `len` hex digits, lowercased here).
    pub fn from_hex(text: &str, alg: Algorithm) -> Option<HexDigest> {
        let bytes = text.as_bytes();
        if bytes.len() != alg.hex_len() || !bytes.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let mut buf = [0; MAX_HEX];
        buf[..bytes.len()].copy_from_slice(bytes);
        buf[..bytes.len()].make_ascii_lowercase();
        Some(HexDigest {
            buf,
            len: bytes.len(),
        })
    }

    /// The hex text.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl std::fmt::Debug for HexDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Digests here are secrets (HA1) or proofs: never print them.
        write!(f, "HexDigest({} hex digits)", self.len)
    }
}

/// Writes `bytes` as lowercase hex into the start of `out` (which must be twice as long).
pub(crate) fn hex_into(bytes: &[u8], out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 0xf)];
    }
}

/// Equality whose time depends only on the lengths, not on where the inputs differ.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        assert_eq!(
            Algorithm::Md5.hex(&[b"a", b"bc"]).as_bytes(),
            b"900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            Algorithm::Sha256.hex(&[b"abc"]).as_bytes(),
            b"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn tokens() {
        assert_eq!(Algorithm::from_token(b"sha-256"), Some(Algorithm::Sha256));
        assert_eq!(Algorithm::from_token(b"MD5"), Some(Algorithm::Md5));
        assert_eq!(Algorithm::from_token(b"MD5-sess"), None);
    }

    #[test]
    fn hex_parsing() {
        let d = HexDigest::from_hex("900150983CD24FB0D6963F7D28E17F72", Algorithm::Md5);
        assert_eq!(
            d.map(|d| d.as_bytes().to_vec()),
            Some(b"900150983cd24fb0d6963f7d28e17f72".to_vec())
        );
        assert!(HexDigest::from_hex("abc", Algorithm::Md5).is_none());
        assert!(HexDigest::from_hex(&"g".repeat(32), Algorithm::Md5).is_none());
    }

    #[test]
    fn constant_time_eq() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
