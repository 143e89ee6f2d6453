//! Proxy mode without sockets: the forwarded request (our Via with a derived branch, the
//! client's Via completed, Max-Forwards, Path) and the relayed response (our Via popped, next
//! hop from the Vias or the connection id).

use std::net::SocketAddr;

use director::proxy::forward::Hop;
use director::proxy::{forward_request, relay_response, ForwardBufs, ForwardError, RelayTo};
use director::topology::Transport;

const REG: &str = "REGISTER sip:example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-abc;rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@example.com>;tag=1\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: c1@test\r\n\
CSeq: 1 REGISTER\r\n\
Contact: <sip:alice@192.0.2.7:5062>\r\n\
Content-Length: 0\r\n\r\n";

fn hop(conn: Option<u64>) -> Hop<'static> {
    Hop {
        source: "198.51.100.1:40000".parse().expect("addr"),
        host: "10.0.0.1",
        port: 5060,
        transport: Transport::Udp,
        conn,
        remove_route: None,
    }
}

fn fwd(text: &str, conn: Option<u64>) -> Result<String, ForwardError> {
    let msg = sip::parse(text.as_bytes()).expect("parses");
    let mut out = Vec::new();
    forward_request(&msg, hop(conn), &mut ForwardBufs::default(), &mut out)?;
    Ok(String::from_utf8(out).expect("utf8"))
}

fn branch(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.starts_with("Via: SIP/2.0/UDP 10.0.0.1:5060;"))
        .expect("our via");
    line.split(";branch=").nth(1).expect("branch")[..25].to_string()
}

#[test]
fn register_gets_our_via_path_and_decremented_max_forwards() {
    let out = fwd(REG, None).expect("forwarded");
    let msg = sip::parse(out.as_bytes()).expect("forwarded request parses");
    let vias: Vec<_> = msg.vias().map(|v| v.expect("via")).collect();
    assert_eq!(vias.len(), 2);
    assert_eq!(vias[0].host, b"10.0.0.1");
    assert!(vias[0].branch().expect("branch").starts_with(b"z9hG4bKdR"));
    assert_eq!(vias[1].received(), Some(&b"198.51.100.1"[..]));
    assert_eq!(vias[1].rport(), Some(Some(40000)));
    assert_eq!(msg.max_forwards(), Ok(Some(69)));
    assert!(out.contains("\r\nPath: <sip:10.0.0.1:5060;lr>\r\n"));
    // Nothing else changed.
    for h in [
        "From: <sip:alice@example.com>;tag=1",
        "Contact: <sip:alice@192.0.2.7:5062>",
    ] {
        assert!(out.contains(h), "{h} kept");
    }
    assert!(sip::validate_request(&msg).is_ok());
}

#[test]
fn retransmissions_and_cancel_get_the_same_branch_other_requests_another() {
    let a = branch(&fwd(REG, None).expect("fwd"));
    assert_eq!(a, branch(&fwd(REG, None).expect("fwd")), "deterministic");
    let invite = REG
        .replace("REGISTER sip:", "INVITE sip:")
        .replace("1 REGISTER", "1 INVITE");
    let cancel = REG
        .replace("REGISTER sip:", "CANCEL sip:")
        .replace("1 REGISTER", "1 CANCEL");
    assert_eq!(
        branch(&fwd(&invite, None).expect("fwd")),
        branch(&fwd(&cancel, None).expect("fwd")),
        "CANCEL follows its INVITE"
    );
    let other = REG.replace("z9hG4bK-abc", "z9hG4bK-xyz");
    assert_ne!(a, branch(&fwd(&other, None).expect("fwd")));
    assert!(
        !fwd(&invite, None).expect("fwd").contains("Path:"),
        "Path only for REGISTER"
    );
}

#[test]
fn max_forwards_zero_is_483_and_missing_is_70() {
    let zero = REG.replace("Max-Forwards: 70", "Max-Forwards: 0");
    assert_eq!(fwd(&zero, None), Err(ForwardError::TooManyHops));
    let none = REG.replace("Max-Forwards: 70\r\n", "");
    let out = fwd(&none, None).expect("fwd");
    let msg = sip::parse(out.as_bytes()).expect("parses");
    assert_eq!(msg.max_forwards(), Ok(Some(70)));
}

fn response_to(forwarded: &str) -> String {
    // What a registrar answers: the Vias copied.
    let vias: String = forwarded
        .lines()
        .filter(|l| l.starts_with("Via:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    format!(
        "SIP/2.0 200 OK\r\n{vias}From: <sip:alice@example.com>;tag=1\r\n\
         To: <sip:alice@example.com>;tag=r\r\nCall-ID: c1@test\r\nCSeq: 1 REGISTER\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

#[test]
fn responses_pop_our_via_and_go_to_received_rport() {
    let resp = response_to(&fwd(REG, None).expect("fwd"));
    let msg = sip::parse(resp.as_bytes()).expect("parses");
    let mut out = Vec::new();
    let to = relay_response(&msg, &mut out).expect("relayed");
    let want: SocketAddr = "198.51.100.1:40000".parse().expect("addr");
    assert_eq!(to, RelayTo::Addr(want, Transport::Udp));
    let out = String::from_utf8(out).expect("utf8");
    assert!(!out.contains("10.0.0.1"), "our Via is gone: {out}");
    assert!(out.contains("Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-abc"));
}

#[test]
fn stream_clients_get_their_connection_back() {
    let resp = response_to(&fwd(REG, Some(0x0001_0002_0000_0003)).expect("fwd"));
    let msg = sip::parse(resp.as_bytes()).expect("parses");
    let mut out = Vec::new();
    assert_eq!(
        relay_response(&msg, &mut out),
        Ok(RelayTo::Conn(0x0001_0002_0000_0003))
    );
}

#[test]
fn responses_not_ours_are_refused() {
    let resp = response_to(REG);
    let msg = sip::parse(resp.as_bytes()).expect("parses");
    assert!(relay_response(&msg, &mut Vec::new()).is_err());
}

#[test]
fn comma_separated_vias_lose_only_our_value() {
    let fwded = fwd(REG, None).expect("fwd");
    let vias: Vec<&str> = fwded
        .lines()
        .filter_map(|l| l.strip_prefix("Via: "))
        .collect();
    let resp = format!(
        "SIP/2.0 200 OK\r\nVia: {}, {}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\n\
         Call-ID: x\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n",
        vias[0], vias[1]
    );
    let msg = sip::parse(resp.as_bytes()).expect("parses");
    let mut out = Vec::new();
    relay_response(&msg, &mut out).expect("relayed");
    let out = String::from_utf8(out).expect("utf8");
    assert!(out.contains(&format!("Via: {}\r\n", vias[1])), "{out}");
}

#[test]
fn a_forged_connection_id_is_refused() {
    let fwded = fwd(REG, Some(7)).expect("fwd");
    let resp = response_to(&fwded);
    // Another connection's id with the tag of ours, or no tag at all.
    let ours = format!("dc={:016x}-", 7u64);
    assert!(resp.contains(&ours), "{resp}");
    for forged in [
        resp.replace(&ours, &format!("dc={:016x}-", 8u64)),
        resp.replace(&ours, "dc="),
    ] {
        let msg = sip::parse(forged.as_bytes()).expect("parses");
        assert!(relay_response(&msg, &mut Vec::new()).is_err(), "{forged}");
    }
}
