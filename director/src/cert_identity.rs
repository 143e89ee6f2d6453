//! The identity a verified TLS client certificate proves, for `[auth] mode = "tls-client-cert"`
//! and `"digest-or-cert"`: the first subjectAltName URI with a `sip:` or `sips:` scheme,
//! canonicalised like placement keys (`sip:Alice@Example.COM` proves `Alice@example.com`).
//! Computed once per connection after the handshake (the listener's verifier has already
//! checked the chain against `client_ca`), never per message.

use std::sync::Arc;

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::placement::PlacementKey;

/// The canonical `user@host` of `der`'s first `sip:`/`sips:` subjectAltName URI; `None` for a
/// certificate that does not parse or names no SIP URI.
pub fn identity(der: &[u8]) -> Option<Arc<[u8]>> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let san = cert.subject_alternative_name().ok()??;
    san.value.general_names.iter().find_map(|name| match name {
        GeneralName::URI(uri) if is_sip(uri) => PlacementKey::parse_aor(uri)
            .ok()
            .map(|key| Arc::from(key.as_bytes())),
        _ => None,
    })
}

fn is_sip(uri: &str) -> bool {
    let lower = |n: usize| uri.get(..n).map(str::to_ascii_lowercase);
    lower(4).as_deref() == Some("sip:") || lower(5).as_deref() == Some("sips:")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, KeyPair, SanType};

    fn cert(sans: Vec<SanType>) -> Vec<u8> {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.subject_alt_names = sans;
        let key = KeyPair::generate().expect("key");
        params.self_signed(&key).expect("cert").der().to_vec()
    }

    fn uri(s: &str) -> SanType {
        SanType::URI(s.try_into().expect("ia5"))
    }

    #[test]
    fn first_sip_uri_canonicalised() {
        let der = cert(vec![
            SanType::DnsName("phone.example.com".try_into().expect("ia5")),
            uri("https://example.com/x"),
            uri("SIP:Alice@Example.COM:5061;transport=tls"),
            uri("sip:bob@example.com"),
        ]);
        assert_eq!(identity(&der).as_deref(), Some(&b"Alice@example.com"[..]));
        let der = cert(vec![uri("sips:carol@example.org")]);
        assert_eq!(identity(&der).as_deref(), Some(&b"carol@example.org"[..]));
    }

    #[test]
    fn no_sip_uri_no_identity() {
        let der = cert(vec![SanType::DnsName("a.example".try_into().expect("ia5"))]);
        assert_eq!(identity(&der), None);
        assert_eq!(identity(&cert(Vec::new())), None);
        assert_eq!(identity(b"garbage"), None);
    }
}
