//! The director's answers on the wire, over UDP and TCP, from a plain client: the exact shape of
//! the 301 (DESIGN.md), OPTIONS to itself, malformed input, and agreement between two
//! independent instances started on the same configuration.

use std::net::SocketAddr;

use system_tests::sip_client::{
    parse_answer, read_stream_message, register, tcp_connect, tcp_send, udp_exchange, udp_socket,
};
use system_tests::{oracle, Director, Topology};

fn topology() -> Topology {
    let mut t = Topology::ring(2, 3, false);
    t.user_homing
        .push(("vip@example.com".into(), "pool2".into()));
    t
}

fn start(topo: &Topology) -> Director {
    Director::start(&topo.to_toml(&[("127.0.0.1:0", "udp"), ("127.0.0.1:0", "tcp")], 2))
}

const AORS: [&str; 8] = [
    "sip:alice@example.com",
    "sip:Bob@EXAMPLE.com",
    "sips:alice@example.com:5061",
    "sip:%61lice@example.com",
    "sip:vip@example.com",
    "sip:user;par=u%40example.net@example.com",
    "sip:example.org",
    "sip:carol@[2001:db8::1]",
];

#[test]
fn register_over_udp_gets_the_301_of_the_design() {
    let topo = topology();
    let director = start(&topo);
    let sock = udp_socket();
    let local: SocketAddr = sock.local_addr().unwrap();
    for (n, aor) in AORS.iter().enumerate() {
        let req = register(aor, local, "UDP", n as u64);
        let raw = udp_exchange(&sock, director.udp(), req.as_bytes()).expect("an answer");
        let a = parse_answer(&raw);
        assert_eq!(
            (a.code, a.reason.as_str()),
            (301, "Redirect request to Home Server"),
            "{raw}"
        );
        let (primary, backup) = oracle::expected_contacts(&topo, aor);
        let want: Vec<(String, String)> = std::iter::once((primary, "0.7".to_string()))
            .chain(backup.map(|b| (b, "0.3".to_string())))
            .collect();
        assert_eq!(a.contacts, want, "contacts for {aor}");
        assert_eq!(a.header("expires"), Some("1800"));
        assert_eq!(a.header("content-length"), Some("0"));
        assert_eq!(a.header("call-id"), Some(format!("call-{n}@test").as_str()));
        assert_eq!(a.header("cseq"), Some(format!("{n} REGISTER").as_str()));
        assert_eq!(a.header("from"), Some(format!("<{aor}>;tag=f{n}").as_str()));
        let to = a.header("to").expect("To");
        assert!(
            to.starts_with(&format!("<{aor}>;tag=")) && to.len() > aor.len() + 7,
            "{to}"
        );
        let via = a.header("via").expect("Via");
        assert_eq!(
            via,
            format!(
                "SIP/2.0/UDP {local};branch=z9hG4bK-t{n};received=127.0.0.1;rport={}",
                local.port()
            )
        );
    }
    // A retransmission gets a byte-identical answer (the To tag is derived, not random).
    let req = register(AORS[0], local, "UDP", 99);
    let first = udp_exchange(&sock, director.udp(), req.as_bytes()).expect("answer");
    let again = udp_exchange(&sock, director.udp(), req.as_bytes()).expect("answer");
    assert_eq!(first, again);
    assert!(director.stop().success());
}

#[test]
fn register_over_tcp_pipelined_and_split() {
    let topo = topology();
    let director = start(&topo);
    let mut s = tcp_connect(director.tcp());
    let local = s.local_addr().unwrap();
    // All requests in one write, then read every answer in order.
    let batch: String = AORS
        .iter()
        .enumerate()
        .map(|(n, aor)| register(aor, local, "TCP", n as u64))
        .collect();
    tcp_send(&mut s, batch.as_bytes());
    let mut pending = Vec::new();
    for (n, aor) in AORS.iter().enumerate() {
        let raw = read_stream_message(&mut s, &mut pending).expect("answer");
        let a = parse_answer(&raw);
        assert_eq!(a.code, 301);
        assert_eq!(a.header("cseq"), Some(format!("{n} REGISTER").as_str()));
        assert_eq!(a.contacts[0].0, oracle::expected_contacts(&topo, aor).0);
    }
    // One request dribbled a few bytes at a time.
    let req = register(AORS[1], local, "TCP", 42);
    for chunk in req.as_bytes().chunks(7) {
        tcp_send(&mut s, chunk);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let a = parse_answer(&read_stream_message(&mut s, &mut pending).expect("answer"));
    assert_eq!(a.header("cseq"), Some("42 REGISTER"));
    assert!(director.stop().success());
}

#[test]
fn options_to_the_director_gets_200() {
    let director = start(&topology());
    let sock = udp_socket();
    let local = sock.local_addr().unwrap();
    let req = format!(
        "OPTIONS sip:{} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-o1\r\n\
         Max-Forwards: 70\r\nFrom: <sip:probe@example.com>;tag=p1\r\nTo: <sip:{}>\r\n\
         Call-ID: opt-1\r\nCSeq: 7 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        director.udp(),
        director.udp()
    );
    let a = parse_answer(&udp_exchange(&sock, director.udp(), req.as_bytes()).expect("answer"));
    assert_eq!(a.code, 200);
    assert_eq!(a.header("cseq"), Some("7 OPTIONS"));
    assert!(a.header("allow").is_some_and(|v| v.contains("REGISTER")));
    assert!(director.stop().success());
}

#[test]
fn malformed_requests_get_400_and_do_not_disturb_others() {
    let topo = topology();
    let director = start(&topo);
    let sock = udp_socket();
    let local = sock.local_addr().unwrap();
    let good = register(AORS[0], local, "UDP", 1);
    let cases: Vec<(String, u16)> = vec![
        // Two spaces in the request line.
        (good.replacen("REGISTER sip:", "REGISTER  sip:", 1), 400),
        // CSeq method mismatch.
        (good.replace("CSeq: 1 REGISTER", "CSeq: 1 INVITE"), 400),
        // Missing Call-ID is answered without it... so give it a broken From instead.
        (
            good.replace(
                "From: <sip:alice@example.com>;tag=f1",
                "From: \"unterminated <sip:a@b>",
            ),
            400,
        ),
        // CSeq out of range.
        (
            good.replace("CSeq: 1 REGISTER", "CSeq: 99999999999 REGISTER"),
            400,
        ),
        // Another SIP version.
        (good.replacen("SIP/2.0\r\n", "SIP/7.0\r\n", 1), 505),
        // A To that is not a SIP URI.
        (
            good.replace("To: <sip:alice@example.com>", "To: <tel:+15551234>"),
            400,
        ),
    ];
    for (msg, code) in &cases {
        let a =
            parse_answer(&udp_exchange(&sock, director.udp(), msg.as_bytes()).expect("an answer"));
        assert_eq!(a.code, *code, "for:\n{msg}\ngot:\n{}", a.raw);
        assert_eq!(a.header("call-id"), Some("call-1@test"));
    }
    // Garbage with nobody to answer is dropped; the director keeps serving.
    for junk in [
        &b"\x00\x01\x02garbage"[..],
        b"SIP/2.0 200 OK\r\n\r\n",
        b"\r\n\r\n",
        &[0xffu8; 3000][..],
    ] {
        sock.send_to(junk, director.udp()).unwrap();
    }
    let a = parse_answer(&udp_exchange(&sock, director.udp(), good.as_bytes()).expect("answer"));
    assert_eq!(a.code, 301);

    // Over TCP a broken Content-Length gets a 400 and the connection is closed.
    let mut s = tcp_connect(director.tcp());
    let bad = register(AORS[0], s.local_addr().unwrap(), "TCP", 5)
        .replace("Content-Length: 0", "Content-Length: -5");
    tcp_send(&mut s, bad.as_bytes());
    let mut pending = Vec::new();
    let a = parse_answer(&read_stream_message(&mut s, &mut pending).expect("400"));
    assert_eq!(a.code, 400);
    assert!(
        read_stream_message(&mut s, &mut pending).is_none(),
        "connection closed"
    );
    assert!(director.stop().success());
}

#[test]
fn two_directors_on_one_configuration_agree() {
    let topo = Topology::ring(3, 5, true);
    let config = topo.to_toml(&[("127.0.0.1:0", "udp")], 1);
    let a = Director::start(&config);
    let b = Director::start(&config);
    let sock = udp_socket();
    let local = sock.local_addr().unwrap();
    for n in 0..300u64 {
        let aor = format!("sip:u{n}@example.com");
        let req = register(&aor, local, "UDP", n);
        let ra = parse_answer(&udp_exchange(&sock, a.udp(), req.as_bytes()).expect("a"));
        let rb = parse_answer(&udp_exchange(&sock, b.udp(), req.as_bytes()).expect("b"));
        assert_eq!(ra.contacts, rb.contacts, "{aor}");
        assert_eq!(
            ra.header("to"),
            rb.header("to"),
            "same derived To tag for {aor}"
        );
    }
    assert!(a.stop().success());
    assert!(b.stop().success());
}

#[test]
fn epoll_fallback_serves_the_same_answers() {
    let topo = topology();
    let config = topo.to_toml(&[("127.0.0.1:0", "udp")], 2);
    let director = Director::start_with_env(&config, &[("DIRECTOR_UDP_BACKEND", "epoll")]);
    assert!(
        director.ready_line.contains("udp_backend=Epoll"),
        "{}",
        director.ready_line
    );
    let log = director.drain_log().join("\n");
    let sock = udp_socket();
    let local = sock.local_addr().unwrap();
    for (n, aor) in AORS.iter().enumerate() {
        let req = register(aor, local, "UDP", n as u64);
        let a = parse_answer(&udp_exchange(&sock, director.udp(), req.as_bytes()).expect("answer"));
        assert_eq!(
            a.contacts[0].0,
            oracle::expected_contacts(&topo, aor).0,
            "{log}"
        );
    }
    assert!(director.stop().success());
}
