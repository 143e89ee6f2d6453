//! Building rustls server configurations for TLS listeners from the PEM files named in the
//! configuration, and reloading them — and proxy mode's client configuration toward TLS
//! registrars ([`crate::tls_client`]) — into the running engine on SIGHUP or an admin call
//! ([`reload_all`]). Errors name the file and what is wrong with it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::{ClientCert, TlsFiles};

/// Why a TLS listener cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file is unreadable or holds no certificate.
    #[error("{file}: cannot load certificate chain: {reason}")]
    Certificate {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// The key file is unreadable or holds no private key.
    #[error("{file}: cannot load private key: {reason}")]
    Key {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// The `[proxy] tls_ca` bundle is unreadable, malformed or holds no certificate.
    #[error("{file}: cannot load CA certificates (`[proxy] tls_ca`): {reason}")]
    Ca {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// A listener's `client_ca` is unreadable, malformed or holds no usable certificate.
    #[error("{file}: cannot load client CA certificates (`client_ca`): {reason}")]
    ClientCa {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// rustls refused to build the proxy client configuration.
    #[error("proxy TLS client configuration: {0}")]
    Client(String),
    /// rustls refused the pair (e.g. the key does not match the certificate).
    #[error("{certificate} / {key}: {reason}")]
    Pair {
        /// Certificate file.
        certificate: PathBuf,
        /// Key file.
        key: PathBuf,
        /// Why.
        reason: String,
    },
}

pub(crate) fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let err = |reason: String| TlsError::Certificate {
        file: path.to_owned(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(e.to_string()))?;
    if certs.is_empty() {
        return Err(err("no CERTIFICATE block found".into()));
    }
    Ok(certs)
}

pub(crate) fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| TlsError::Key {
        file: path.to_owned(),
        reason: e.to_string(),
    })
}

/// A server configuration (TLS 1.2 and 1.3, aws-lc-rs, session tickets/resumption on) from the
/// listener's certificate chain and key; with `client_ca`, clients are asked for a certificate
/// verified against it (one without a certificate is still accepted, for digest, unless
/// `client_cert = "required"`).
pub fn server_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let certs = load_certs(&files.certificate)?;
    let key = load_key(&files.private_key)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let pair_err = |reason: String| TlsError::Pair {
        certificate: files.certificate.clone(),
        key: files.private_key.clone(),
        reason,
    };
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| pair_err(e.to_string()))?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => builder.with_client_cert_verifier(client_verifier(
            ca,
            files.client_cert == ClientCert::Required,
            provider,
        )?),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| pair_err(e.to_string()))?;
    config.session_storage = rustls::server::ServerSessionMemoryCache::new(64 * 1024);
    if let Ok(ticketer) = rustls::crypto::aws_lc_rs::Ticketer::new() {
        config.ticketer = ticketer;
    }
    Ok(Arc::new(config))
}

/// Every certificate of the PEM bundle at `path` as a trust anchor (CA files of listeners,
/// `[proxy]` and loadgen). `Err` says why not: the file is unreadable, a PEM block or a
/// certificate is unusable, or it holds no certificate at all.
pub fn load_roots(path: &Path) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| e.to_string())? {
        let cert = cert.map_err(|e| e.to_string())?;
        roots.add(cert).map_err(|e| e.to_string())?;
    }
    if roots.is_empty() {
        return Err("no CERTIFICATE block found".into());
    }
    Ok(roots)
}

/// Verifies client certificates against the CAs of `ca`; clients without one are let through
/// unless `required`.
fn client_verifier(
    ca: &Path,
    required: bool,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsError> {
    let err = |reason: String| TlsError::ClientCa {
        file: ca.to_owned(),
        reason,
    };
    let roots = load_roots(ca).map_err(err)?;
    let builder =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
    let builder = if required {
        builder
    } else {
        builder.allow_unauthenticated()
    };
    builder.build().map_err(|e| err(e.to_string()))
}

/// Why one TLS listener could not be reloaded.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// Its files are unusable now; the listener keeps its previous certificate.
    #[error("TLS listener {index}: {source}")]
    Files {
        /// Listener index in the configuration.
        index: usize,
        /// Why.
        #[source]
        source: TlsError,
    },
    /// The proxy client configuration's files are unusable now; the previous one stays.
    #[error("proxy TLS client: {0}")]
    Client(#[source] TlsError),
    /// The engine refused the new configuration (no such TLS listener).
    #[error("TLS listener {index}: {source}")]
    Engine {
        /// Listener index in the configuration.
        index: usize,
        /// Why.
        #[source]
        source: dataplane::EngineError,
    },
}

/// Re-reads the certificate and key of every TLS listener in `listeners` (the configuration's
/// listeners, whose indices are the engine's bind order) and hands the new server
/// configurations to the running engine: new handshakes use them, open connections are
/// untouched. A listener whose files fail to load keeps its current certificate; the others are
/// still reloaded. With `proxy`, the client configuration toward TLS registrars is rebuilt from
/// its files too (new outbound connections use it; on failure the previous one stays). Returns
/// how many configurations were reloaded, and the failures.
pub fn reload_all(
    listeners: &[crate::config::Listener],
    proxy: Option<&crate::config::ProxySettings>,
    handle: &dataplane::EngineHandle,
) -> (usize, Vec<ReloadError>) {
    let mut reloaded = 0;
    let mut errors = Vec::new();
    for (index, listener) in listeners.iter().enumerate() {
        let Some(files) = &listener.tls else { continue };
        let result = server_config(files)
            .map_err(|source| ReloadError::Files { index, source })
            .and_then(|cfg| {
                handle
                    .reload_tls(index, cfg)
                    .map_err(|source| ReloadError::Engine { index, source })
            });
        match result {
            Ok(()) => reloaded += 1,
            Err(e) => errors.push(e),
        }
    }
    if let Some(settings) = proxy {
        match crate::tls_client::client_config(settings) {
            Ok(built) => {
                handle.reload_tls_client(built.map(|(config, _)| config));
                reloaded += 1;
            }
            Err(e) => errors.push(ReloadError::Client(e)),
        }
    }
    (reloaded, errors)
}

/// Reloads every TLS listener's files (and the proxy client configuration's) and logs the
/// outcome: new certificates for new handshakes, open connections untouched; a listener whose
/// files fail keeps its certificate.
pub fn reload_and_log(
    listeners: &[crate::config::Listener],
    proxy: Option<&crate::config::ProxySettings>,
    handle: &dataplane::EngineHandle,
    source: &str,
) {
    let (reloaded, errors) = reload_all(listeners, proxy, handle);
    for e in &errors {
        tracing::error!(error = %e, source, "TLS reload failed; the previous configuration stays");
    }
    if reloaded > 0 {
        tracing::info!(
            reloaded,
            failed = errors.len(),
            source,
            "TLS certificates reloaded"
        );
    }
}

/// What SIGHUP and the admin API need to reload certificates: the configured listeners, the
/// proxy client settings and the engine.
#[derive(Debug, Clone)]
pub struct TlsReload {
    listeners: Vec<crate::config::Listener>,
    proxy: Option<crate::config::ProxySettings>,
    handle: dataplane::EngineHandle,
}

impl TlsReload {
    /// Reloads `listeners` through `handle`.
    pub fn new(listeners: Vec<crate::config::Listener>, handle: dataplane::EngineHandle) -> Self {
        TlsReload {
            listeners,
            proxy: None,
            handle,
        }
    }

    /// The same, also rebuilding the proxy client configuration from `proxy`'s files.
    pub fn with_proxy(mut self, proxy: crate::config::ProxySettings) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// Re-reads every TLS file (see [`reload_and_log`]).
    pub fn reload(&self, source: &str) {
        reload_and_log(&self.listeners, self.proxy.as_ref(), &self.handle, source);
    }
}
