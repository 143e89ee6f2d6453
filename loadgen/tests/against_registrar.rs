//! `loadgen register`/`options` against a `loadgen registrar` farm over UDP, TCP and TLS:
//! every request answered 200, counts equal, the JSON summary is consistent; mute/unmute
//! turns answers into timeouts and back.

mod common;

use common::{load, Server};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn udp_register_all_200_and_json_consistent() {
    let reg = Server::start(&["registrar", "--listen", "127.0.0.1:0"], 1);
    let r = load(
        &[
            "register",
            "--target",
            &reg.addrs[0],
            "--count",
            "3000",
            "--users",
            "500",
            "--threads",
            "2",
            "--connections",
            "4",
        ],
        LIMIT,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.n("requests"), 3000);
    assert_eq!(r.n("responses"), 3000);
    assert_eq!(r.status(200), 3000);
    assert_eq!(r.n("errors_total"), 0, "{}", r.json);
    assert_eq!(r.json["classes"]["2xx"].as_u64(), Some(3000));
    r.assert_consistent();
    let counters = reg.stop();
    assert!(
        counters.contains("received 3000 answered 3000"),
        "{counters}"
    );
}

/// `--threads 3`: three SO_REUSEPORT sockets on one port share the listener's counters; four
/// client sockets spread over them, and every request is answered once.
#[test]
fn udp_registrar_threads_share_one_port_and_counters() {
    let reg = Server::start(
        &["registrar", "--listen", "127.0.0.1:0", "--threads", "3"],
        1,
    );
    let r = load(
        &[
            "register",
            "--target",
            &reg.addrs[0],
            "--count",
            "4000",
            "--users",
            "500",
            "--threads",
            "2",
            "--connections",
            "8",
        ],
        LIMIT,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.status(200), 4000, "{}", r.json);
    assert_eq!(r.n("errors_total"), 0, "{}", r.json);
    assert_eq!(r.n("retransmits"), 0, "{}", r.json);
    r.assert_consistent();
    let counters = reg.stop();
    assert!(
        counters.contains("received 4000 answered 4000"),
        "{counters}"
    );
}

/// `--reply-sockets 3`: answers to an unconnected socket come from ports other than the
/// listener's, taking turns, so a proxy's SO_REUSEPORT workers share them; each request is
/// still answered once.
#[test]
fn udp_registrar_reply_sockets_answer_from_other_ports() {
    let reg = Server::start(
        &[
            "registrar",
            "--listen",
            "127.0.0.1:0",
            "--reply-sockets",
            "3",
        ],
        1,
    );
    let listener: std::net::SocketAddr = reg.addrs[0].parse().expect("addr");
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut ports = std::collections::BTreeSet::new();
    let mut buf = [0u8; 4096];
    for n in 0..12 {
        let req = format!(
            "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-{n}\r\n\
             From: <sip:u{n}@example.com>;tag=1\r\nTo: <sip:u{n}@example.com>\r\n\
             Call-ID: rs{n}\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"
        );
        sock.send_to(req.as_bytes(), listener).expect("send");
        // one request at a time: each arrives in a batch of its own, and the batches take turns
        let (len, from) = sock.recv_from(&mut buf).expect("an answer");
        let answer = String::from_utf8_lossy(&buf[..len]);
        assert!(answer.starts_with("SIP/2.0 200 OK\r\n"), "{answer}");
        assert!(answer.contains(&format!("Call-ID: rs{n}\r\n")), "{answer}");
        assert_ne!(from.port(), listener.port(), "answered from the listener");
        ports.insert(from.port());
    }
    assert_eq!(ports.len(), 3, "answers came from {ports:?}");
    let counters = reg.stop();
    assert!(counters.contains("received 12 answered 12"), "{counters}");
}

#[test]
fn udp_options_all_200() {
    let reg = Server::start(
        &[
            "registrar",
            "--listen",
            "127.0.0.1:0",
            "--listen",
            "127.0.0.1:0",
        ],
        2,
    );
    for addr in &reg.addrs {
        let r = load(
            &[
                "options",
                "--target",
                addr,
                "--count",
                "500",
                "--in-flight",
                "8",
            ],
            LIMIT,
        );
        assert_eq!(r.status(200), 500, "{}", r.json);
        assert_eq!(r.n("errors_total"), 0, "{}", r.json);
        r.assert_consistent();
    }
}

#[test]
fn expect_turns_200_into_unexpected_status() {
    let reg = Server::start(&["registrar", "--listen", "127.0.0.1:0"], 1);
    let r = load(
        &[
            "register",
            "--target",
            &reg.addrs[0],
            "--count",
            "100",
            "--expect",
            "301",
        ],
        LIMIT,
    );
    assert_eq!(r.status(200), 100);
    assert_eq!(r.err("unexpected_status"), 100);
    r.assert_consistent();
}

#[test]
fn tcp_register_all_200_over_kept_alive_connections() {
    let reg = Server::start(
        &["registrar", "--listen", "127.0.0.1:0", "--transport", "tcp"],
        1,
    );
    let r = load(
        &[
            "register",
            "--transport",
            "tcp",
            "--target",
            &reg.addrs[0],
            "--count",
            "2000",
            "--connections",
            "4",
        ],
        LIMIT,
    );
    assert_eq!(r.status(200), 2000, "{}", r.json);
    assert_eq!(r.n("errors_total"), 0, "{}", r.json);
    assert_eq!(r.n("connections"), 4, "{}", r.json);
    assert_eq!(r.n("retransmits"), 0);
    r.assert_consistent();
}

#[test]
fn tls_register_kept_alive_and_new_connection_per_request() {
    let reg = Server::start(
        &["registrar", "--listen", "127.0.0.1:0", "--transport", "tls"],
        1,
    );
    let r = load(
        &[
            "register",
            "--transport",
            "tls",
            "--tls-insecure",
            "--target",
            &reg.addrs[0],
            "--count",
            "500",
        ],
        LIMIT,
    );
    assert_eq!(r.status(200), 500, "{}", r.json);
    assert_eq!(r.n("errors_total"), 0, "{}", r.json);
    assert_eq!(r.n("connections"), 1);
    r.assert_consistent();
    let r = per_request_tls(&reg.addrs[0], 40, 4, &[]);
    assert_eq!(r.status(200), 40, "{}", r.json);
    assert_eq!(r.n("connections"), 40, "{}", r.json);
    assert_eq!(r.n("errors_total"), 0, "{}", r.json);
    // The server keeps sessions, so after the first handshake of each slot the client resumes
    // (a slot's first may resume too, when another slot's session is already cached).
    let resumed = r.n("resumed_handshakes");
    assert!(
        (36..=39).contains(&resumed),
        "{resumed} resumed: {}",
        r.json
    );
    assert_eq!(r.n("tls12_handshakes"), 0, "{}", r.json);
    r.assert_consistent();
    // Limited to TLS 1.2, every handshake is one, and they resume TLS 1.2 sessions.
    let r = per_request_tls(&reg.addrs[0], 40, 4, &["--tls-version", "1.2"]);
    assert_eq!(r.status(200), 40, "{}", r.json);
    assert_eq!(r.n("errors_total"), 0, "{}", r.json);
    assert_eq!(r.n("tls12_handshakes"), 40, "{}", r.json);
    let resumed = r.n("resumed_handshakes");
    assert!(
        (36..=39).contains(&resumed),
        "{resumed} resumed: {}",
        r.json
    );
    r.assert_consistent();
    let r = per_request_tls(&reg.addrs[0], 8, 4, &["--tls-version", "1.3"]);
    assert_eq!(r.status(200), 8, "{}", r.json);
    assert_eq!(r.n("tls12_handshakes"), 0, "{}", r.json);
    // With many handshakes in flight too: more than the 8 tickets per server that rustls'
    // own client cache keeps (with it, most of these became full handshakes).
    let r = per_request_tls(&reg.addrs[0], 240, 24, &[]);
    assert_eq!(r.status(200), 240, "{}", r.json);
    assert_eq!(r.n("connections"), 240, "{}", r.json);
    assert!(r.n("resumed_handshakes") >= 240 - 24, "{}", r.json);
    r.assert_consistent();
    // Without resumption every handshake is a full one.
    let r = per_request_tls(&reg.addrs[0], 40, 4, &["--tls-no-resumption"]);
    assert_eq!(r.status(200), 40, "{}", r.json);
    assert_eq!(r.n("connections"), 40, "{}", r.json);
    assert_eq!(r.n("resumed_handshakes"), 0, "{}", r.json);
    assert_eq!(r.n("errors_total"), 0, "{}", r.json);
    r.assert_consistent();
    // Handshakes that do not take turns reach the same.
    let r = per_request_tls(&reg.addrs[0], 40, 4, &["--no-handshake-turns"]);
    assert_eq!(r.status(200), 40, "{}", r.json);
    assert_eq!(r.n("connections"), 40, "{}", r.json);
    assert_eq!(r.n("errors_total"), 0, "{}", r.json);
    r.assert_consistent();
}

/// `count` REGISTERs over TLS to `target`, each on a new connection, `in_flight` at a time.
fn per_request_tls(target: &str, count: u32, in_flight: u32, extra: &[&str]) -> common::Run {
    let (count, in_flight) = (count.to_string(), in_flight.to_string());
    let mut args = vec![
        "register",
        "--transport",
        "tls",
        "--tls-insecure",
        "--target",
        target,
        "--count",
        &count,
        "--in-flight",
        &in_flight,
        "--tls-new-connection-per-request",
    ];
    args.extend_from_slice(extra);
    load(&args, LIMIT)
}

#[test]
fn tls_without_trust_is_refused_up_front() {
    let r = std::process::Command::new(common::bin())
        .args(["register", "--transport", "tls", "--count", "1"])
        .output()
        .expect("run");
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("--ca"));
}

#[test]
fn mute_gives_timeouts_with_retransmits_and_unmute_recovers() {
    let reg = Server::start(
        &[
            "registrar",
            "--listen",
            "127.0.0.1:0",
            "--control",
            "127.0.0.1:0",
        ],
        1,
    );
    let target = reg.addrs[0].clone();
    let fast = [
        "--t1-ms",
        "20",
        "--t2-ms",
        "80",
        "--count",
        "20",
        "--in-flight",
        "10",
    ];
    assert_eq!(reg.control(&format!("mute {target}")), "ok mute 1");
    let mut args = vec!["register", "--target", target.as_str()];
    args.extend_from_slice(&fast);
    let r = load(&args, LIMIT);
    assert_eq!(r.err("timeout"), 20, "{}", r.json);
    assert_eq!(r.n("responses"), 0);
    assert!(r.n("retransmits") >= 20 * 5, "{}", r.json);
    r.assert_consistent();

    assert_eq!(reg.control("unmute all"), "ok unmute 1");
    let r = load(&args, LIMIT);
    assert_eq!(r.status(200), 20, "{}", r.json);
    assert_eq!(r.n("errors_total"), 0, "{}", r.json);

    // Signals: SIGUSR1 mutes all, SIGUSR2 unmutes all.
    reg.signal("USR1");
    std::thread::sleep(Duration::from_millis(200));
    let mut no_rtx = args.clone();
    no_rtx.push("--no-retransmit");
    let r = load(&no_rtx, LIMIT);
    assert_eq!(r.err("timeout"), 20, "{}", r.json);
    assert_eq!(r.n("retransmits"), 0, "{}", r.json);
    reg.signal("USR2");
    std::thread::sleep(Duration::from_millis(200));
    let r = load(&args, LIMIT);
    assert_eq!(r.status(200), 20, "{}", r.json);
    let counters = reg.stop();
    assert!(counters.contains("dropped_muted"), "{counters}");
}

#[test]
fn mute_during_a_run_counts_timeouts_then_recovers() {
    let reg = Server::start(
        &[
            "registrar",
            "--listen",
            "127.0.0.1:0",
            "--control",
            "127.0.0.1:0",
        ],
        1,
    );
    let target = reg.addrs[0].clone();
    let child = std::thread::spawn(move || {
        load(
            &[
                "register",
                "--target",
                &target,
                "--rate",
                "400",
                "--duration",
                "2.4",
                "--t1-ms",
                "20",
                "--t2-ms",
                "40",
                "--timeout-ms",
                "200",
            ],
            LIMIT,
        )
    });
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(reg.control("mute all"), "ok mute 1");
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(reg.control("unmute all"), "ok unmute 1");
    let r = child.join().expect("load thread");
    r.assert_consistent();
    let (ok, to) = (r.status(200), r.err("timeout"));
    assert!(to >= 100, "timeouts while muted: {}", r.json);
    assert!(ok >= 400, "answers before and after: {}", r.json);
}
