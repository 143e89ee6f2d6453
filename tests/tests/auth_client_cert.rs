//! `[auth]` with TLS client certificates on the wire: a TLS listener with `client_ca` asks
//! clients for a certificate; the first `sip:` subjectAltName URI of a verified one is the
//! identity `[auth] mode = "tls-client-cert"` and `"digest-or-cert"` check against the To AOR
//! of a REGISTER (real director process, rustls client); `client_cert = "required"` refuses a
//! client without a certificate at the handshake (counted in `/metrics`). Also the
//! configuration errors for a missing `client_ca` file and `client_ca` on a non-TLS listener.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use rcgen::SanType;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConnection, StreamOwned};
use system_tests::http;
use system_tests::pki::TestCa;
use system_tests::process::scratch_dir;
use system_tests::sip_client::{parse_answer, register};
use system_tests::{bin, Director};

/// A director whose TLS listener asks for client certificates signed by the client CA.
struct Setup {
    director: Director,
    dir: PathBuf,
    server_ca: TestCa,
    client_ca: TestCa,
    client: Arc<rustls::ClientConfig>,
    alice: Arc<rustls::ClientConfig>,
    stranger: Arc<rustls::ClientConfig>,
}

fn client_config(server_ca: &Path, cert: Option<(&Path, &Path)>) -> Arc<rustls::ClientConfig> {
    client_config_versions(server_ca, cert, rustls::DEFAULT_VERSIONS)
}

/// [`client_config`] offering only `versions`.
fn client_config_versions(
    server_ca: &Path,
    cert: Option<(&Path, &Path)>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(server_ca).expect("ca") {
        roots.add(c.expect("ca cert")).expect("add");
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots);
    let cfg = match cert {
        None => builder.with_no_client_auth(),
        Some((c, k)) => {
            let chain = CertificateDer::pem_file_iter(c)
                .expect("cert")
                .collect::<Result<Vec<_>, _>>()
                .expect("certs");
            let key = PrivateKeyDer::from_pem_file(k).expect("key");
            builder
                .with_client_auth_cert(chain, key)
                .expect("client auth")
        }
    };
    Arc::new(cfg)
}

fn setup(tag: &str, auth: &str) -> Setup {
    setup_with(tag, auth, "")
}

/// [`setup`] with `listener_extra` lines added to the TLS listener.
fn setup_with(tag: &str, auth: &str, listener_extra: &str) -> Setup {
    let dir = scratch_dir(tag);
    let server_ca = TestCa::new(&dir, "server");
    let client_ca = TestCa::new(&dir, "client");
    let other_ca = TestCa::new(&dir, "other");
    let dns = |n: &str| SanType::DnsName(n.try_into().expect("ia5"));
    let uri = |u: &str| SanType::URI(u.try_into().expect("ia5"));
    let (cert, key) = server_ca.leaf(&dir, "director", vec![dns("localhost")]);
    let alice = client_ca.leaf(&dir, "alice", vec![uri("sip:alice@Example.COM")]);
    let stranger = other_ca.leaf(&dir, "stranger", vec![uri("sip:alice@example.com")]);
    let config = format!(
        "[[listen]]\naddress = \"127.0.0.1:0\"\ntransport = \"udp\"\n\n\
         [[listen]]\naddress = \"127.0.0.1:0\"\ntransport = \"tls\"\n\
         certificate = \"{}\"\nprivate_key = \"{}\"\nclient_ca = \"{}\"\n{listener_extra}\n\
         {auth}\n\n\
         [[pool]]\nid = \"pool1\"\n\n\
         [[pool.registrar]]\nid = \"fe1\"\ncontact = \"sip:fe1.example.com\"\n",
        cert.display(),
        key.display(),
        client_ca.pem.display()
    );
    Setup {
        director: Director::start(&config),
        client: client_config(&server_ca.pem, None),
        alice: client_config(&server_ca.pem, Some((&alice.0, &alice.1))),
        stranger: client_config(&server_ca.pem, Some((&stranger.0, &stranger.1))),
        dir,
        server_ca,
        client_ca,
    }
}

/// REGISTERs `aor` over a new TLS connection with `cfg`; the status code of the answer, or
/// `None` when the connection ends without one.
fn register_over_tls(s: &Setup, cfg: &Arc<rustls::ClientConfig>, aor: &str) -> Option<u16> {
    let to: SocketAddr = s.director.listening.tls[0];
    let tcp = TcpStream::connect(to).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    let local = tcp.local_addr().expect("local");
    let name = ServerName::try_from("localhost").expect("name");
    let conn = ClientConnection::new(Arc::clone(cfg), name).expect("client");
    let mut tls = StreamOwned::new(conn, tcp);
    tls.write_all(register(aor, local, "TLS", 1).as_bytes())
        .ok()?;
    tls.flush().ok()?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match tls.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    Some(parse_answer(&String::from_utf8_lossy(&got)).code)
}

const CERT_ONLY: &str = "[auth]\nmode = \"tls-client-cert\"\nrealm = \"example.com\"";

#[test]
fn tls_client_cert_mode_checks_the_certificate_identity_against_the_aor() {
    let s = setup("auth-cert-only", CERT_ONLY);
    // The certificate's sip:alice@Example.COM proves alice@example.com.
    assert_eq!(
        register_over_tls(&s, &s.alice, "sip:alice@example.com"),
        Some(301)
    );
    assert_eq!(
        register_over_tls(&s, &s.alice, "sip:bob@example.com"),
        Some(403)
    );
    assert_eq!(
        register_over_tls(&s, &s.client, "sip:alice@example.com"),
        Some(403),
        "no certificate"
    );
    // A certificate from a CA other than client_ca fails the handshake: no answer at all.
    assert_eq!(
        register_over_tls(&s, &s.stranger, "sip:alice@example.com"),
        None
    );
}

/// The same over TLS 1.2, where the client's second flight (its certificate, the key
/// exchange) is processed under the worker's handshake turns.
#[test]
fn tls_1_2_clients_prove_their_identity_the_same_way() {
    let s = setup("auth-cert-tls12", CERT_ONLY);
    let tls12 = [&rustls::version::TLS12];
    let (alice_cert, alice_key) = (s.dir.join("alice-cert.pem"), s.dir.join("alice-key.pem"));
    let alice = client_config_versions(&s.server_ca.pem, Some((&alice_cert, &alice_key)), &tls12);
    let anonymous = client_config_versions(&s.server_ca.pem, None, &tls12);
    for round in 0..3 {
        assert_eq!(
            register_over_tls(&s, &alice, "sip:alice@example.com"),
            Some(301),
            "round {round}"
        );
        assert_eq!(
            register_over_tls(&s, &anonymous, "sip:alice@example.com"),
            Some(403),
            "round {round}: no certificate"
        );
    }
}

#[test]
fn client_cert_required_refuses_clients_without_a_certificate_at_the_handshake() {
    let auth = format!("{CERT_ONLY}\n\n[admin]\naddress = \"127.0.0.1:0\"");
    let s = setup_with("auth-cert-required", &auth, "client_cert = \"required\"\n");
    let admin = s.director.listening.admin.expect("admin");
    let refused = || {
        http::metric(
            admin,
            "director_dataplane_dropped_total{reason=\"tls_handshake\"}",
        )
    };
    assert_eq!(
        register_over_tls(&s, &s.alice, "sip:alice@example.com"),
        Some(301)
    );
    // Without a certificate: no handshake, so no 403 either (with the default "optional" the
    // same client gets a 403, test above).
    assert_eq!(
        register_over_tls(&s, &s.client, "sip:alice@example.com"),
        None
    );
    http::wait_for("the refusal counted", Duration::from_secs(5), || {
        (refused() == 1).then_some(())
    });
    assert_eq!(
        register_over_tls(&s, &s.stranger, "sip:alice@example.com"),
        None
    );
    http::wait_for("both refusals counted", Duration::from_secs(5), || {
        (refused() == 2).then_some(())
    });
    // The director goes on serving certified clients.
    assert_eq!(
        register_over_tls(&s, &s.alice, "sip:alice@example.com"),
        Some(301)
    );
}

#[test]
fn digest_or_cert_challenges_clients_without_a_certificate() {
    let dir = scratch_dir("auth-either-users");
    let users = dir.join("users.toml");
    std::fs::write(
        &users,
        "[[user]]\naor = \"bob@example.com\"\npassword = \"pw\"\n",
    )
    .expect("users");
    let auth = format!(
        "[auth]\nmode = \"digest-or-cert\"\nrealm = \"example.com\"\ncredentials = \"{}\"",
        users.display()
    );
    let s = setup("auth-either", &auth);
    assert_eq!(
        register_over_tls(&s, &s.alice, "sip:alice@example.com"),
        Some(301)
    );
    assert_eq!(
        register_over_tls(&s, &s.client, "sip:bob@example.com"),
        Some(401)
    );
    // A certificate for someone else falls back to digest too.
    assert_eq!(
        register_over_tls(&s, &s.alice, "sip:bob@example.com"),
        Some(401)
    );
}

fn start_fails(tag: &str, config: &str) -> String {
    let dir = scratch_dir(tag);
    let file = dir.join("director.toml");
    std::fs::write(&file, config).expect("write config");
    let out = Command::new(bin("director"))
        .arg("--config")
        .arg(&file)
        .output()
        .expect("run director");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_missing_client_ca_stops_the_start_and_client_ca_needs_tls() {
    let dir = scratch_dir("auth-cert-missing-ca");
    let ca = TestCa::new(&dir, "server");
    let (cert, key) = ca.leaf(&dir, "director", Vec::new());
    let missing = dir.join("no-such-ca.pem");
    let pool =
        "[[pool]]\nid = \"p\"\n\n[[pool.registrar]]\nid = \"r\"\ncontact = \"sip:r.example.com\"\n";
    let config = format!(
        "[[listen]]\naddress = \"127.0.0.1:0\"\ntransport = \"tls\"\n\
         certificate = \"{}\"\nprivate_key = \"{}\"\nclient_ca = \"{}\"\n\n{pool}",
        cert.display(),
        key.display(),
        missing.display()
    );
    let err = start_fails("auth-cert-missing-ca-run", &config);
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("client_ca"), "{err}");

    let config = format!(
        "[[listen]]\naddress = \"127.0.0.1:0\"\ntransport = \"tcp\"\nclient_ca = \"ca.pem\"\n\n{pool}"
    );
    let err = start_fails("auth-cert-ca-on-tcp", &config);
    assert!(
        err.contains(
            ":4:13: field `listen[0].client_ca`: `client_ca` applies only to transport tls"
        ),
        "{err}"
    );
}

/// `loadgen register --client-cert` over TLS against `tls-client-cert`: 100 REGISTERs for the
/// one user its certificate names all get the 301; the same run with a certificate naming
/// someone else gets 100 403s (counted by loadgen as unexpected statuses).
#[test]
fn loadgen_presents_a_client_certificate() {
    let s = setup("auth-cert-loadgen", CERT_ONLY);
    let uri = |u: &str| SanType::URI(u.try_into().expect("ia5"));
    let user0 = s
        .client_ca
        .leaf(&s.dir, "user0", vec![uri("sip:user0@example.com")]);
    let other = s
        .client_ca
        .leaf(&s.dir, "user9", vec![uri("sip:user9@example.com")]);
    let run = |cert: &(PathBuf, PathBuf), json: &str| -> serde_json::Value {
        let json = s.dir.join(json);
        let status = Command::new(bin("loadgen"))
            .args(["register", "--transport", "tls", "--users", "1"])
            .args(["--domain", "example.com", "--user-prefix", "user"])
            .args(["--count", "100", "--connections", "1", "--expect", "301"])
            .args(["--tls-server-name", "localhost"])
            .arg("--ca")
            .arg(&s.server_ca.pem)
            .arg("--client-cert")
            .arg(&cert.0)
            .arg("--client-key")
            .arg(&cert.1)
            .arg("--json")
            .arg(&json)
            .arg("--target")
            .arg(s.director.listening.tls[0].to_string())
            .status()
            .expect("run loadgen");
        assert!(status.success(), "loadgen failed to run");
        let text = std::fs::read_to_string(&json).expect("loadgen JSON report");
        serde_json::from_str(&text).expect("JSON")
    };
    let report = run(&user0, "user0.json");
    assert_eq!(report["status"]["301"], 100, "{report:#}");
    assert_eq!(report["errors"]["unexpected_status"], 0, "{report:#}");
    let report = run(&other, "user9.json");
    assert_eq!(report["status"]["403"], 100, "{report:#}");
    assert_eq!(
        report["status"]["301"],
        serde_json::Value::Null,
        "{report:#}"
    );
    assert_eq!(report["errors"]["unexpected_status"], 100, "{report:#}");
}
