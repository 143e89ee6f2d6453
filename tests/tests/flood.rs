//! Floods and overload against the real binary: one source (127.0.0.5) sends REGISTERs over
//! UDP as fast as it can while `loadgen` registers from 127.0.0.1 at 1000/s; the flood is rate
//! limited (counted in `/metrics`, logged) and the legitimate run sees zero errors. An
//! overloaded worker (`max_rate_per_worker`) answers REGISTERs `503` + `Retry-After`: every
//! request gets an answer, none is silently dropped. `[limits]` added by a reload apply to a
//! director that started without any, and removing them again lifts them.

use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use system_tests::http::{get, post};
use system_tests::sip_client::{parse_answer, register, udp_exchange, udp_socket};
use system_tests::{bin, Director, Topology};

fn flood(target: SocketAddr, stop: Arc<AtomicBool>) -> u64 {
    let Ok(sock) = UdpSocket::bind("127.0.0.5:0") else {
        return 0;
    };
    let mut sent = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let msg = format!(
            "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.5:5060;branch=z9hG4bK{sent};rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:flood{}@example.com>;tag=f\r\nTo: <sip:flood{}@example.com>\r\n\
             Call-ID: flood{sent}\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n",
            sent % 1000,
            sent % 1000
        );
        if sock.send_to(msg.as_bytes(), target).is_ok() {
            sent += 1;
        }
    }
    sent
}

fn loadgen(target: SocketAddr, rate: &str, verify: Option<&std::path::Path>) -> serde_json::Value {
    let mut cmd = Command::new(bin("loadgen"));
    cmd.args([
        "register",
        "--target",
        &target.to_string(),
        "--transport",
        "udp",
    ])
    .args([
        "--rate",
        rate,
        "--duration",
        "4",
        "--users",
        "5000",
        "--quiet",
    ])
    .args(["--json", "-"])
    .stdout(Stdio::piped());
    if let Some(config) = verify {
        cmd.arg("--verify").arg(config);
    }
    let out = cmd.output().expect("run loadgen");
    serde_json::from_slice(&out.stdout).expect("loadgen JSON")
}

/// The value of the metric line starting with `prefix` (name and labels).
fn metric(text: &str, prefix: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn one_flooding_source_is_limited_and_everyone_else_served() {
    let topo = Topology::ring(3, 3, false);
    let config = topo.to_toml(&[("127.0.0.1:0", "udp")], 2)
        + "\n[admin]\naddress = \"127.0.0.1:0\"\n\n[limits]\nper_source_rate = 3000\n";
    let director = Director::start(&config);
    let admin = director.listening.admin.expect("admin announced");
    let stop = Arc::new(AtomicBool::new(false));
    let flooder = {
        let (stop, udp) = (Arc::clone(&stop), director.udp());
        std::thread::spawn(move || flood(udp, stop))
    };
    let json = loadgen(director.udp(), "1000", Some(&director.config_path));
    stop.store(true, Ordering::Relaxed);
    let sent = flooder.join().expect("flooder");

    let requests = json["requests"].as_u64().unwrap_or(0);
    assert!(requests > 3000, "only {requests} requests: {json}");
    assert_eq!(json["errors_total"].as_u64(), Some(0), "{json}");
    assert_eq!(json["responses"].as_u64(), Some(requests), "{json}");
    assert_eq!(json["verified"].as_u64(), Some(requests), "{json}");

    let (code, metrics) = get(admin, "/metrics");
    assert_eq!(code, 200);
    let limited = metric(&metrics, "director_rate_limited_total{transport=\"udp\"}")
        .expect("director_rate_limited_total{transport=\"udp\"} exported");
    assert!(
        limited > 0,
        "the flood was not limited: {sent} sent\n{metrics}"
    );
    assert!(limited < sent, "{limited} limited of {sent} sent");
    assert_eq!(
        metric(&metrics, "director_rate_limited_total{transport=\"tcp\"}"),
        Some(0)
    );
    // Never silent, never a log line per message.
    let log = director.log_until("rate limited", Duration::from_secs(5));
    let lines = log.iter().filter(|l| l.contains("rate limited")).count();
    assert!(lines >= 1, "no rate-limited log line");
    assert!(
        (lines as u64) < limited,
        "{lines} log lines for {limited} drops"
    );
    assert!(log
        .iter()
        .any(|l| l.contains("rate limited") && l.contains("127.0.0.5")));
    assert!(director.stop().success());
}

#[test]
fn an_overloaded_worker_answers_503_with_retry_after_instead_of_dropping() {
    let topo = Topology::ring(2, 2, false);
    let config = topo.to_toml(&[("127.0.0.1:0", "udp")], 1)
        + "\n[admin]\naddress = \"127.0.0.1:0\"\n\n[limits]\nmax_rate_per_worker = 200\nretry_after_s = 3\n";
    let director = Director::start(&config);
    let admin = director.listening.admin.expect("admin announced");
    let json = loadgen(director.udp(), "1000", None);

    let requests = json["requests"].as_u64().unwrap_or(0);
    assert!(requests > 3000, "only {requests} requests: {json}");
    // Every request got an answer: a 301 while the worker had capacity, a 503 otherwise.
    assert_eq!(json["responses"].as_u64(), Some(requests), "{json}");
    assert_eq!(json["errors"]["timeout"].as_u64(), Some(0), "{json}");
    let status = |c: &str| json["status"][c].as_u64().unwrap_or(0);
    assert!(status("301") > 0, "{json}");
    assert!(status("503") > 0, "{json}");
    assert_eq!(status("301") + status("503"), requests, "{json}");

    let (_, metrics) = get(admin, "/metrics");
    let rejected = metric(
        &metrics,
        "director_overload_rejected_total{transport=\"udp\"}",
    )
    .expect("director_overload_rejected_total exported");
    assert!(rejected >= status("503"), "{rejected}\n{metrics}");
    director.log_until("overloaded", Duration::from_secs(5));
    assert!(director.stop().success());
}

/// The status codes of `n` REGISTERs sent one after another from one UDP socket.
fn burst(sock: &UdpSocket, to: SocketAddr, first: u64, n: u64) -> Vec<u16> {
    let local = sock.local_addr().expect("local address");
    (first..first + n)
        .map(|i| {
            let msg = register(&format!("sip:burst{i}@example.com"), local, "UDP", i);
            let raw = udp_exchange(sock, to, msg.as_bytes()).expect("an answer to every REGISTER");
            parse_answer(&raw).code
        })
        .collect()
}

#[test]
fn limits_added_by_a_reload_apply_and_removing_them_lifts_them() {
    let topo = Topology::ring(2, 2, false);
    let base =
        topo.to_toml(&[("127.0.0.1:0", "udp")], 1) + "\n[admin]\naddress = \"127.0.0.1:0\"\n";
    let director = Director::start(&base);
    let admin = director.listening.admin.expect("admin announced");
    let sock = udp_socket();

    let codes = burst(&sock, director.udp(), 0, 10);
    assert!(codes.iter().all(|&c| c == 301), "no limits: {codes:?}");

    let tight = format!(
        "{base}\n[limits]\nper_source_rate = 1\nper_source_burst = 3\nflood_action = \"503\"\n"
    );
    std::fs::write(&director.config_path, tight).expect("write config");
    let (code, body) = post(admin, "/reload");
    assert_eq!(code, 200, "{body}");
    let codes = burst(&sock, director.udp(), 10, 10);
    let refused = codes.iter().filter(|&&c| c == 503).count();
    assert!(refused >= 6, "per_source_rate = 1, burst 3: {codes:?}");
    assert!(codes.iter().all(|&c| c == 301 || c == 503), "{codes:?}");
    assert!(codes[..3].iter().all(|&c| c == 301), "{codes:?}");

    std::fs::write(&director.config_path, &base).expect("write config");
    let (code, body) = post(admin, "/reload");
    assert_eq!(code, 200, "{body}");
    let codes = burst(&sock, director.udp(), 20, 10);
    assert!(codes.iter().all(|&c| c == 301), "limits removed: {codes:?}");

    let (_, metrics) = get(admin, "/metrics");
    let limited = metric(&metrics, "director_rate_limited_total{transport=\"udp\"}");
    assert_eq!(limited, Some(refused as u64), "{metrics}");
    // Plain text: the log goes to a pipe (tests/tests/cli.rs checks it has no colour codes).
    let log = director.log_until_count("limits changed", 2, Duration::from_secs(5));
    let changes: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("limits changed"))
        .collect();
    assert_eq!(changes.len(), 2, "one info line per change: {changes:?}");
    assert!(
        changes[0].contains("from=off to=per_source_rate=1"),
        "{changes:?}"
    );
    assert!(changes[1].contains(" to=off"), "{changes:?}");
    assert!(director.stop().success());
}
