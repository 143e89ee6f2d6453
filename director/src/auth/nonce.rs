//! Stateless nonces: `<issue time, 16 hex digits><HMAC-SHA256(secret, time || realm), first 16
//! bytes, 32 hex digits>`. The director keeps no state: any nonce it (or another director with
//! the same secret) minted is recognised by recomputing the tag, and its age comes from the
//! time it carries. A nonce can be replayed within its lifetime (no `nc` tracking): the digest
//! response still binds it to the method, URI and password.

use sha2::{Digest, Sha256};

use super::algorithm::{ct_eq, hex_into};

/// Length of a nonce in characters.
pub const NONCE_LEN: usize = 16 + 32;

/// Bytes of the nonce secret.
pub const SECRET_LEN: usize = 32;

/// Seconds a nonce may claim to come from the future (clock skew between directors).
const MAX_SKEW_S: u64 = 5;

/// What a presented nonce is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceState {
    /// Ours and within its lifetime.
    Fresh,
    /// Ours but older than its lifetime: the client should retry with a new one (`stale=true`).
    Stale,
    /// Not minted with this secret and realm (or malformed): challenge again.
    Forged,
}

/// Mints and checks nonces for one realm.
#[derive(Clone, PartialEq, Eq)]
pub struct NonceKey {
    secret: [u8; SECRET_LEN],
    lifetime_s: u64,
}

impl std::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceKey")
            .field("lifetime_s", &self.lifetime_s)
            .finish_non_exhaustive()
    }
}

impl NonceKey {
    /// A key from a secret and a lifetime in seconds.
    pub fn new(secret: [u8; SECRET_LEN], lifetime_s: u64) -> Self {
        NonceKey { secret, lifetime_s }
    }

    /// The nonce for time `now_s` (Unix seconds) in `realm`.
    pub fn mint(&self, realm: &[u8], now_s: u64) -> [u8; NONCE_LEN] {
        let mut out = [0; NONCE_LEN];
        hex_into(&now_s.to_be_bytes(), &mut out[..16]);
        let tag = self.tag(now_s, realm);
        hex_into(&tag[..16], &mut out[16..]);
        out
    }

    /// Whether `nonce` is ours, and still fresh at `now_s`.
    pub fn check(&self, nonce: &[u8], realm: &[u8], now_s: u64) -> NonceState {
        let Some(issued) = parse_time(nonce) else {
            return NonceState::Forged;
        };
        let mut expected = [0; 32];
        hex_into(&self.tag(issued, realm)[..16], &mut expected);
        if !ct_eq(&nonce[16..], &expected) {
            return NonceState::Forged;
        }
        if issued > now_s.saturating_add(MAX_SKEW_S) {
            return NonceState::Forged;
        }
        if now_s.saturating_sub(issued) > self.lifetime_s {
            return NonceState::Stale;
        }
        NonceState::Fresh
    }

    /// HMAC-SHA256 (RFC 2104) of `time (8 bytes, big endian) || realm`.
    fn tag(&self, time: u64, realm: &[u8]) -> [u8; 32] {
        const BLOCK: usize = 64;
        let mut ipad = [0x36u8; BLOCK];
        let mut opad = [0x5cu8; BLOCK];
        for (i, k) in self.secret.iter().enumerate() {
            ipad[i] ^= k;
            opad[i] ^= k;
        }
        let inner = Sha256::new()
            .chain_update(ipad)
            .chain_update(time.to_be_bytes())
            .chain_update(realm)
            .finalize();
        Sha256::new()
            .chain_update(opad)
            .chain_update(inner)
            .finalize()
            .into()
    }
}

/// The issue time of a well-formed nonce.
fn parse_time(nonce: &[u8]) -> Option<u64> {
    if nonce.len() != NONCE_LEN || !nonce.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let text = std::str::from_utf8(&nonce[..16]).ok()?;
    u64::from_str_radix(text, 16).ok()
}

/// A fresh random secret (from the TLS provider's CSPRNG).
pub fn random_secret() -> Result<[u8; SECRET_LEN], rustls::crypto::GetRandomFailed> {
    let mut secret = [0; SECRET_LEN];
    rustls::crypto::aws_lc_rs::default_provider()
        .secure_random
        .fill(&mut secret)?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> NonceKey {
        NonceKey::new([7; SECRET_LEN], 300)
    }

    #[test]
    fn hmac_matches_rfc4231_case2() {
        // RFC 4231 test case 2 needs a 4-byte key: check the construction with a padded key,
        // which HMAC defines as identical.
        let mut secret = [0; SECRET_LEN];
        secret[..4].copy_from_slice(b"Jefe");
        let k = NonceKey::new(secret, 1);
        // The tag is over time || realm: choose them so the message is RFC 4231's.
        let msg = b"what do ya want for nothing?";
        let time = u64::from_be_bytes(msg[..8].try_into().expect("8 bytes"));
        let tag = k.tag(time, &msg[8..]);
        let mut hex = [0; 64];
        hex_into(&tag, &mut hex);
        assert_eq!(
            &hex[..],
            b"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn fresh_stale_forged() {
        let k = key();
        let n = k.mint(b"example.com", 1_000);
        assert_eq!(n.len(), NONCE_LEN);
        assert_eq!(k.check(&n, b"example.com", 1_000), NonceState::Fresh);
        assert_eq!(k.check(&n, b"example.com", 1_300), NonceState::Fresh);
        assert_eq!(k.check(&n, b"example.com", 1_301), NonceState::Stale);
        assert_eq!(k.check(&n, b"other.com", 1_000), NonceState::Forged);
        assert_eq!(k.check(&n, b"example.com", 900), NonceState::Forged);
        let other = NonceKey::new([8; SECRET_LEN], 300);
        assert_eq!(other.check(&n, b"example.com", 1_000), NonceState::Forged);
        let mut tampered = n;
        tampered[15] = b'1';
        assert_eq!(
            k.check(&tampered, b"example.com", 1_000),
            NonceState::Forged
        );
        assert_eq!(k.check(b"short", b"example.com", 1_000), NonceState::Forged);
        let upper = n.to_ascii_uppercase();
        assert_eq!(k.check(&upper, b"example.com", 1_000), NonceState::Forged);
    }

    #[test]
    fn random_secrets_differ() {
        let a = random_secret().expect("random");
        let b = random_secret().expect("random");
        assert_ne!(a, b);
    }
}
