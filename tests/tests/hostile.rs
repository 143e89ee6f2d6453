//! Hostile traffic during a real load: while `loadgen` registers users over UDP, TCP and TLS
//! (every 301 checked with `--verify`), an attacker floods the same director with the RFC 4475
//! invalid messages, truncated and bit-flipped copies of them and random garbage, over UDP, TCP
//! and TLS (including half-sent messages left hanging, and plain-text garbage thrown at the TLS
//! port). The legitimate runs must see zero errors.

use std::io::Write;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConnection, StreamOwned};
use system_tests::process::scratch_dir;
use system_tests::{bin, workspace_root, Director, Topology};

/// Where the attacker aims, and the certificate its TLS client trusts.
struct Targets {
    udp: SocketAddr,
    tcp: SocketAddr,
    tls: SocketAddr,
    tls_client: Arc<rustls::ClientConfig>,
}

fn tls_client(cert: CertificateDer<'static>) -> Option<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).ok()?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Some(Arc::new(cfg))
}

/// Completes a TLS handshake with the director and writes `bytes` inside the session.
fn tls_send(t: &Targets, bytes: &[u8]) -> Option<StreamOwned<ClientConnection, TcpStream>> {
    let tcp = TcpStream::connect(t.tls).ok()?;
    tcp.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let name = ServerName::try_from("localhost").ok()?;
    let conn = ClientConnection::new(Arc::clone(&t.tls_client), name).ok()?;
    let mut tls = StreamOwned::new(conn, tcp);
    tls.write_all(bytes).ok()?;
    tls.flush().ok()?;
    Some(tls)
}

fn corpus() -> Vec<Vec<u8>> {
    let dir = std::env::var_os("RFC4475_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("conformance/rfc4475"));
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("manifest");
    manifest
        .lines()
        .skip(1)
        .filter(|l| !l.contains("\tvalid\t"))
        .filter_map(|l| l.split('\t').next())
        .map(|f| std::fs::read(dir.join(f)).expect("corpus file"))
        .collect()
}

/// xorshift64*: deterministic noise without a dependency.
struct Noise(u64);
impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn mangle(&mut self, msg: &[u8]) -> Vec<u8> {
        let mut m = msg.to_vec();
        match self.next() % 4 {
            0 => m.truncate((self.next() as usize) % m.len().max(1)),
            1 => {
                for _ in 0..8 {
                    let i = (self.next() as usize) % m.len().max(1);
                    if let Some(b) = m.get_mut(i) {
                        *b ^= 1 << (self.next() % 8);
                    }
                }
            }
            2 => {
                m = (0..(self.next() % 1500))
                    .map(|_| self.next() as u8)
                    .collect()
            }
            _ => {}
        }
        m
    }
}

fn attack(t: Targets, stop: Arc<AtomicBool>) -> u64 {
    let (udp, tcp) = (t.udp, t.tcp);
    let corpus = corpus();
    let sock = UdpSocket::bind("127.0.0.9:0").expect("attacker socket");
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    let mut sent = 0u64;
    let mut hanging = Vec::new();
    let mut hanging_tls = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        for msg in &corpus {
            let bytes = noise.mangle(msg);
            let _ = sock.send_to(&bytes, udp);
            sent += 1;
        }
        // Over TCP: a mangled message, and a connection left with half a message (slowloris).
        if let Ok(mut s) = TcpStream::connect(tcp) {
            let msg = &corpus[(noise.next() as usize) % corpus.len()];
            let _ = s.write_all(&noise.mangle(msg));
            sent += 1;
        }
        if let Ok(mut s) = TcpStream::connect(tcp) {
            let _ = s.write_all(b"REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.9");
            hanging.push(s);
        }
        // Over TLS: a mangled message inside a real session, a half message left hanging, and
        // plain-text garbage where a ClientHello should be.
        let msg = &corpus[(noise.next() as usize) % corpus.len()];
        if tls_send(&t, &noise.mangle(msg)).is_some() {
            sent += 1;
        }
        if let Some(s) = tls_send(&t, b"REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/TLS") {
            hanging_tls.push(s);
        }
        if let Ok(mut s) = TcpStream::connect(t.tls) {
            let _ = s.write_all(&noise.mangle(msg));
            sent += 1;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    sent
}

fn loadgen(target: SocketAddr, transport: &str, config: &std::path::Path) -> std::process::Child {
    let mut cmd = Command::new(bin("loadgen"));
    cmd.args([
        "register",
        "--target",
        &target.to_string(),
        "--transport",
        transport,
    ])
    .args([
        "--rate",
        "1500",
        "--duration",
        "4",
        "--users",
        "5000",
        "--quiet",
        "--json",
        "-",
    ])
    .arg("--verify")
    .arg(config);
    if transport == "tls" {
        cmd.arg("--tls-insecure");
    }
    cmd.stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start loadgen")
}

fn check(child: std::process::Child, what: &str) {
    let out = child.wait_with_output().expect("loadgen output");
    assert!(out.status.success(), "loadgen {what} failed");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("loadgen JSON");
    let requests = json["requests"].as_u64().unwrap_or(0);
    assert!(requests > 3000, "{what}: only {requests} requests: {json}");
    assert_eq!(json["errors_total"].as_u64(), Some(0), "{what}: {json}");
    assert_eq!(json["responses"].as_u64(), Some(requests), "{what}: {json}");
    assert_eq!(
        json["verified"].as_u64(),
        Some(requests),
        "{what}: every 301 verified: {json}"
    );
}

#[test]
fn garbage_and_torture_messages_do_not_cost_legitimate_users_anything() {
    let topo = Topology::ring(3, 3, false);
    let dir = scratch_dir("hostile-tls");
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("rcgen");
    std::fs::write(dir.join("cert.pem"), ck.cert.pem()).expect("write cert");
    std::fs::write(dir.join("key.pem"), ck.signing_key.serialize_pem()).expect("write key");
    let tls_line = format!(
        "transport = \"tls\"\ncertificate = \"{}\"\nprivate_key = \"{}\"\n",
        dir.join("cert.pem").display(),
        dir.join("key.pem").display()
    );
    let listeners = [
        ("127.0.0.1:0", "udp"),
        ("127.0.0.1:0", "tcp"),
        ("127.0.0.1:0", "tls"),
    ];
    let config = topo
        .to_toml(&listeners, 2)
        .replace("transport = \"tls\"\n", &tls_line);
    let director = Director::start(&config);
    let targets = Targets {
        udp: director.udp(),
        tcp: director.tcp(),
        tls: director.listening.tls[0],
        tls_client: tls_client(ck.cert.der().clone()).expect("client config"),
    };
    let (udp, tcp, tls) = (targets.udp, targets.tcp, targets.tls);
    let stop = Arc::new(AtomicBool::new(false));
    let attacker = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || attack(targets, stop))
    };
    let udp_run = loadgen(udp, "udp", &director.config_path);
    let tcp_run = loadgen(tcp, "tcp", &director.config_path);
    let tls_run = loadgen(tls, "tls", &director.config_path);
    check(udp_run, "udp");
    check(tcp_run, "tcp");
    check(tls_run, "tls");
    stop.store(true, Ordering::Relaxed);
    let sent = attacker.join().expect("attacker");
    assert!(sent > 1000, "attacker sent only {sent}");
    assert!(director.stop().success());
}
