//! Validation of `[auth]`: the mode, realm, algorithms, nonce lifetime and secret, and the
//! credentials file (read here, relative to the configuration file, parsed with its own
//! `FILE:LINE:COL` errors). No section, or `mode = "none"`: no authentication.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};
use toml::Spanned;

use super::error::{ConfigError, Problem};
use super::raw::RawAuth;
use super::validate::Source;
use crate::auth::nonce::{random_secret, SECRET_LEN};
use crate::auth::{Algorithm, AuthMode, Authenticator, Credentials, NonceKey};

const DEFAULT_NONCE_LIFETIME_S: u64 = 300;
const MAX_NONCE_LIFETIME_S: u64 = 86_400;
const MIN_SECRET_LEN: usize = 16;

/// `[auth]` as written to an [`Authenticator`] (`None`: authentication off). `domain` is the
/// director's `[director] domain`, the default realm; `client_certs` whether any TLS listener
/// asks for client certificates (`client_ca`), without which `tls-client-cert` would refuse
/// every REGISTER.
pub(super) fn auth(
    raw: Option<RawAuth>,
    domain: Option<&str>,
    client_certs: bool,
    src: &Source<'_>,
    base_dir: &Path,
) -> Result<Option<Arc<Authenticator>>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let bad = |span: std::ops::Range<usize>, name: &str, msg: String| {
        src.at_span(span, Some(format!("auth.{name}")), Problem::Auth(msg))
    };
    let mode = match raw.mode.as_ref().map(|m| m.get_ref().as_str()) {
        None | Some("none") => return Ok(None),
        Some("digest") => AuthMode::Digest,
        Some("tls-client-cert") => AuthMode::TlsClientCert,
        Some("digest-or-cert") => AuthMode::DigestOrCert,
        Some(other) => {
            let msg = format!(
                "unknown mode `{other}`: expected none, digest, tls-client-cert or digest-or-cert"
            );
            return Err(bad(span_of(&raw.mode), "mode", msg));
        }
    };
    if mode == AuthMode::TlsClientCert && !client_certs {
        let msg = "tls-client-cert needs a TLS listener with `client_ca` (otherwise every \
                   REGISTER would be refused)"
            .to_owned();
        return Err(bad(span_of(&raw.mode), "mode", msg));
    }
    let realm = match (&raw.realm, domain) {
        (Some(r), _) => {
            let text = r.get_ref();
            if text.is_empty()
                || text.len() > 255
                || text
                    .chars()
                    .any(|c| c.is_control() || c == '"' || c == '\\')
            {
                let msg = "realm must be 1 to 255 characters without quotes, backslashes or \
                           control characters"
                    .to_owned();
                return Err(bad(r.span(), "realm", msg));
            }
            text.clone()
        }
        (None, Some(domain)) => domain.to_owned(),
        // Certificates only: no challenge is ever sent, so the realm is never shown.
        (None, None) if mode == AuthMode::TlsClientCert => "director".to_owned(),
        (None, None) => {
            let msg = "digest needs a `realm` (or a [director] domain to use as realm)".into();
            return Err(bad(span_of(&raw.mode), "realm", msg));
        }
    };
    let algorithms = algorithms(&raw, src)?;
    let lifetime = match &raw.nonce_lifetime_s {
        None => DEFAULT_NONCE_LIFETIME_S,
        Some(s) if (1..=MAX_NONCE_LIFETIME_S).contains(s.get_ref()) => *s.get_ref(),
        Some(s) => {
            let msg = format!(
                "nonce_lifetime_s must be 1..={MAX_NONCE_LIFETIME_S}, got {}",
                s.get_ref()
            );
            return Err(bad(s.span(), "nonce_lifetime_s", msg));
        }
    };
    let secret = match &raw.nonce_secret {
        Some(s) if s.get_ref().len() < MIN_SECRET_LEN => {
            let msg = format!("nonce_secret must be at least {MIN_SECRET_LEN} characters");
            return Err(bad(s.span(), "nonce_secret", msg));
        }
        Some(s) => Sha256::digest(s.get_ref().as_bytes()).into(),
        None => process_secret().map_err(|msg| bad(span_of(&raw.mode), "nonce_secret", msg))?,
    };
    let file = match (&raw.credentials, mode) {
        (Some(file), _) => file,
        // Certificates only: no passwords to read.
        (None, AuthMode::TlsClientCert) => {
            let key = NonceKey::new(secret, lifetime);
            let users = Credentials::default();
            let auth = Authenticator::new(mode, &realm, &algorithms, key, users);
            return Ok(Some(Arc::new(auth)));
        }
        (None, _) => {
            let msg = "digest needs `credentials` (a file of [[user]] entries)".to_owned();
            return Err(bad(span_of(&raw.mode), "credentials", msg));
        }
    };
    let path = base_dir.join(file.get_ref());
    let text = std::fs::read_to_string(&path).map_err(|e| {
        let msg = format!("cannot read credentials file {}: {e}", path.display());
        bad(file.span(), "credentials", msg)
    })?;
    let users = Credentials::parse(&text, &path.display().to_string(), &realm, &algorithms)
        .map_err(|e| ConfigError::Credentials(Box::new(e)))?;
    let key = NonceKey::new(secret, lifetime);
    Ok(Some(Arc::new(Authenticator::new(
        mode,
        &realm,
        &algorithms,
        key,
        users,
    ))))
}

fn span_of<T>(v: &Option<Spanned<T>>) -> std::ops::Range<usize> {
    v.as_ref().map_or(0..0, Spanned::span)
}

fn algorithms(raw: &RawAuth, src: &Source<'_>) -> Result<Vec<Algorithm>, ConfigError> {
    let Some(list) = &raw.algorithms else {
        return Ok(Algorithm::ALL.to_vec());
    };
    let bad =
        |span, msg: String| src.at_span(span, Some("auth.algorithms".into()), Problem::Auth(msg));
    if list.get_ref().is_empty() {
        return Err(bad(
            list.span(),
            "algorithms must name at least one of SHA-256, MD5".into(),
        ));
    }
    let mut out = Vec::with_capacity(list.get_ref().len());
    for a in list.get_ref() {
        let alg = Algorithm::from_token(a.get_ref().as_bytes()).ok_or_else(|| {
            bad(
                a.span(),
                format!(
                    "unknown algorithm `{}`: expected SHA-256 or MD5",
                    a.get_ref()
                ),
            )
        })?;
        if out.contains(&alg) {
            return Err(bad(a.span(), format!("algorithm {alg} listed twice")));
        }
        out.push(alg);
    }
    Ok(out)
}

/// The nonce secret drawn once per process (so a reload keeps outstanding nonces valid).
fn process_secret() -> Result<[u8; SECRET_LEN], String> {
    static SECRET: OnceLock<[u8; SECRET_LEN]> = OnceLock::new();
    if let Some(s) = SECRET.get() {
        return Ok(*s);
    }
    let fresh = random_secret().map_err(|_| "no random source for the nonce secret".to_owned())?;
    Ok(*SECRET.get_or_init(|| fresh))
}
