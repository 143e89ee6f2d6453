//! Hostile traffic during a real load: while `loadgen` registers users over UDP and TCP (every
//! 301 checked with `--verify`), an attacker floods the same director with the RFC 4475 invalid
//! messages, truncated and bit-flipped copies of them and random garbage, over UDP and TCP
//! (including half-sent messages left hanging). The legitimate run must see zero errors.

use std::io::Write;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use system_tests::{bin, workspace_root, Director, Topology};

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

fn attack(udp: SocketAddr, tcp: SocketAddr, stop: Arc<AtomicBool>) -> u64 {
    let corpus = corpus();
    let sock = UdpSocket::bind("127.0.0.9:0").expect("attacker socket");
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    let mut sent = 0u64;
    let mut hanging = Vec::new();
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
        std::thread::sleep(Duration::from_millis(5));
    }
    sent
}

fn loadgen(target: SocketAddr, transport: &str, config: &std::path::Path) -> std::process::Child {
    Command::new(bin("loadgen"))
        .args([
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
        .arg(config)
        .stdout(std::process::Stdio::piped())
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
    let director =
        Director::start(&topo.to_toml(&[("127.0.0.1:0", "udp"), ("127.0.0.1:0", "tcp")], 2));
    let (udp, tcp) = (director.udp(), director.tcp());
    let stop = Arc::new(AtomicBool::new(false));
    let attacker = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || attack(udp, tcp, stop))
    };
    let udp_run = loadgen(udp, "udp", &director.config_path);
    let tcp_run = loadgen(tcp, "tcp", &director.config_path);
    check(udp_run, "udp");
    check(tcp_run, "tcp");
    stop.store(true, Ordering::Relaxed);
    let sent = attacker.join().expect("attacker");
    assert!(sent > 1000, "attacker sent only {sent}");
    assert!(director.stop().success());
}
