//! Validation of `[proxy]`: the trust anchors, verification switch and optional client
//! certificate for registrars reached over TLS in proxy mode. Paths only; the files are read by
//! [`crate::tls_client`] at start (before any port is bound) and on certificate reloads.

use std::path::{Path, PathBuf};

use toml::Spanned;

use super::error::{ConfigError, Problem};
use super::raw::RawProxy;
use super::settings::{ProxySettings, TlsFiles};
use super::validate::Source;

/// `[proxy]` as written to [`ProxySettings`]; no section: the system trust store, verification
/// on, no client certificate.
pub(super) fn proxy(
    raw: Option<RawProxy>,
    src: &Source<'_>,
    base_dir: &Path,
) -> Result<ProxySettings, ConfigError> {
    let mut p = ProxySettings::default();
    let Some(raw) = raw else {
        return Ok(p);
    };
    let path = |v: &Spanned<String>, name: &str| -> Result<PathBuf, ConfigError> {
        let text = v.get_ref().trim();
        if text.is_empty() {
            return Err(src.at(v, format!("proxy.{name}"), Problem::EmptyPath));
        }
        Ok(base_dir.join(text))
    };
    if let Some(ca) = &raw.tls_ca {
        p.tls_ca = Some(path(ca, "tls_ca")?);
    }
    if let Some(v) = &raw.tls_verify {
        p.tls_verify = *v.get_ref();
    }
    p.tls_client_auth = match (&raw.tls_certificate, &raw.tls_private_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            certificate: path(cert, "tls_certificate")?,
            private_key: path(key, "tls_private_key")?,
        }),
        (Some(cert), None) => {
            let problem = Problem::ClientCertPair("tls_private_key");
            return Err(src.at(cert, "proxy.tls_certificate".into(), problem));
        }
        (None, Some(key)) => {
            let problem = Problem::ClientCertPair("tls_certificate");
            return Err(src.at(key, "proxy.tls_private_key".into(), problem));
        }
        (None, None) => None,
    };
    Ok(p)
}
