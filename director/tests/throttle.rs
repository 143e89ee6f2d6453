//! `[limits]` through the handler: a source over its rate is dropped or answered 503 (always
//! 503 over streams), responses and registrars are never limited, an overloaded worker answers
//! REGISTERs 503 and decides everything else, every refusal is counted, and nothing is
//! allocated per message. Rates are 1/s so the bursts decide the outcome, not the clock.
//! The limits come from the snapshot: a publish that changes them (a new limits version)
//! rebuilds the buckets, one that does not keeps their state, and limits turned on by a
//! publish apply to a handler that started without any.

use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use dataplane::{Action, Handler, Peer, Transport};
use director::config::{Config, FloodAction, LimitSettings};
use director::handler::DirectorHandler;
use director::limiter::Rate;
use director::snapshot::Snapshot;
use director::stats::{DecisionStats, Limit};
use director::throttle::{must_rebuild, BuiltFor};
use director::topology::Topology;

use alloc_count::allocations_in;

#[global_allocator]
static GLOBAL: alloc_count::Counting = alloc_count::Counting;

fn register(n: u32, via: &str) -> Vec<u8> {
    format!(
        "REGISTER sip:example.com SIP/2.0\r\n\
         Via: SIP/2.0/{via};branch=z9hG4bK-{n:08x}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:u{n}@example.com>;tag=f{n}\r\n\
         To: <sip:u{n}@example.com>\r\n\
         Call-ID: {n}-call\r\n\
         CSeq: 1 REGISTER\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn options(n: u32) -> Vec<u8> {
    format!(
        "OPTIONS sip:director.example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK-o{n};rport\r\n\
         From: <sip:probe@example.com>;tag=o{n}\r\n\
         To: <sip:director.example.com>\r\n\
         Call-ID: o{n}\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

const RESPONSE: &[u8] = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx\r\n\
From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>;tag=2\r\nCall-ID: r\r\n\
CSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";

fn topology() -> Topology {
    Config::embedded_default()
        .map(|c| c.topology)
        .unwrap_or_else(|e| panic!("embedded default: {e}"))
}

/// A snapshot (generation `generation`) with `limits` at `version`.
fn snapshot(generation: u64, limits: LimitSettings, version: u64) -> Arc<Snapshot> {
    Arc::new(Snapshot::all_up(topology(), generation).with_limits(limits, version))
}

type Swap = Arc<ArcSwap<Snapshot>>;

fn handler_on(limits: LimitSettings) -> (DirectorHandler, Arc<DecisionStats>, Swap) {
    let swap = Arc::new(ArcSwap::new(snapshot(1, limits, 1)));
    let stats = Arc::new(DecisionStats::new(1));
    let handler = DirectorHandler::new(Arc::clone(&swap), Arc::clone(&stats));
    (handler, stats, swap)
}

fn handler(limits: LimitSettings) -> (DirectorHandler, Arc<DecisionStats>) {
    let (h, stats, _) = handler_on(limits);
    (h, stats)
}

fn peer(remote: &str, transport: Transport) -> Peer {
    let parse = |s: &str| {
        s.parse::<SocketAddr>()
            .unwrap_or_else(|e| panic!("{s}: {e}"))
    };
    Peer {
        remote: parse(remote),
        local: parse("127.0.0.1:5060"),
        transport,
        conn: None,
        worker: 0,
        tls_identity: None,
    }
}

fn per_source(burst: u32, action: FloodAction) -> LimitSettings {
    LimitSettings {
        per_source: Some(Rate::new(1, burst)),
        flood_action: action,
        ..LimitSettings::default()
    }
}

fn status(out: &[u8]) -> String {
    String::from_utf8_lossy(out.get(..out.len().min(30)).unwrap_or_default()).into_owned()
}

#[test]
fn a_flooding_source_is_dropped_after_its_burst_and_others_still_served() {
    let (h, stats) = handler(per_source(5, FloodAction::Drop));
    let flooder = peer("192.0.2.5:5060", Transport::Udp);
    let other = peer("192.0.2.6:5060", Transport::Udp);
    let mut out = Vec::new();
    for n in 0..5 {
        assert_eq!(
            h.on_message(&register(n, "UDP 192.0.2.5:5060"), &flooder, &mut out),
            Action::Reply
        );
        assert!(status(&out).starts_with("SIP/2.0 301"), "{}", status(&out));
    }
    let dropped = (5..50)
        .filter(|&n| {
            h.on_message(&register(n, "UDP 192.0.2.5:5060"), &flooder, &mut out) == Action::Drop
        })
        .count();
    assert!(dropped >= 40, "dropped {dropped}");
    assert_eq!(stats.limited_total(Limit::PerSource, 0), dropped as u64);
    assert_eq!(
        h.on_message(&register(99, "UDP 192.0.2.6:5060"), &other, &mut out),
        Action::Reply
    );
    assert!(status(&out).starts_with("SIP/2.0 301"));
}

#[test]
fn flood_action_503_answers_with_retry_after_where_the_via_says() {
    let mut limits = per_source(1, FloodAction::Reject);
    limits.retry_after_s = 7;
    let (h, stats) = handler(limits);
    let flooder = peer("192.0.2.5:40000", Transport::Udp);
    let mut out = Vec::new();
    // No rport: the answer goes to the Via's port (RFC 3261 18.2.2), like any other response.
    let msg = register(1, "UDP 192.0.2.5:5062");
    let to: SocketAddr = "192.0.2.5:5062".parse().unwrap();
    let send = Action::Send {
        to,
        transport: Transport::Udp,
    };
    assert_eq!(h.on_message(&msg, &flooder, &mut out), send);
    assert!(status(&out).starts_with("SIP/2.0 301"));
    let mut refused = 0;
    for _ in 0..20 {
        assert_eq!(h.on_message(&msg, &flooder, &mut out), send);
        let text = String::from_utf8_lossy(&out).into_owned();
        if text.starts_with("SIP/2.0 503 Rate Limited\r\n") {
            assert!(text.contains("\r\nRetry-After: 7\r\n"), "{text}");
            assert!(text.contains("\r\nCall-ID: 1-call\r\n"), "{text}");
            refused += 1;
        }
    }
    assert!(refused >= 15, "refused {refused}");
    assert_eq!(stats.limited_total(Limit::PerSource, 0), refused);
}

#[test]
fn stream_clients_get_the_503_even_when_udp_floods_are_dropped() {
    let (h, stats) = handler(per_source(1, FloodAction::Drop));
    let tcp = peer("192.0.2.7:50000", Transport::Tcp);
    let mut out = Vec::new();
    let msg = register(1, "TCP 192.0.2.7:50000");
    assert_eq!(h.on_message(&msg, &tcp, &mut out), Action::Reply);
    let answers: Vec<String> = (0..10)
        .map(|_| {
            assert_eq!(h.on_message(&msg, &tcp, &mut out), Action::Reply);
            status(&out)
        })
        .collect();
    assert!(
        answers
            .iter()
            .filter(|s| s.starts_with("SIP/2.0 503"))
            .count()
            >= 5,
        "{answers:?}"
    );
    assert!(stats.limited_total(Limit::PerSource, 1) >= 5);
    assert_eq!(stats.limited_total(Limit::PerSource, 0), 0);
}

#[test]
fn responses_are_never_limited() {
    let (h, stats) = handler(per_source(1, FloodAction::Drop));
    let registrar = peer("192.0.2.8:5060", Transport::Udp);
    let mut out = Vec::new();
    for _ in 0..50 {
        // Redirect mode drops responses itself; the throttle never counts them.
        h.on_message(RESPONSE, &registrar, &mut out);
    }
    assert_eq!(stats.limited_total(Limit::PerSource, 0), 0);
}

#[test]
fn an_overloaded_worker_answers_registers_503_and_still_answers_options() {
    let limits = LimitSettings {
        per_worker: Some(Rate::new(1, 3)),
        retry_after_s: 9,
        ..LimitSettings::default()
    };
    let (h, stats) = handler(limits);
    let mut out = Vec::new();
    let mut codes = Vec::new();
    for n in 0..20 {
        // Every request from a different source: the per-source limit is off.
        let p = peer(&format!("192.0.2.{}:5060", 10 + n), Transport::Udp);
        let via = format!("UDP 192.0.2.{}:5060", 10 + n);
        h.on_message(&register(n, &via), &p, &mut out);
        codes.push(status(&out).get(8..11).unwrap_or("").to_owned());
        if status(&out).starts_with("SIP/2.0 503") {
            let text = String::from_utf8_lossy(&out).into_owned();
            assert!(text.starts_with("SIP/2.0 503 Overloaded\r\n"), "{text}");
            assert!(text.contains("\r\nRetry-After: 9\r\n"), "{text}");
        }
        h.on_message(&options(n), &p, &mut out);
        assert!(status(&out).starts_with("SIP/2.0 200"), "{}", status(&out));
    }
    assert!(codes[..2].iter().all(|c| c == "301"), "{codes:?}");
    let overloaded = codes.iter().filter(|c| *c == "503").count();
    assert!(overloaded >= 10, "{codes:?}");
    assert_eq!(stats.limited_total(Limit::Overload, 0), overloaded as u64);
}

#[test]
fn limiting_allocates_nothing_per_message_once_warm() {
    let limits = LimitSettings {
        per_source: Some(Rate::new(1, 2)),
        flood_action: FloodAction::Reject,
        per_worker: Some(Rate::new(1, 1000)),
        retry_after_s: 5,
    };
    let (h, _) = handler(limits);
    let flooder = peer("192.0.2.5:5060", Transport::Udp);
    let msgs: Vec<Vec<u8>> = (0..64)
        .map(|n| register(n, "UDP 192.0.2.5:5060;rport"))
        .collect();
    let mut out = Vec::with_capacity(2048);
    for m in &msgs {
        h.on_message(m, &flooder, &mut out);
    }
    let mut actions = Vec::with_capacity(64 * 10);
    let n = allocations_in(|| {
        for _ in 0..10 {
            for m in &msgs {
                actions.push(h.on_message(m, &flooder, &mut out));
            }
        }
    });
    assert_eq!(n, 0);
    assert!(actions.iter().all(|a| *a == Action::Reply));
}

/// The status codes (or `drop`) of `n` REGISTERs from one UDP source.
fn burst(h: &DirectorHandler, first: u32, n: u32) -> Vec<String> {
    let p = peer("192.0.2.5:5060", Transport::Udp);
    let mut out = Vec::new();
    (first..first + n)
        .map(
            |i| match h.on_message(&register(i, "UDP 192.0.2.5:5060"), &p, &mut out) {
                Action::Drop => "drop".to_owned(),
                _ => status(&out).get(8..11).unwrap_or("").to_owned(),
            },
        )
        .collect()
}

#[test]
fn the_rebuild_rule_is_same_owner_and_same_limits_version() {
    let current = BuiltFor {
        owner: 3,
        limits_version: 7,
    };
    assert!(must_rebuild(None, current), "no buckets yet");
    assert!(!must_rebuild(Some(current), current), "same limits");
    let other_version = BuiltFor {
        limits_version: 8,
        ..current
    };
    assert!(must_rebuild(Some(other_version), current), "limits changed");
    let other_owner = BuiltFor {
        owner: 4,
        ..current
    };
    assert!(must_rebuild(Some(other_owner), current), "another throttle");
}

#[test]
fn a_publish_with_the_same_limits_keeps_the_buckets() {
    let limits = per_source(3, FloodAction::Drop);
    let (h, _, swap) = handler_on(limits);
    assert_eq!(burst(&h, 0, 5), ["301", "301", "301", "drop", "drop"]);
    // A health change or a reload that left [limits] alone: new generation, same version.
    swap.store(snapshot(2, limits, 1));
    assert_eq!(burst(&h, 5, 2), ["drop", "drop"]);
}

#[test]
fn a_publish_with_changed_limits_rebuilds_the_buckets() {
    let (h, _, swap) = handler_on(per_source(3, FloodAction::Drop));
    assert_eq!(burst(&h, 0, 4), ["301", "301", "301", "drop"]);
    swap.store(snapshot(2, per_source(5, FloodAction::Reject), 2));
    assert_eq!(
        burst(&h, 4, 7),
        ["301", "301", "301", "301", "301", "503", "503"]
    );
}

#[test]
fn limits_turned_on_by_a_publish_apply_and_turned_off_stop() {
    let (h, stats, swap) = handler_on(LimitSettings::default());
    assert!(burst(&h, 0, 20).iter().all(|c| c == "301"));
    swap.store(snapshot(2, per_source(2, FloodAction::Reject), 2));
    assert_eq!(burst(&h, 20, 4), ["301", "301", "503", "503"]);
    swap.store(snapshot(3, LimitSettings::default(), 3));
    assert!(burst(&h, 24, 20).iter().all(|c| c == "301"));
    // The same values as before, but a new version: fresh buckets with a full burst.
    swap.store(snapshot(4, per_source(2, FloodAction::Reject), 4));
    assert_eq!(burst(&h, 44, 3), ["301", "301", "503"]);
    assert_eq!(stats.limited_total(Limit::PerSource, 0), 3);
}
