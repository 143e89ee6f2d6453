//! No allocation per message on the redirect path: a counting global allocator (per thread, so
//! other test threads cannot disturb the count) around `decide` and the dataplane handler's
//! `on_message` for typical REGISTERs and OPTIONS after a warm-up.

use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use dataplane::{Action, Handler, Peer, Transport};
use director::config::Config;
use director::decision::{decide, Outcome, Scratch, Source, Verdict};
use director::handler::DirectorHandler;
use director::snapshot::Snapshot;
use director::stats::DecisionStats;

use alloc_count::allocations_in;

#[global_allocator]
static GLOBAL: alloc_count::Counting = alloc_count::Counting;

fn register(user: &str, n: u32) -> Vec<u8> {
    format!(
        "REGISTER sip:example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK-{n:08x};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{user}@example.com>;tag=f{n}\r\n\
         To: <sip:{user}@example.com>\r\n\
         Call-ID: {n}-call@192.0.2.10\r\n\
         CSeq: {n} REGISTER\r\n\
         Contact: <sip:{user}@192.0.2.10:5070>\r\n\
         Expires: 3600\r\n\
         User-Agent: loadgen\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn options(n: u32) -> Vec<u8> {
    format!(
        "OPTIONS sip:director.example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK-o{n};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:probe@example.com>;tag=o{n}\r\n\
         To: <sip:director.example.com>\r\n\
         Call-ID: o{n}@192.0.2.10\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn messages() -> Vec<Vec<u8>> {
    let mut m: Vec<Vec<u8>> = (0..64).map(|i| register(&format!("user{i}"), i)).collect();
    m.push(options(1));
    m
}

const SOURCE: &str = "192.0.2.10:5070";

#[test]
fn the_counter_sees_allocations() {
    let n = allocations_in(|| drop(std::hint::black_box(Vec::<u8>::with_capacity(64))));
    assert_eq!(n, 1);
}

#[test]
fn decide_allocates_nothing_after_warm_up() {
    let config = Config::embedded_default().expect("embedded default");
    let snap = Snapshot::all_up(config.topology, 1);
    let source = Source {
        addr: SOURCE.parse().expect("addr"),
        stream: false,
        local: "127.0.0.1:5060".parse().expect("addr"),
        conn: None,
        cert_identity: None,
    };
    let msgs = messages();
    let mut scratch = Scratch::default();
    let mut out = Vec::with_capacity(2048);
    for m in &msgs {
        decide(&snap, m, source, &mut scratch, &mut out);
    }
    let mut outcomes = Vec::with_capacity(msgs.len() * 100);
    let n = allocations_in(|| {
        for _ in 0..100 {
            for m in &msgs {
                outcomes.push(decide(&snap, m, source, &mut scratch, &mut out));
            }
        }
    });
    assert_eq!(n, 0, "allocations for {} decisions", outcomes.len());
    assert!(outcomes.iter().all(|o| matches!(
        o,
        (Verdict::Reply, Outcome::Redirected | Outcome::OptionsOk)
    )));
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| o.1 == Outcome::Redirected)
            .count(),
        6400
    );
}

#[test]
fn handler_allocates_nothing_after_warm_up() {
    let config = Config::embedded_default().expect("embedded default");
    let snapshot = Arc::new(ArcSwap::from_pointee(Snapshot::all_up(config.topology, 1)));
    let stats = Arc::new(DecisionStats::new(1));
    let handler = DirectorHandler::new(snapshot, Arc::clone(&stats));
    let local: SocketAddr = "127.0.0.1:5060".parse().expect("addr");
    let peer = Peer {
        remote: SOURCE.parse().expect("addr"),
        local,
        transport: Transport::Udp,
        conn: None,
        worker: 0,
        tls_identity: None,
    };
    let msgs = messages();
    let mut out = Vec::with_capacity(2048);
    for m in &msgs {
        out.clear();
        handler.on_message(m, &peer, &mut out);
    }
    let mut replies = 0u32;
    let mut bytes = 0usize;
    let n = allocations_in(|| {
        for _ in 0..100 {
            for m in &msgs {
                out.clear();
                if handler.on_message(m, &peer, &mut out) == Action::Reply {
                    replies += 1;
                    bytes += out.len();
                }
            }
        }
    });
    assert_eq!(n, 0, "allocations for {replies} replies");
    assert_eq!(replies, 6500);
    assert!(bytes > 6500 * 300, "{bytes} bytes of replies");
    assert_eq!(stats.total(Outcome::Redirected), 6400 + 64);
}
