//! TLS certificate reload through the engine handle while connections are open, and session
//! resumption with a ticketer on the listener's configuration.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::*;
use dataplane::{EngineError, ListenerSpec, Transport, UdpBackend};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::HandshakeKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// A fresh self-signed certificate: the server config (with a ticketer, as the director builds
/// it) and the DER to trust.
fn server(name: &str) -> (Arc<rustls::ServerConfig>, CertificateDer<'static>) {
    let ck = rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap();
    let cert: CertificateDer<'static> = ck.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let mut cfg = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    cfg.ticketer = rustls::crypto::aws_lc_rs::Ticketer::new().unwrap();
    (Arc::new(cfg), cert)
}

fn client_trusting(cert: &CertificateDer<'static>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

async fn connect(
    addr: std::net::SocketAddr,
    cfg: Arc<rustls::ClientConfig>,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    tokio_rustls::TlsConnector::from(cfg)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

async fn exchange(tls: &mut TlsStream<TcpStream>, tag: &str) {
    let m = sip_msg(tag, "");
    tls.write_all(&m).await.unwrap();
    tls.flush().await.unwrap();
    let mut got = vec![0; m.len() + 5];
    tls.read_exact(&mut got).await.unwrap();
    assert_eq!(got, echo_of(&m));
}

/// Records the end-entity certificate the server presented, accepting any.
#[derive(Debug, Default)]
struct Recorder {
    seen: std::sync::Mutex<Option<CertificateDer<'static>>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.seen.lock().unwrap() = Some(end_entity.clone().into_owned());
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        rustls::crypto::aws_lc_rs::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[tokio::test]
async fn reload_keeps_open_connections_and_new_ones_get_the_new_certificate() {
    let (old_cfg, old_cert) = server("localhost");
    let (new_cfg, new_cert) = server("localhost");
    let eng = start(
        2,
        UdpBackend::Epoll,
        limits(),
        &[
            ListenerSpec::plain(localhost(0), Transport::Udp),
            ListenerSpec::tls(localhost(0), old_cfg),
        ],
    );
    let addr = eng.addr(Transport::Tls);
    let mut before = connect(addr, client_trusting(&old_cert)).await.unwrap();
    exchange(&mut before, "before").await;

    // Wrong listener kinds and indices are refused without effect.
    assert!(matches!(
        eng.handle.reload_tls(0, new_cfg.clone()),
        Err(EngineError::NotTls(_))
    ));
    assert!(matches!(
        eng.handle.reload_tls(7, new_cfg.clone()),
        Err(EngineError::NoListener(7))
    ));
    eng.handle.reload_tls_at(addr, new_cfg.clone()).unwrap();
    assert!(Arc::ptr_eq(&eng.handle.tls_config(1).unwrap(), &new_cfg));

    // The connection from before the reload goes on working.
    exchange(&mut before, "still-there").await;
    // New connections get the new certificate: a client trusting only the old one fails, one
    // trusting the new one succeeds, on every worker (several connections).
    assert!(connect(addr, client_trusting(&old_cert)).await.is_err());
    for i in 0..4 {
        let mut after = connect(addr, client_trusting(&new_cert)).await.unwrap();
        exchange(&mut after, &format!("after-{i}")).await;
    }
    let recorder = Arc::new(Recorder::default());
    let cfg = rustls::ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let mut any = connect(addr, Arc::new(cfg)).await.unwrap();
    exchange(&mut any, "recorded").await;
    assert_eq!(recorder.seen.lock().unwrap().as_ref(), Some(&new_cert));
    exchange(&mut before, "last").await;
    eng.stop();
}

#[tokio::test]
async fn second_connection_resumes_the_session() {
    let (cfg, cert) = server("localhost");
    let eng = start(
        1,
        UdpBackend::Epoll,
        limits(),
        &[ListenerSpec::tls(localhost(0), cfg)],
    );
    let addr = eng.addr(Transport::Tls);
    let client = client_trusting(&cert);
    let mut first = connect(addr, client.clone()).await.unwrap();
    // The exchange makes the client read the tickets sent after the handshake.
    exchange(&mut first, "first").await;
    assert_eq!(
        first.get_ref().1.handshake_kind(),
        Some(HandshakeKind::Full)
    );
    let mut second = connect(addr, client).await.unwrap();
    exchange(&mut second, "second").await;
    assert_eq!(
        second.get_ref().1.handshake_kind(),
        Some(HandshakeKind::Resumed)
    );
    eng.stop();
}
