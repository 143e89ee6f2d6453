//! The decision in proxy mode, without sockets: where requests go (the home registrar's
//! resolved address, CANCEL and ACK where their INVITE went), what the director answers itself
//! (OPTIONS to itself, 483, 503 when no registrar is eligible or resolved), and that responses
//! are relayed only when the top Via is ours.

use std::net::SocketAddr;

use director::config::Config;
use director::decision::{decide, Outcome, Scratch, Source, Verdict};
use director::health::HealthPolicy;
use director::snapshot::Snapshot;
use director::topology::Transport;

const TOPO: &str = r#"
[director]
mode = "proxy"

[[pool]]
id = "pool1"
backup = "pool2"
[[pool.registrar]]
id = "a1"
contact = "sip:127.0.0.1:6001"
[[pool.registrar]]
id = "a2"
contact = "sip:127.0.0.1:6002"

[[pool]]
id = "pool2"
[[pool.registrar]]
id = "b1"
contact = "sip:127.0.0.1:6003"
"#;

fn snapshot(eligible: [bool; 3], resolved: bool) -> Snapshot {
    let c = Config::parse(TOPO, "t.toml").expect("valid");
    let mut e = HealthPolicy::new(&c.topology, c.health).eligibility();
    e.eligible = vec![vec![eligible[0], eligible[1]], vec![eligible[2]]];
    let addr = |p: u16| resolved.then(|| SocketAddr::from(([127, 0, 0, 1], p)));
    let addrs = vec![vec![addr(6001), addr(6002)], vec![addr(6003)]];
    Snapshot::new(c.topology, e, addrs, 1)
}

fn source() -> Source<'static> {
    Source {
        addr: "192.0.2.9:5062".parse().expect("addr"),
        stream: false,
        local: "127.0.0.1:5060".parse().expect("addr"),
        conn: None,
        cert_identity: None,
    }
}

fn request(method: &str, ruri: &str, branch: &str, extra: &str) -> String {
    format!(
        "{method} {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9:5062;branch={branch}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:bob@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\n\
         Call-ID: c@x\r\nCSeq: 1 {method}\r\n{extra}Content-Length: 0\r\n\r\n"
    )
}

fn run(snap: &Snapshot, msg: &str) -> (Verdict, Outcome, String) {
    let mut out = Vec::new();
    let (v, o) = decide(
        snap,
        msg.as_bytes(),
        source(),
        &mut Scratch::default(),
        &mut out,
    );
    (v, o, String::from_utf8(out).expect("utf8"))
}

#[test]
fn invite_cancel_and_ack_go_to_the_same_registrar_with_the_same_branch() {
    let snap = snapshot([true; 3], true);
    let ruri = "sip:alice@example.com";
    let (v1, o1, inv) = run(&snap, &request("INVITE", ruri, "z9hG4bK-1", ""));
    let (v2, o2, can) = run(&snap, &request("CANCEL", ruri, "z9hG4bK-1", ""));
    let (v3, o3, _) = run(&snap, &request("ACK", ruri, "z9hG4bK-1", ""));
    assert_eq!(
        (o1, o2, o3),
        (Outcome::Forwarded, Outcome::Forwarded, Outcome::Forwarded)
    );
    assert_eq!(v1, v2);
    assert_eq!(v1, v3);
    assert!(matches!(
        v1,
        Verdict::Forward {
            transport: Transport::Udp,
            ..
        }
    ));
    let top = |s: &str| s.lines().nth(1).expect("via line").to_string();
    assert_eq!(top(&inv), top(&can));
}

#[test]
fn register_goes_to_the_first_eligible_machine_then_the_backup() {
    let all = snapshot([true; 3], true);
    let reg = request("REGISTER", "sip:example.com", "z9hG4bK-2", "");
    let (first, _, _) = run(&all, &reg);
    let Verdict::Forward { to, .. } = first else {
        panic!("forwarded: {first:?}");
    };
    // The first machine down: the other one of pool1 (assuming the user is in pool1) or, for a
    // pool2 user, pool1's first.
    let mut e = [true; 3];
    let idx = usize::from(to.port() - 6001);
    e[idx] = false;
    let (second, o, _) = run(&snapshot(e, true), &reg);
    assert_eq!(o, Outcome::Forwarded);
    assert_ne!(second, first);
    // Nothing eligible: 503 with Retry-After, answered by the director.
    let (v, o, text) = run(&snapshot([false; 3], true), &reg);
    assert_eq!((v, o), (Verdict::Reply, Outcome::NoRegistrar));
    assert!(
        text.starts_with("SIP/2.0 503 ") && text.contains("Retry-After: "),
        "{text}"
    );
    // Eligible but unresolved: 503 too.
    let (_, o, text) = run(&snapshot([true; 3], false), &reg);
    assert_eq!(o, Outcome::Unroutable);
    assert!(text.starts_with("SIP/2.0 503 "), "{text}");
}

#[test]
fn the_director_answers_options_to_itself_and_483() {
    let snap = snapshot([true; 3], true);
    let (_, o, text) = run(
        &snap,
        &request("OPTIONS", "sip:127.0.0.1:5060", "z9hG4bK-3", ""),
    );
    assert_eq!(o, Outcome::OptionsOk);
    assert!(text.starts_with("SIP/2.0 200 "), "{text}");
    let hop0 = request("REGISTER", "sip:example.com", "z9hG4bK-4", "")
        .replace("Max-Forwards: 70", "Max-Forwards: 0");
    let (_, o, text) = run(&snap, &hop0);
    assert_eq!(o, Outcome::TooManyHops);
    assert!(text.starts_with("SIP/2.0 483 "), "{text}");
    // Require is the registrar's business in proxy mode.
    let req = request(
        "REGISTER",
        "sip:example.com",
        "z9hG4bK-5",
        "Require: gruu\r\n",
    );
    assert_eq!(run(&snap, &req).1, Outcome::Forwarded);
}

#[test]
fn only_responses_to_our_via_are_relayed() {
    let snap = snapshot([true; 3], true);
    let (_, _, fwd) = run(
        &snap,
        &request("REGISTER", "sip:example.com", "z9hG4bK-6", ""),
    );
    let vias: String = fwd
        .lines()
        .filter(|l| l.starts_with("Via:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    let resp = |vias: &str| {
        format!(
            "SIP/2.0 200 OK\r\n{vias}From: <sip:bob@example.com>;tag=1\r\n\
             To: <sip:alice@example.com>;tag=2\r\nCall-ID: c@x\r\nCSeq: 1 REGISTER\r\n\
             Content-Length: 0\r\n\r\n"
        )
    };
    let (v, o, out) = run(&snap, &resp(&vias));
    assert_eq!(o, Outcome::Relayed);
    assert_eq!(
        v,
        Verdict::Forward {
            to: "192.0.2.9:5062".parse().expect("addr"),
            transport: Transport::Udp
        }
    );
    assert!(!out.contains("z9hG4bKdR"));
    let foreign = resp("Via: SIP/2.0/UDP 192.0.2.9:5062;branch=z9hG4bK-6\r\n");
    assert_eq!(run(&snap, &foreign).1, Outcome::Unroutable);
}

#[test]
fn requests_routed_through_the_director_follow_their_route_or_request_uri() {
    let snap = snapshot([true; 3], true);
    let us = "Route: <sip:127.0.0.1:5060;lr>\r\n";
    // Toward a registered contact (the registrar's request through our Path).
    let invite = request("INVITE", "sip:ua@192.0.2.50:5070", "z9hG4bK-7", us);
    let (v, o, out) = run(&snap, &invite);
    assert_eq!(o, Outcome::Forwarded);
    assert_eq!(
        v,
        Verdict::Forward {
            to: "192.0.2.50:5070".parse().expect("addr"),
            transport: Transport::Udp
        }
    );
    assert!(!out.contains("Route:"), "our Route removed: {out}");
    assert!(out.contains("branch=z9hG4bKdR"), "{out}");

    // A further Route is followed (its transport too) and kept.
    let two = format!("{us}Route: <sip:192.0.2.60:5080;lr;transport=tcp>\r\n");
    let (v, _, out) = run(
        &snap,
        &request("INVITE", "sip:ua@192.0.2.50", "z9hG4bK-8", &two),
    );
    assert_eq!(
        v,
        Verdict::Forward {
            to: "192.0.2.60:5080".parse().expect("addr"),
            transport: Transport::Tcp
        }
    );
    assert!(out.contains("Route: <sip:192.0.2.60:5080;lr;transport=tcp>\r\n"));
    assert!(!out.contains("127.0.0.1:5060;lr>"), "{out}");
    // The same as one comma-separated header.
    let list = "Route: <sip:127.0.0.1:5060;lr>, <sip:192.0.2.60:5080;lr>\r\n";
    let (v, _, out) = run(
        &snap,
        &request("INVITE", "sip:ua@192.0.2.50", "z9hG4bK-9", list),
    );
    assert!(
        matches!(v, Verdict::Forward { to, .. } if to.port() == 5080),
        "{v:?}"
    );
    assert!(out.contains("Route: <sip:192.0.2.60:5080;lr>\r\n"), "{out}");

    // A REGISTER with the director as preloaded outbound proxy goes home, Route removed.
    let reg = request("REGISTER", "sip:example.com", "z9hG4bK-10", us);
    let (v, o, out) = run(&snap, &reg);
    let (home, _, _) = run(
        &snap,
        &request("REGISTER", "sip:example.com", "z9hG4bK-10", ""),
    );
    assert_eq!((v, o), (home, Outcome::Forwarded));
    assert!(!out.contains("Route:"), "{out}");

    // A Route that is not ours: home routing, Route kept.
    let other = "Route: <sip:192.0.2.99:5060;lr>\r\n";
    let (_, o, out) = run(
        &snap,
        &request("INVITE", "sip:alice@example.com", "z9hG4bK-11", other),
    );
    assert_eq!(o, Outcome::Forwarded);
    assert!(out.contains(other), "{out}");

    // A next hop that is a name cannot be followed without DNS on the hot path.
    let named = format!("{us}Route: <sip:edge.example.com;lr>\r\n");
    let (_, o, out) = run(
        &snap,
        &request("INVITE", "sip:ua@192.0.2.50", "z9hG4bK-12", &named),
    );
    assert_eq!(o, Outcome::Unroutable);
    assert!(out.starts_with("SIP/2.0 404 "), "{out}");
}

#[test]
fn a_route_line_right_after_the_first_via_is_removed_cleanly() {
    // Kamailio's layout when it relays along a Path: its Via, then the Route, then the rest.
    let snap = snapshot([true; 3], true);
    let msg = "INVITE sip:ua@127.0.0.1:54274 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5977;branch=z9hG4bK7a2a.0\r\n\
Route: <sip:127.0.0.1:5060;lr>\r\n\
Via: SIP/2.0/UDP 127.0.0.1:45174;received=127.0.0.1;branch=z9hG4bK-inv1;rport=45174\r\n\
From: <sip:carol@example.com>;tag=c1\r\nTo: <sip:bob@example.com>\r\n\
Call-ID: inv1@test\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    let (v, o, out) = run(&snap, msg);
    assert_eq!(o, Outcome::Forwarded, "{out}");
    assert_eq!(
        v,
        Verdict::Forward {
            to: "127.0.0.1:54274".parse().expect("addr"),
            transport: Transport::Udp
        }
    );
    let parsed = sip::parse(out.as_bytes()).expect("forwarded request parses");
    assert_eq!(parsed.vias().count(), 3);
    assert_eq!(parsed.max_forwards(), Ok(Some(70)), "inserted");
    assert!(!out.contains("Route:"), "{out}");
}

/// Our Via and Path name the listener's address (IPv6 in brackets), or for a wildcard listener
/// the configured `domain`; a Route naming that domain is ours and is removed.
#[test]
fn our_via_and_path_name_the_listener_or_the_domain() {
    let forwarded = |snap: &Snapshot, local: &str, msg: &str| {
        let source = Source {
            local: local.parse().expect("addr"),
            ..source()
        };
        let mut out = Vec::new();
        let (_, o) = decide(
            snap,
            msg.as_bytes(),
            source,
            &mut Scratch::default(),
            &mut out,
        );
        let out = String::from_utf8(out).expect("utf8");
        assert_eq!(o, Outcome::Forwarded, "{out}");
        out
    };
    let register = request("REGISTER", "sip:example.com", "z9hG4bK-h1", "");
    let plain = snapshot([true; 3], true);
    for (local, host) in [
        ("127.0.0.1:5060", "127.0.0.1:5060"),
        ("192.0.2.250:5070", "192.0.2.250:5070"),
        ("[2001:db8::7]:5071", "[2001:db8::7]:5071"),
        ("0.0.0.0:5060", "0.0.0.0:5060"),
    ] {
        let out = forwarded(&plain, local, &register);
        assert!(
            out.starts_with(&format!(
                "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP {host};branch=z9hG4bKdR"
            )),
            "{out}"
        );
        assert!(
            out.contains(&format!("\r\nPath: <sip:{host};lr>\r\n")),
            "{out}"
        );
    }

    let c = Config::parse(
        &TOPO.replace(
            "mode = \"proxy\"",
            "mode = \"proxy\"\ndomain = \"sip.example.net\"",
        ),
        "t.toml",
    )
    .expect("valid");
    let e = HealthPolicy::new(&c.topology, c.health).eligibility();
    let addr = |p: u16| Some(SocketAddr::from(([127, 0, 0, 1], p)));
    let named = Snapshot::new(
        c.topology,
        e,
        vec![vec![addr(6001), addr(6002)], vec![addr(6003)]],
        1,
    );
    let out = forwarded(&named, "0.0.0.0:5060", &register);
    assert!(
        out.contains("\r\nVia: SIP/2.0/UDP sip.example.net:5060;branch=z9hG4bKdR"),
        "{out}"
    );
    assert!(
        out.contains("\r\nPath: <sip:sip.example.net:5060;lr>\r\n"),
        "{out}"
    );
    // A listener with its own address keeps naming it, domain or not.
    let out = forwarded(&named, "127.0.0.1:5060", &register);
    assert!(
        out.contains("\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch="),
        "{out}"
    );

    // Loose routing: a Route naming our domain is removed, the request goes to its
    // Request-URI.
    let invite = request(
        "INVITE",
        "sip:ua@192.0.2.50:5090",
        "z9hG4bK-h2",
        "Route: <sip:sip.example.net:5060;lr>\r\n",
    );
    let out = forwarded(&named, "0.0.0.0:5060", &invite);
    assert!(!out.contains("Route:"), "{out}");
    // Without the domain the same Route is someone else's: it stays.
    let out = forwarded(&plain, "0.0.0.0:5060", &invite);
    assert!(
        out.contains("Route: <sip:sip.example.net:5060;lr>"),
        "{out}"
    );
}

#[test]
fn a_request_with_no_room_for_our_headers_is_answered_not_forwarded() {
    let snap = snapshot([true; 3], true);
    // `request` writes 7 header fields; forwarding a REGISTER adds our Via and a Path.
    let fill = |n: usize| {
        (0..n)
            .map(|i| format!("X-Fill-{i}: x\r\n"))
            .collect::<String>()
    };
    let room = sip::MAX_HEADERS - 7 - 2;
    let (v, o, fwd) = run(
        &snap,
        &request("REGISTER", "sip:example.com", "z9hG4bK-f", &fill(room)),
    );
    assert_eq!(o, Outcome::Forwarded, "{v:?}");
    let parsed = sip::parse(fwd.as_bytes()).expect("the forwarded request parses");
    assert_eq!(parsed.header_count(), sip::MAX_HEADERS);

    let (v, o, answer) = run(
        &snap,
        &request("REGISTER", "sip:example.com", "z9hG4bK-f", &fill(room + 1)),
    );
    assert_eq!(o, Outcome::Rejected, "{v:?}");
    assert!(
        answer.starts_with("SIP/2.0 400 Too Many Headers\r\n"),
        "{answer}"
    );
    assert!(answer.contains("Call-ID: c@x\r\n"), "{answer}");

    // Without Max-Forwards the director adds one too: one header less fits.
    let no_mf = request("REGISTER", "sip:example.com", "z9hG4bK-f", &fill(room + 1))
        .replace("Max-Forwards: 70\r\n", "");
    assert_eq!(run(&snap, &no_mf).1, Outcome::Rejected);
    let no_mf = request("REGISTER", "sip:example.com", "z9hG4bK-f", &fill(room))
        .replace("Max-Forwards: 70\r\n", "");
    assert_eq!(run(&snap, &no_mf).1, Outcome::Forwarded);

    // An ACK (128 fields, one too many once our Via is on it) has no answer: it is absorbed.
    let ack = request("ACK", "sip:alice@example.com", "z9hG4bK-f", &fill(room + 2));
    let (v, o, answer) = run(&snap, &ack);
    assert_eq!((v, o), (Verdict::Drop, Outcome::AckAbsorbed));
    assert!(answer.is_empty(), "{answer}");
    // One more and it does not parse: still no answer to an ACK.
    let ack = request("ACK", "sip:alice@example.com", "z9hG4bK-f", &fill(room + 3));
    let (v, _, answer) = run(&snap, &ack);
    assert!(answer.is_empty(), "{v:?}: {answer}");
}
