//! Fuzzing hook for the whole request path, shared by the cargo-fuzz target
//! (`director/fuzz`, target `request_path`) and the proptest suite
//! (`director/tests/fuzz_request_path.rs`).
//!
//! [`request_path`] runs [`decide`] on arbitrary bytes with the embedded default topology in
//! redirect mode and the same topology in proxy mode (every registrar up, addresses resolved),
//! once as a UDP datagram and once as a stream message, and asserts invariants that hold
//! whatever the policy details:
//! - it never panics, and `Drop` writes nothing;
//! - an ACK (parseable or not) is never answered;
//! - a reply is a parseable SIP response (status 100..=699, the one recorded in the scratch)
//!   carrying the request's Call-ID and CSeq when the request had parseable ones; stream
//!   sources are answered over their connection, UDP ones at the source IP;
//! - with every registrar up nobody is told 503, and a `301` carries exactly the Contacts of
//!   [`Topology::home`](crate::topology::Topology::home) for the user's address of record
//!   (the To URI of a REGISTER, else the Request-URI), q=0.7 then q=0.3;
//! - a forwarded request is a parseable request with the same method, Request-URI, Call-ID,
//!   CSeq and body, one Via more (ours) and Max-Forwards decremented (70 when absent); a
//!   registrar's `200` to it relays back to the client (its connection, or its IP over UDP)
//!   with our Via removed;
//! - the transport does not change the outcome, and a reused [`Scratch`] gives the same bytes.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::OnceLock;

use sip::{Contact, Message, Method, Uri};

use crate::config::{Config, EMBEDDED_DEFAULT};
use crate::decision::{decide, Outcome, Scratch, Source, Verdict};
use crate::health::Eligibility;
use crate::placement::PlacementKey;
use crate::proxy::BRANCH_PREFIX;
use crate::snapshot::Snapshot;
use crate::topology::Mode;

/// The stream connection id the hook's TCP source carries.
const CONN: u64 = 0x2a;

/// The client: a UDP or stream peer at a documentation address, port 5060.
fn source(stream: bool) -> Source<'static> {
    Source {
        addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)), 5060),
        stream,
        local: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 5060),
        conn: stream.then_some(CONN),
        cert_identity: None,
    }
}

/// The embedded default topology (redirect mode), every registrar up.
fn redirect_snapshot() -> &'static Snapshot {
    static SNAP: OnceLock<Snapshot> = OnceLock::new();
    SNAP.get_or_init(|| {
        let config = Config::embedded_default()
            .unwrap_or_else(|e| panic!("embedded default config is invalid: {e}"));
        assert_eq!(config.topology.mode(), Mode::Redirect);
        Snapshot::all_up(config.topology, 0)
    })
}

/// The embedded default topology switched to proxy mode, every registrar up and resolved to a
/// documentation address.
fn proxy_snapshot() -> &'static Snapshot {
    static SNAP: OnceLock<Snapshot> = OnceLock::new();
    SNAP.get_or_init(|| {
        let text = EMBEDDED_DEFAULT.replace("mode = \"redirect\"", "mode = \"proxy\"");
        let config = Config::parse(&text, "<embedded default, proxy mode>")
            .unwrap_or_else(|e| panic!("embedded default in proxy mode is invalid: {e}"));
        let topology = config.topology;
        assert_eq!(topology.mode(), Mode::Proxy, "mode switch did not apply");
        let shape = |v: bool| -> Vec<Vec<bool>> {
            let pools = topology.pools().iter();
            pools.map(|p| vec![v; p.registrars().len()]).collect()
        };
        let eligibility = Eligibility {
            eligible: shape(true),
            not_drained: shape(true),
            failed_over: vec![false; topology.pools().len()],
        };
        let addrs = (0u8..)
            .zip(topology.pools())
            .map(|(p, pool)| {
                (0u8..)
                    .zip(pool.registrars())
                    .map(|(r, _)| Some(SocketAddr::from(([192, 0, 2, p * 16 + r + 1], 5061))))
                    .collect()
            })
            .collect();
        Snapshot::new(topology, eligibility, addrs, 0)
    })
}

/// Runs the request path on `data` and asserts its invariants (see the module docs). Panics
/// only on a violation.
pub fn request_path(data: &[u8]) {
    let request = sip::parse(data).ok();
    let is_ack = data.trim_ascii_start().starts_with(b"ACK ");
    let mut scratch = Scratch::default();
    let mut out = Vec::new();
    let mut first = Vec::new();
    for snap in [redirect_snapshot(), proxy_snapshot()] {
        let udp = decide(snap, data, source(false), &mut scratch, &mut out);
        check(
            snap,
            request.as_ref(),
            is_ack,
            source(false),
            udp,
            &scratch,
            &out,
        );
        first.clone_from(&out);
        let stream = decide(snap, data, source(true), &mut scratch, &mut out);
        check(
            snap,
            request.as_ref(),
            is_ack,
            source(true),
            stream,
            &scratch,
            &out,
        );
        assert_eq!(udp.1, stream.1, "the transport must not change the outcome");
        // The scratch now holds the stream decision's state: deciding again must not see it.
        let again = decide(snap, data, source(false), &mut scratch, &mut out);
        assert_eq!(again, udp, "a reused scratch must give the same decision");
        assert!(out == first, "a reused scratch must give the same bytes");
    }
}

fn check(
    snap: &Snapshot,
    request: Option<&Message<'_>>,
    is_ack: bool,
    source: Source,
    (verdict, outcome): (Verdict, Outcome),
    scratch: &Scratch,
    out: &[u8],
) {
    assert_ne!(
        outcome,
        Outcome::NoRegistrar,
        "every registrar is up: nobody may be told 503"
    );
    match verdict {
        Verdict::Drop => assert!(out.is_empty(), "{outcome:?}: Drop with bytes to send"),
        Verdict::Reply | Verdict::ReplyTo(_) => {
            assert!(!is_ack, "{outcome:?}: answered an ACK");
            if let Verdict::ReplyTo(to) = verdict {
                assert!(
                    !source.stream,
                    "a stream source is answered over its connection"
                );
                assert_eq!(to.ip(), source.addr.ip(), "UDP answers go to the source IP");
            }
            let response = parse_response(out, outcome);
            assert_eq!(scratch.code, response.status().unwrap_or(0));
            if let Some(req) = request.filter(|r| r.is_request()) {
                check_copied(req, &response);
                if response.status() == Some(301) {
                    check_redirect(snap, req, &response);
                }
            }
        }
        Verdict::Forward { .. } if outcome == Outcome::Forwarded => {
            let req = request.unwrap_or_else(|| panic!("forwarded an unparseable message"));
            check_forwarded(snap, req, source, out);
        }
        Verdict::Forward { .. } | Verdict::ToConn(_) => {
            assert_eq!(outcome, Outcome::Relayed, "{verdict:?}");
            let resp = request.unwrap_or_else(|| panic!("relayed an unparseable message"));
            let relayed = parse_response(out, outcome);
            assert_eq!(relayed.status(), resp.status());
            assert_eq!(relayed.call_id().ok(), resp.call_id().ok());
            assert_eq!(relayed.vias().count() + 1, resp.vias().count());
        }
    }
}

fn parse_response(out: &[u8], outcome: Outcome) -> Message<'_> {
    let response = sip::parse(out).unwrap_or_else(|e| {
        panic!(
            "{outcome:?}: unparseable response ({e:?}):\n{}",
            String::from_utf8_lossy(out)
        )
    });
    assert!(!response.is_request(), "{outcome:?}: wrote a request");
    let status = response.status().unwrap_or(0);
    assert!((100..=699).contains(&status), "status {status}");
    response
}

/// Call-ID and CSeq are copied from the request.
fn check_copied(req: &Message<'_>, response: &Message<'_>) {
    if let Ok(call_id) = req.call_id() {
        assert_eq!(response.call_id().ok(), Some(call_id), "Call-ID not copied");
    }
    if let Ok(cseq) = req.cseq() {
        assert_eq!(response.cseq().ok(), Some(cseq), "CSeq not copied");
    }
}

/// A 301 names the user's home: Topology::home of the address of record.
fn check_redirect(snap: &Snapshot, req: &Message<'_>, response: &Message<'_>) {
    let aor = match req.method() {
        Some(Method::Register) => req.to().and_then(|to| to.parsed_uri()),
        _ => req
            .request_uri()
            .map_or(Err(sip::ParseError::BadUri), Uri::parse),
    };
    let aor = aor.unwrap_or_else(|e| panic!("301 for an unparseable address of record: {e:?}"));
    let key = PlacementKey::from_uri_parts(aor.user, aor.host)
        .unwrap_or_else(|e| panic!("301 for an address of record without a key: {e}"));
    let topology = snap.topology();
    let home = topology.home(&key);
    let mut expected = vec![(topology.registrar(home.primary).contact().as_bytes(), 700)];
    if let Some(backup) = home.backup {
        expected.push((topology.registrar(backup).contact().as_bytes(), 300));
    }
    let contacts: Vec<(&[u8], u16)> = response
        .contacts()
        .map(|c| match c {
            Ok(Contact::Addr(a)) => (a.uri, Contact::Addr(a).q_millis().unwrap_or(0)),
            other => panic!("bad Contact in a 301: {other:?}"),
        })
        .collect();
    assert!(
        contacts == expected,
        "301 Contacts differ from the home of {key}"
    );
}

/// A forwarded request is the request plus our Via, with Max-Forwards decremented; a 200 to it
/// relays back to the client.
fn check_forwarded(snap: &Snapshot, req: &Message<'_>, source: Source, out: &[u8]) {
    let fwd = sip::parse(out).unwrap_or_else(|e| {
        panic!(
            "unparseable forwarded request ({e:?}):\n{}",
            String::from_utf8_lossy(out)
        )
    });
    assert!(fwd.is_request());
    assert_eq!(fwd.method(), req.method());
    assert_eq!(fwd.request_uri(), req.request_uri());
    assert_eq!(fwd.call_id().ok(), req.call_id().ok());
    assert_eq!(fwd.cseq().ok(), req.cseq().ok());
    assert_eq!(fwd.body(), req.body());
    assert_eq!(fwd.vias().count(), req.vias().count() + 1, "one Via added");
    let top = fwd.top_via().unwrap_or_else(|e| panic!("our Via: {e:?}"));
    assert!(top.branch().is_some_and(|b| b.starts_with(BRANCH_PREFIX)));
    let expected_mf = match req.max_forwards() {
        Ok(Some(n)) => n - 1,
        _ => 70,
    };
    assert_eq!(fwd.max_forwards().ok().flatten(), Some(expected_mf));

    // The registrar answers 200: it must find its way back.
    let Some(line_end) = memchr::memmem::find(out, b"\r\n") else {
        panic!("forwarded request without a line end")
    };
    let mut answer = b"SIP/2.0 200 OK".to_vec();
    answer.extend_from_slice(&out[line_end..]);
    let Ok(answer_msg) = sip::parse(&answer) else {
        return;
    };
    let registrar = Source {
        addr: SocketAddr::from(([192, 0, 2, 1], 5061)),
        stream: false,
        local: source.local,
        conn: None,
        cert_identity: None,
    };
    let mut scratch = Scratch::default();
    let mut relayed = Vec::new();
    let (verdict, outcome) = decide(snap, &answer, registrar, &mut scratch, &mut relayed);
    assert_eq!(outcome, Outcome::Relayed, "a 200 to our forward is relayed");
    match verdict {
        Verdict::ToConn(c) => assert!(source.stream && c == CONN, "to connection {c}"),
        Verdict::Forward { to, .. } => {
            assert!(
                !source.stream,
                "a stream client's answer goes over its connection"
            );
            assert_eq!(to.ip(), source.addr.ip(), "relayed to the client's IP");
        }
        other => panic!("relayed with {other:?}"),
    }
    let back = parse_response(&relayed, outcome);
    assert_eq!(back.vias().count() + 1, answer_msg.vias().count());
    assert_eq!(back.call_id().ok(), req.call_id().ok());
}
