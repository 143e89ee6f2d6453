//! Answers the director writes itself stay readable by a parser with [`sip::MAX_HEADERS`]
//! (ours): a request with more Via lines than a 301 can carry within that limit gets a 400
//! saying so, in redirect and in proxy mode, and an ACK is never answered.

use director::config::{Config, EMBEDDED_DEFAULT};
use director::decision::{decide, Outcome, Scratch, Source, Verdict, MAX_ANSWERED_VIAS};
use director::snapshot::Snapshot;

fn snapshot(proxy: bool) -> Snapshot {
    let text = match proxy {
        true => EMBEDDED_DEFAULT.replace("mode = \"redirect\"", "mode = \"proxy\""),
        false => EMBEDDED_DEFAULT.to_string(),
    };
    let config = Config::parse(&text, "default.toml").expect("valid");
    Snapshot::all_up(config.topology, 0)
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

/// A request with `vias` Via lines (the first one the client's), From, To, Call-ID, CSeq.
fn request(method: &str, vias: usize) -> String {
    let mut m = format!("{method} sip:alice@example.com SIP/2.0\r\n");
    m.push_str("Via: SIP/2.0/UDP 192.0.2.9:5062;branch=z9hG4bK-top;rport\r\n");
    for i in 1..vias {
        m.push_str(&format!(
            "Via: SIP/2.0/UDP 10.0.0.{}:5060;branch=z9hG4bK-{i}\r\n",
            i % 250
        ));
    }
    m.push_str("From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\n");
    m.push_str(&format!("Call-ID: many-vias@x\r\nCSeq: 1 {method}\r\n\r\n"));
    m
}

fn run(snap: &Snapshot, msg: &str) -> (Verdict, Outcome, Vec<u8>) {
    let mut out = Vec::new();
    let (v, o) = decide(
        snap,
        msg.as_bytes(),
        source(),
        &mut Scratch::default(),
        &mut out,
    );
    (v, o, out)
}

#[test]
fn a_301_with_the_most_vias_still_parses() {
    let snap = snapshot(false);
    let (_, outcome, out) = run(&snap, &request("REGISTER", MAX_ANSWERED_VIAS));
    assert_eq!(outcome, Outcome::Redirected);
    let answer = sip::parse(&out).expect("the 301 parses");
    assert_eq!(
        answer.header_count(),
        sip::MAX_HEADERS,
        "the limit is exact"
    );
    assert_eq!(answer.vias().count(), MAX_ANSWERED_VIAS);
}

#[test]
fn one_via_more_is_a_400_that_parses_in_both_modes() {
    for proxy in [false, true] {
        let snap = snapshot(proxy);
        for method in ["REGISTER", "INVITE", "OPTIONS"] {
            let (verdict, outcome, out) = run(&snap, &request(method, MAX_ANSWERED_VIAS + 1));
            assert_eq!(outcome, Outcome::Rejected, "{method}, proxy {proxy}");
            assert!(
                matches!(verdict, Verdict::ReplyTo(_) | Verdict::Reply),
                "{verdict:?}"
            );
            let answer = sip::parse(&out).expect("the 400 parses");
            assert_eq!(answer.status(), Some(400));
            assert_eq!(answer.reason(), Some(&b"Too Many Via Headers"[..]));
            assert_eq!(answer.call_id().ok(), Some(&b"many-vias@x"[..]));
        }
        let (verdict, _, out) = run(&snap, &request("ACK", MAX_ANSWERED_VIAS + 1));
        assert_eq!(verdict, Verdict::Drop);
        assert!(out.is_empty());
    }
}

#[test]
fn an_invalid_request_with_many_vias_gets_a_400_that_parses() {
    // 125 Vias, From, To, Call-ID: 128 fields, and no CSeq, so the request is invalid. Its
    // 400 must not copy every Via (that would be 129 fields with its Content-Length).
    for proxy in [false, true] {
        let snap = snapshot(proxy);
        let msg = request("REGISTER", sip::MAX_HEADERS - 3).replace("CSeq: 1 REGISTER\r\n", "");
        assert_eq!(
            sip::parse(msg.as_bytes()).expect("parses").header_count(),
            sip::MAX_HEADERS
        );
        let (_, outcome, out) = run(&snap, &msg);
        assert_eq!(outcome, Outcome::Rejected, "proxy {proxy}");
        let answer = sip::parse(&out).unwrap_or_else(|e| panic!("proxy {proxy}: {e:?}"));
        assert_eq!(answer.status(), Some(400));
        assert_eq!(answer.call_id().ok(), Some(&b"many-vias@x"[..]));
    }
}
