//! The TLS client configuration of proxy mode: how the dataplane's outbound connections to
//! registrars reached over TLS verify the registrar and present themselves, built from
//! `[proxy]` ([`ProxySettings`]). Trust anchors are the `tls_ca` PEM bundle or, without one, the
//! system trust store (`rustls-native-certs`); the name checked is the endpoint's host (see
//! [`crate::handler::DirectorHandler`]'s `tls_server_name`). `tls_verify = false` accepts any
//! certificate but still checks handshake signatures ([`AcceptAny`]). Errors name the file.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::aws_lc_rs;

use crate::config::ProxySettings;
use crate::health::tls_client::AcceptAny;
use crate::tls::{load_certs, load_key, TlsError};

/// Where the trust anchors of a verifying client configuration came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchors {
    /// The `tls_ca` file: this many certificates.
    File(usize),
    /// The system trust store: this many certificates.
    System(usize),
    /// No verification (`tls_verify = false`).
    AcceptAny,
}

/// The client configuration for outbound TLS connections to registrars, and where its trust
/// anchors came from. `Ok(None)` only when no `tls_ca` is configured and the system trust store
/// has no usable certificate (TLS registrars are then unreachable in proxy mode).
pub fn client_config(
    settings: &ProxySettings,
) -> Result<Option<(Arc<rustls::ClientConfig>, Anchors)>, TlsError> {
    let provider = Arc::new(aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Client(e.to_string()))?;
    let (builder, anchors) = if settings.tls_verify {
        let (roots, anchors) = match &settings.tls_ca {
            Some(file) => {
                let roots = roots_from_file(file)?;
                let n = roots.len();
                (roots, Anchors::File(n))
            }
            None => {
                let roots = system_roots();
                if roots.is_empty() {
                    return Ok(None);
                }
                let n = roots.len();
                (roots, Anchors::System(n))
            }
        };
        (builder.with_root_certificates(roots), anchors)
    } else {
        let verifier = Arc::new(AcceptAny::new(provider));
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        (builder, Anchors::AcceptAny)
    };
    let config = match &settings.tls_client_auth {
        None => builder.with_no_client_auth(),
        Some(files) => {
            let certs = load_certs(&files.certificate)?;
            let key = load_key(&files.private_key)?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| TlsError::Pair {
                    certificate: files.certificate.clone(),
                    key: files.private_key.clone(),
                    reason: e.to_string(),
                })?
        }
    };
    Ok(Some((Arc::new(config), anchors)))
}

/// Builds the configuration and logs what it trusts (a warning for `tls_verify = false` or an
/// empty system trust store). `None`: TLS registrars are unreachable (forwards counted as
/// `no_route`).
pub fn client_config_logged(
    settings: &ProxySettings,
) -> Result<Option<Arc<rustls::ClientConfig>>, TlsError> {
    let built = client_config(settings)?;
    match &built {
        None => tracing::warn!(
            "proxy: the system trust store has no usable certificate and [proxy] tls_ca is not \
             set; forwards to TLS registrars will be dropped"
        ),
        Some((_, Anchors::AcceptAny)) => tracing::warn!(
            "proxy: tls_verify = false: registrar certificates are NOT verified (labs only)"
        ),
        Some((_, Anchors::File(n))) => tracing::info!(
            ca = ?settings.tls_ca,
            certificates = n,
            "proxy: registrar certificates verified against tls_ca"
        ),
        Some((_, Anchors::System(n))) => tracing::info!(
            certificates = n,
            "proxy: registrar certificates verified against the system trust store"
        ),
    }
    Ok(built.map(|(config, _)| config))
}

/// Every certificate of a PEM bundle as a trust anchor; an unreadable file, a bad PEM block, a
/// certificate rustls cannot use or a file without certificates is an error naming it.
fn roots_from_file(file: &Path) -> Result<rustls::RootCertStore, TlsError> {
    crate::tls::load_roots(file).map_err(|reason| TlsError::Ca {
        file: file.to_owned(),
        reason,
    })
}

/// The system trust store; certificates it cannot parse are skipped (and logged at debug).
fn system_roots() -> rustls::RootCertStore {
    let found = rustls_native_certs::load_native_certs();
    for e in &found.errors {
        tracing::debug!(error = %e, "system trust store");
    }
    let mut roots = rustls::RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(found.certs);
    if ignored > 0 {
        tracing::debug!(
            added,
            ignored,
            "system trust store: unusable certificates skipped"
        );
    }
    roots
}
