//! Validation of `[proxy]`: the trust anchors, verification switch and optional client
//! certificate for registrars reached over TLS in proxy mode. Paths only; the files are read by
//! [`crate::tls_client`] at start (before any port is bound) and on certificate reloads.

use std::path::{Path, PathBuf};

use toml::Spanned;

use super::error::{ConfigError, Problem};
use super::raw::RawProxy;
use super::settings::{ClientCert, ProxySettings, TlsFiles};
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
            client_ca: None,
            client_cert: ClientCert::Optional,
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::config::Config;

    const BASE: &str =
        "[[pool]]\nid = \"p\"\n[[pool.registrar]]\nid = \"r\"\ncontact = \"sip:192.0.2.1\"\n";

    fn parse(proxy: &str) -> Result<Config, String> {
        Config::parse(&format!("{BASE}\n[proxy]\n{proxy}"), "/etc/d/director.toml")
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_without_a_section() {
        let c = Config::parse(BASE, "d.toml").unwrap();
        assert_eq!(c.proxy.tls_ca, None);
        assert!(c.proxy.tls_verify);
        assert_eq!(c.proxy.tls_client_auth, None);
    }

    #[test]
    fn relative_paths_are_resolved_against_the_file() {
        let c = parse(
            "tls_ca = \"ca.pem\"\ntls_verify = false\ntls_certificate = \"c.pem\"\ntls_private_key = \"/k.pem\"",
        )
        .unwrap();
        assert_eq!(c.proxy.tls_ca, Some(PathBuf::from("/etc/d/ca.pem")));
        assert!(!c.proxy.tls_verify);
        let files = c.proxy.tls_client_auth.unwrap();
        assert_eq!(files.certificate, PathBuf::from("/etc/d/c.pem"));
        assert_eq!(files.private_key, PathBuf::from("/k.pem"));
    }

    #[test]
    fn errors_name_line_column_and_field() {
        let err = parse("tls_certificate = \"c.pem\"").unwrap_err();
        assert!(
            err.starts_with("/etc/d/director.toml:8:19: field `proxy.tls_certificate`"),
            "{err}"
        );
        assert!(err.contains("tls_private_key"), "{err}");
        let err = parse("tls_ca = \"  \"").unwrap_err();
        assert!(err.contains("field `proxy.tls_ca`"), "{err}");
        let err = parse("tls_cafile = \"x\"").unwrap_err();
        assert!(err.contains("/etc/d/director.toml:8:1"), "{err}");
    }
}
