//! Faults against the real binary, each showing what a user sees and that nothing else is
//! lost: a director restarted under load (clients retransmit across the gap), unusable TLS
//! files at start (exit status 2 naming the file), and a UDP socket blasted far beyond what it
//! can absorb (the kernel drops and counts the excess; the director answers normally at once
//! and its memory does not grow). Registrar loss is `health_failover.rs`, a certificate broken
//! on SIGHUP is `tls_reload.rs`, a broken file on reload is `admin_reload.rs`.

use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::time::Duration;

use system_tests::process::scratch_dir;
use system_tests::{bin, Director, Topology};

fn loadgen(target: SocketAddr, duration: &str, verify: &std::path::Path) -> std::process::Child {
    Command::new(bin("loadgen"))
        .args([
            "register",
            "--target",
            &target.to_string(),
            "--transport",
            "udp",
        ])
        .args(["--rate", "1000", "--duration", duration, "--users", "5000"])
        .args(["--timeout-ms", "8000", "--quiet", "--json", "-", "--verify"])
        .arg(verify)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start loadgen")
}

fn summary(child: std::process::Child) -> serde_json::Value {
    let out = child.wait_with_output().expect("loadgen output");
    serde_json::from_slice(&out.stdout).expect("loadgen JSON")
}

#[test]
fn a_restart_under_load_loses_only_what_retransmissions_cannot_cover() {
    let topo = Topology::ring(3, 3, false);
    let first = Director::start(&topo.to_toml(&[("127.0.0.1:0", "udp")], 2));
    let addr = first.udp();
    let run = loadgen(addr, "6", &first.config_path);
    std::thread::sleep(Duration::from_secs(2));
    // SIGTERM, then a new director on the same port (what systemd's restart does).
    assert!(first.stop().success());
    let listen = addr.to_string();
    let second = Director::start(&topo.to_toml(&[(listen.as_str(), "udp")], 2));
    assert_eq!(second.udp(), addr);
    let json = summary(run);

    let requests = json["requests"].as_u64().unwrap_or(0);
    let responses = json["responses"].as_u64().unwrap_or(0);
    let e = &json["errors"];
    assert!(requests > 5000, "{json}");
    // Every answer is right, before and after the restart: same topology, same placement.
    assert_eq!(json["verified"].as_u64(), Some(responses), "{json}");
    assert_eq!(e["verify_mismatch"].as_u64(), Some(0), "{json}");
    assert_eq!(e["unexpected_status"].as_u64(), Some(0), "{json}");
    assert_eq!(e["parse_error"].as_u64(), Some(0), "{json}");
    assert_eq!(e["unmatched"].as_u64(), Some(0), "{json}");
    // What the gap cost: requests sent while no director listened were retransmitted (timer E)
    // and answered by the new one, or timed out; nothing else went missing.
    assert!(json["retransmits"].as_u64().unwrap_or(0) > 0, "{json}");
    let lost = e["timeout"].as_u64().unwrap_or(0) + e["abandoned"].as_u64().unwrap_or(0);
    assert_eq!(responses + lost, requests, "{json}");
    assert!(lost < requests / 10, "{json}");
    // The new director answered the load after the restart.
    assert!(responses > requests / 2, "{json}");
    eprintln!("restart under load: {json}");
    assert!(second.stop().success());
}

#[test]
fn missing_or_garbage_certificates_stop_the_start_with_status_2_naming_the_file() {
    let dir = scratch_dir("faults-tls");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let topo = Topology::ring(2, 2, false);
    let config = topo.to_toml(&[], 1).replacen(
        "[[pool]]",
        &format!(
            "[[listen]]\naddress = \"127.0.0.1:0\"\ntransport = \"tls\"\ncertificate = \"{}\"\n\
             private_key = \"{}\"\n\n[[pool]]",
            cert.display(),
            key.display()
        ),
        1,
    );
    let file = dir.join("director.toml");
    std::fs::write(&file, config).unwrap();
    let start = || {
        Command::new(bin("director"))
            .arg("--config")
            .arg(&file)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };

    let out = start();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cert.pem"),
        "missing file not named: {stderr}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"));

    std::fs::write(&cert, "not a certificate").unwrap();
    std::fs::write(&key, "not a key").unwrap();
    let out = start();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cert.pem") || stderr.contains("key.pem"),
        "garbage file not named: {stderr}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"));
}

/// The kernel's drop count of the UDP sockets bound to `port` (`/proc/net/udp`, all workers'
/// SO_REUSEPORT sockets), if readable.
fn kernel_drops(port: u16) -> Option<u64> {
    let table = std::fs::read_to_string("/proc/net/udp").ok()?;
    let port = format!(":{port:04X}");
    let drops = table
        .lines()
        .skip(1)
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|a| a.ends_with(&port))
        })
        .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
        .sum();
    Some(drops)
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// 200 000 REGISTERs from 4 sockets as fast as they go (answers go to a socket nobody reads).
fn blast(target: SocketAddr) -> u64 {
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let Ok(sock) = UdpSocket::bind("127.0.0.7:0") else {
                    return 0;
                };
                let mut sent = 0u64;
                for n in 0..50_000u64 {
                    let msg = format!(
                        "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.7:9;branch=z9hG4bK{t}x{n}\r\n\
                         From: <sip:b{n}@example.com>;tag=b\r\nTo: <sip:b{n}@example.com>\r\n\
                         Call-ID: blast{t}-{n}\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"
                    );
                    if sock.send_to(msg.as_bytes(), target).is_ok() {
                        sent += 1;
                    }
                }
                sent
            })
        })
        .collect();
    threads.into_iter().filter_map(|t| t.join().ok()).sum()
}

#[test]
fn a_blasted_udp_socket_drops_the_excess_then_answers_normally_without_growing() {
    let topo = Topology::ring(3, 3, false);
    let config =
        topo.to_toml(&[("127.0.0.1:0", "udp")], 1) + "\n[admin]\naddress = \"127.0.0.1:0\"\n";
    let director = Director::start(&config);
    let admin = director.listening.admin.expect("admin announced");
    let udp = director.udp();
    let received = || {
        let (_, m) = system_tests::http::get(admin, "/metrics");
        m.lines()
            .find(|l| l.starts_with("director_dataplane_received_total "))
            .and_then(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };

    // A first blast warms every buffer; the second one shows whether memory grows with load.
    let sent_first = blast(udp);
    std::thread::sleep(Duration::from_millis(500));
    let rss_before = rss_kib(director.pid()).expect("VmRSS");
    let drops_before = kernel_drops(udp.port()).unwrap_or(0);
    let received_before = received();
    let sent = blast(udp);
    std::thread::sleep(Duration::from_millis(500));
    let rss_after = rss_kib(director.pid()).expect("VmRSS");
    let drops = kernel_drops(udp.port()).unwrap_or(0) - drops_before;
    let got = received() - received_before;
    eprintln!(
        "blast: first {sent_first}, second {sent} sent, {got} received, {drops} dropped by the \
         kernel; VmRSS {rss_before} -> {rss_after} KiB"
    );
    assert_eq!(sent, 200_000);
    // Everything sent was either received or dropped (and counted) by the kernel.
    assert!(got <= sent);
    assert!(got > 0);
    if got < sent {
        assert!(drops > 0, "{} datagrams lost without a count", sent - got);
    }
    assert!(
        rss_after <= rss_before + 16 * 1024,
        "{rss_before} -> {rss_after} KiB"
    );

    // Right after: a normal run is served in full.
    let json = summary(loadgen(udp, "2", &director.config_path));
    let requests = json["requests"].as_u64().unwrap_or(0);
    assert!(requests > 1500, "{json}");
    assert_eq!(json["errors_total"].as_u64(), Some(0), "{json}");
    assert_eq!(json["verified"].as_u64(), Some(requests), "{json}");
    assert!(director.stop().success());
}
