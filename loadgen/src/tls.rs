//! TLS configuration (rustls with aws-lc-rs): the load client's (verified against a CA file,
//! or `--tls-insecure`) and the registrar simulator's (self-signed certificate from rcgen, or
//! the `--certificate`/`--private-key` files), which may require client certificates signed by
//! the `--client-ca` file.

use crate::cli::TlsVersion;
use crate::plan::TlsPlan;
use crate::tls_sessions::TicketPool;
use director::health::tls_client::AcceptAny;
use rustls::crypto::{aws_lc_rs, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(aws_lc_rs::default_provider())
}

/// Client settings for `target`: `insecure` accepts any certificate, else the CAs in `ca`;
/// `client_auth` is a certificate chain and key file to present when the server asks;
/// `resumption` false offers no session to resume (every handshake is a full one); `version`
/// limits the client to one protocol version (default: TLS 1.2 and 1.3).
pub fn client(
    target: SocketAddr,
    insecure: bool,
    ca: Option<&Path>,
    server_name: Option<&str>,
    client_auth: Option<(&Path, &Path)>,
    resumption: bool,
    version: Option<TlsVersion>,
) -> Result<TlsPlan, String> {
    let versions: &[&rustls::SupportedProtocolVersion] = match version {
        None => rustls::DEFAULT_VERSIONS,
        Some(TlsVersion::V1_2) => &[&rustls::version::TLS12],
        Some(TlsVersion::V1_3) => &[&rustls::version::TLS13],
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .map_err(|e| format!("TLS: {e}"))?;
    let wants = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny::new(provider())))
    } else {
        let ca = ca.ok_or("TLS needs --ca FILE or --tls-insecure")?;
        let roots =
            director::tls::load_roots(ca).map_err(|e| format!("--ca {}: {e}", ca.display()))?;
        builder.with_root_certificates(roots)
    };
    let mut config = match client_auth {
        None => wants.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("--client-cert {}: {e}", cert.display()))?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| format!("--client-key {}: {e}", key.display()))?;
            wants
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("--client-cert: {e}"))?
        }
    };
    config.resumption = if resumption {
        rustls::client::Resumption::store(Arc::new(TicketPool::default()))
    } else {
        rustls::client::Resumption::disabled()
    };
    let name = match server_name {
        Some(n) => ServerName::try_from(n.to_string()).map_err(|e| format!("server name: {e}"))?,
        None => ServerName::IpAddress(target.ip().into()),
    };
    Ok(TlsPlan {
        config: Arc::new(config),
        server_name: name,
    })
}

/// The first step of a server config: no client certificate, or (with `client_ca`) a required
/// client certificate chaining to the CAs of that PEM file.
fn server_builder(
    client_ca: Option<&Path>,
) -> Result<rustls::ConfigBuilder<rustls::ServerConfig, rustls::server::WantsServerCert>, String> {
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let Some(ca) = client_ca else {
        return Ok(builder.with_no_client_auth());
    };
    let err = |e: &dyn std::fmt::Display| format!("--client-ca {}: {e}", ca.display());
    let roots = director::tls::load_roots(ca).map_err(|e| err(&e))?;
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| err(&e))?;
    Ok(builder.with_client_cert_verifier(verifier))
}

/// A server config with a fresh self-signed certificate for localhost/127.0.0.1/::1; also
/// returns the certificate PEM (for clients that want to verify). `client_ca`: see
/// [`server_builder`].
pub fn self_signed_server(
    client_ca: Option<&Path>,
) -> Result<(Arc<rustls::ServerConfig>, String), String> {
    let names = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    let ck = rcgen::generate_simple_self_signed(names).map_err(|e| format!("rcgen: {e}"))?;
    let pem = ck.cert.pem();
    let cert = ck.cert.der().clone();
    let key =
        PrivateKeyDer::try_from(ck.signing_key.serialize_der()).map_err(|e| format!("key: {e}"))?;
    let config = server_builder(client_ca)?
        .with_single_cert(vec![cert], key)
        .map_err(|e| format!("TLS: {e}"))?;
    Ok((Arc::new(config), pem))
}

/// A server config presenting the certificate chain and key of two PEM files. `client_ca`: see
/// [`server_builder`].
pub fn server_from_files(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<Arc<rustls::ServerConfig>, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("--certificate {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("--certificate {}: no certificate", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("--private-key {}: {e}", key.display()))?;
    let config = server_builder(client_ca)?
        .with_single_cert(chain, key)
        .map_err(|e| format!("TLS: {e}"))?;
    Ok(Arc::new(config))
}
