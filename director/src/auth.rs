//! Optional authentication before routing (`[auth]`, off by default): SIP digest with
//! `SHA-256` (RFC 8760) and `MD5` (RFC 2617, `qop=auth`) against a credentials file, with
//! stateless nonces ([`nonce`]) so several directors sharing `nonce_secret` accept each
//! other's nonces; and the checks for TLS client certificate identities.
//!
//! - [`algorithm`]: hashing to hex, constant-time comparison.
//! - [`credentials_header`]: parsing `Authorization: Digest ...`.
//! - [`credentials`]: the credentials file.
//! - [`verify`]: the [`Authenticator`] deciding Ok / 401 / 403 / 400 and writing challenges.

pub mod algorithm;
pub mod credentials;
pub mod credentials_header;
mod gate;
pub mod nonce;
pub mod verify;

pub use algorithm::Algorithm;
pub use credentials::{Credentials, CredentialsError, CredentialsProblem};
pub(crate) use gate::gate;
pub use nonce::NonceKey;
pub use verify::{AuthMode, Authenticator, Check, ClientFields, Subject};

/// The current Unix time in seconds (0 if the clock is before 1970).
pub fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
