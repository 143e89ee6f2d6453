//! TLS on the real director: REGISTER over TLS gets the 301, a second connection resumes the
//! session, and SIGHUP reloads the certificate and key files without dropping connections:
//! the connection opened before goes on working, new connections see the new certificate, and
//! unusable files on a later SIGHUP leave the listener on its current certificate.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConnection, HandshakeKind, StreamOwned};
use system_tests::process::scratch_dir;
use system_tests::sip_client::{parse_answer, register};
use system_tests::{oracle, Director, Topology};

type Tls = StreamOwned<ClientConnection, TcpStream>;

/// Writes a fresh self-signed certificate for "localhost" and its key; returns the DER.
fn write_cert(dir: &Path) -> CertificateDer<'static> {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("rcgen");
    std::fs::write(dir.join("cert.pem"), ck.cert.pem()).expect("write cert");
    std::fs::write(dir.join("key.pem"), ck.signing_key.serialize_pem()).expect("write key");
    ck.cert.der().clone()
}

fn client_trusting(cert: &CertificateDer<'static>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).expect("root");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(cfg)
}

/// Connects and completes the handshake (an error if the server's certificate is refused).
fn connect(addr: SocketAddr, cfg: Arc<rustls::ClientConfig>) -> Result<Tls, rustls::Error> {
    let tcp = TcpStream::connect(addr).expect("tcp connect");
    tcp.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let name = ServerName::try_from("localhost").expect("name");
    let conn = ClientConnection::new(cfg, name)?;
    let mut tls = StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn
            .complete_io(&mut tls.sock)
            .map_err(|e| match e.into_inner() {
                Some(inner) => match inner.downcast::<rustls::Error>() {
                    Ok(tls_err) => *tls_err,
                    Err(other) => rustls::Error::General(other.to_string()),
                },
                None => rustls::Error::General("handshake io".into()),
            })?;
    }
    Ok(tls)
}

/// Sends a REGISTER for `aor` and reads the answer (a response without body).
fn register_over(tls: &mut Tls, aor: &str, n: u64) -> String {
    let local = tls.sock.local_addr().expect("local addr");
    tls.write_all(register(aor, local, "TLS", n).as_bytes())
        .expect("write");
    tls.flush().expect("flush");
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let k = tls.read(&mut chunk).expect("read answer");
        assert!(k > 0, "connection closed before the answer");
        got.extend_from_slice(&chunk[..k]);
    }
    String::from_utf8(got).expect("utf-8 answer")
}

fn assert_redirect(raw: &str, topo: &Topology, aor: &str) {
    let a = parse_answer(raw);
    assert_eq!(a.code, 301, "{raw}");
    let (primary, _) = oracle::expected_contacts(topo, aor);
    assert_eq!(
        a.contacts.first().map(|c| c.0.as_str()),
        Some(primary.as_str())
    );
}

#[test]
fn sighup_reloads_the_certificate_without_dropping_connections() {
    let dir = scratch_dir("tls-reload");
    let old_cert = write_cert(&dir);
    let topo = Topology::ring(2, 3, false);
    let tls_line = format!(
        "transport = \"tls\"\ncertificate = \"{}\"\nprivate_key = \"{}\"\n",
        dir.join("cert.pem").display(),
        dir.join("key.pem").display()
    );
    let config = topo
        .to_toml(&[("127.0.0.1:0", "udp"), ("127.0.0.1:0", "tls")], 2)
        .replace("transport = \"tls\"\n", &tls_line);
    let director = Director::start(&config);
    let addr = director.listening.tls[0];
    let aor = "sip:alice@example.com";

    // Before: a 301 over TLS, and a second connection resumes the first one's session.
    let old_client = client_trusting(&old_cert);
    let mut before = connect(addr, old_client.clone()).expect("handshake with the old cert");
    assert_redirect(&register_over(&mut before, aor, 1), &topo, aor);
    assert_eq!(before.conn.handshake_kind(), Some(HandshakeKind::Full));
    let mut resumed = connect(addr, old_client).expect("second handshake");
    assert_redirect(&register_over(&mut resumed, aor, 2), &topo, aor);
    assert_eq!(resumed.conn.handshake_kind(), Some(HandshakeKind::Resumed));

    // Replace the files and SIGHUP.
    let new_cert = write_cert(&dir);
    assert_ne!(new_cert, old_cert);
    director.signal(libc::SIGHUP);
    director.log_until("TLS certificates reloaded", Duration::from_secs(10));

    // The old connection still works; new ones see the new certificate.
    assert_redirect(&register_over(&mut before, aor, 3), &topo, aor);
    assert!(
        connect(addr, client_trusting(&old_cert)).is_err(),
        "a new handshake still presented the old certificate"
    );
    for n in 0..4 {
        let mut after = connect(addr, client_trusting(&new_cert)).expect("new cert");
        let presented = after
            .conn
            .peer_certificates()
            .and_then(|c| c.first().cloned());
        assert_eq!(presented.as_ref(), Some(&new_cert));
        assert_redirect(&register_over(&mut after, aor, 10 + n), &topo, aor);
    }

    // Unusable files: the reload fails, the listener keeps the new certificate.
    std::fs::write(dir.join("cert.pem"), "not a certificate").expect("write garbage");
    director.signal(libc::SIGHUP);
    director.log_until("TLS reload failed", Duration::from_secs(10));
    let mut still = connect(addr, client_trusting(&new_cert)).expect("current cert kept");
    assert_redirect(&register_over(&mut still, aor, 20), &topo, aor);
    assert_redirect(&register_over(&mut before, aor, 21), &topo, aor);
    assert!(director.stop().success());
}
