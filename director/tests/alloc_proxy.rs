//! No allocation per message on the proxy path: forwarding a REGISTER (Via, Max-Forwards, Path
//! splices), loose-routing an INVITE, and relaying the registrar's response, after a warm-up,
//! counted by a per-thread counting global allocator (as in `alloc_redirect.rs`).

use std::net::SocketAddr;

use director::config::Config;
use director::decision::{decide, Outcome, Scratch, Source};
use director::health::HealthPolicy;
use director::snapshot::Snapshot;

use alloc_count::allocations_in;

#[global_allocator]
static GLOBAL: alloc_count::Counting = alloc_count::Counting;

const TOPO: &str = r#"
[director]
mode = "proxy"
[[pool]]
id = "pool1"
[[pool.registrar]]
id = "a1"
contact = "sip:127.0.0.1:6001"
[[pool.registrar]]
id = "a2"
contact = "sip:127.0.0.1:6002"
"#;

fn request(method: &str, ruri: &str, n: usize, extra: &str) -> String {
    format!(
        "{method} {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9:5062;branch=z9hG4bK-{n};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:u{n}@example.com>;tag=1\r\nTo: <sip:u{n}@example.com>\r\n\
         Call-ID: c{n}@x\r\nCSeq: 1 {method}\r\n{extra}Content-Length: 0\r\n\r\n"
    )
}

#[test]
fn forwarding_and_relaying_allocate_nothing_after_warm_up() {
    let c = Config::parse(TOPO, "t.toml").expect("valid");
    let e = HealthPolicy::new(&c.topology, c.health).eligibility();
    let addrs = vec![vec![
        Some(SocketAddr::from(([127, 0, 0, 1], 6001))),
        Some(SocketAddr::from(([127, 0, 0, 1], 6002))),
    ]];
    let snap = Snapshot::new(c.topology, e, addrs, 1);
    let source = Source {
        addr: "192.0.2.9:5062".parse().expect("addr"),
        stream: false,
        local: "127.0.0.1:5060".parse().expect("addr"),
        conn: None,
        cert_identity: None,
    };
    let mut msgs: Vec<String> = (0..16)
        .map(|n| request("REGISTER", "sip:example.com", n, ""))
        .collect();
    msgs.push(request(
        "INVITE",
        "sip:ua@192.0.2.50:5070",
        99,
        "Route: <sip:127.0.0.1:5060;lr>\r\n",
    ));
    let mut scratch = Scratch::default();
    let mut out = Vec::with_capacity(4096);
    // Responses the registrar would send: the forwarded Vias copied.
    let mut responses = Vec::new();
    for m in &msgs {
        let (_, o) = decide(&snap, m.as_bytes(), source, &mut scratch, &mut out);
        assert_eq!(o, Outcome::Forwarded);
        let fwd = String::from_utf8(out.clone()).expect("utf8");
        let vias: String = fwd
            .lines()
            .filter(|l| l.starts_with("Via:"))
            .map(|l| format!("{l}\r\n"))
            .collect();
        responses.push(format!(
            "SIP/2.0 200 OK\r\n{vias}From: <sip:u@example.com>;tag=1\r\n\
             To: <sip:u@example.com>;tag=2\r\nCall-ID: c@x\r\nCSeq: 1 REGISTER\r\n\
             Content-Length: 0\r\n\r\n"
        ));
    }
    let registrar = Source {
        addr: "127.0.0.1:6001".parse().expect("addr"),
        ..source
    };
    for r in &responses {
        assert_eq!(
            decide(&snap, r.as_bytes(), registrar, &mut scratch, &mut out).1,
            Outcome::Relayed
        );
    }
    let mut outcomes = Vec::with_capacity(10_000);
    let n = allocations_in(|| {
        for _ in 0..50 {
            for m in &msgs {
                outcomes.push(decide(&snap, m.as_bytes(), source, &mut scratch, &mut out).1);
            }
            for r in &responses {
                outcomes.push(decide(&snap, r.as_bytes(), registrar, &mut scratch, &mut out).1);
            }
        }
    });
    assert_eq!(n, 0, "allocations on the proxy path");
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, Outcome::Forwarded | Outcome::Relayed)));
}
