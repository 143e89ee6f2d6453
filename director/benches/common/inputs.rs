//! The redirect and proxy paths' typical input, shared by `benches/decide.rs` and
//! `examples/decide_loop.rs` (included by path): 64 users' REGISTERs over UDP, the embedded
//! default topology with every registrar up, the source they come from, and for proxy mode the
//! same topology forwarding to addresses with the 200s its registrars would answer.

use std::hint::black_box;
use std::net::SocketAddr;

use director::config::Config;
use director::decision::{decide_in_mode, Outcome, Scratch, Source};
use director::health::HealthPolicy;
use director::snapshot::Snapshot;
use director::topology::Mode;

/// A REGISTER from user `n`, as a UDP softphone writes it.
pub fn register(n: u32) -> Vec<u8> {
    format!(
        "REGISTER sip:example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK1a2b.3.{n:x};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:user{n}@example.com>;tag={n:x}\r\n\
         To: <sip:user{n}@example.com>\r\n\
         Call-ID: 1a2b-3-{n:x}\r\n\
         CSeq: {n} REGISTER\r\n\
         Contact: <sip:user{n}@127.0.0.1:40000>\r\n\
         Expires: 3600\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// 64 different users' REGISTERs.
pub fn registers() -> Vec<Vec<u8>> {
    (0..64).map(|i| register(i * 7919)).collect()
}

/// The embedded default topology, every registrar up.
pub fn snapshot() -> Snapshot {
    let config = Config::embedded_default().expect("embedded default");
    Snapshot::all_up(config.topology, 1)
}

/// Where the REGISTERs come from (UDP).
pub fn source() -> Source<'static> {
    Source {
        addr: "127.0.0.1:40000".parse().expect("addr"),
        stream: false,
        local: "127.0.0.1:5060".parse().expect("addr"),
        conn: None,
        cert_identity: None,
    }
}

/// The embedded default topology in proxy mode, every registrar up at its own loopback address.
pub fn proxy_snapshot() -> Snapshot {
    let config = Config::embedded_default().expect("embedded default");
    let eligibility = HealthPolicy::new(&config.topology, config.health).eligibility();
    let topology = config.topology;
    let mut port = 6000u16;
    let addrs = topology
        .pools()
        .iter()
        .map(|pool| {
            pool.registrars()
                .iter()
                .map(|_| {
                    port += 1;
                    Some(SocketAddr::from(([127, 0, 0, 1], port)))
                })
                .collect()
        })
        .collect();
    Snapshot::new(topology, eligibility, addrs, 1)
}

/// Where a registrar's answers come from.
pub fn registrar_source() -> Source<'static> {
    Source {
        addr: "127.0.0.1:6001".parse().expect("addr"),
        ..source()
    }
}

/// The 200 a registrar answers to each forwarded REGISTER of `registers()`: every Via of the
/// forwarded request (the director's on top), its From, To with a tag, Call-ID and CSeq, the
/// Contact with an expiry, and a Date, as a registrar writes them.
pub fn proxy_responses(snap: &Snapshot) -> Vec<Vec<u8>> {
    let mut scratch = Scratch::default();
    let mut out = Vec::with_capacity(2048);
    registers()
        .iter()
        .map(|m| {
            let (_, o) = decide_in_mode(snap, Mode::Proxy, m, source(), &mut scratch, &mut out);
            assert_eq!(o, Outcome::Forwarded, "the forwarded input");
            let fwd = std::str::from_utf8(&out).expect("utf8");
            let mut r = String::from("SIP/2.0 200 OK\r\n");
            for line in fwd.split("\r\n") {
                let name = line.split(':').next().unwrap_or("");
                match name {
                    "Via" | "From" | "Call-ID" | "CSeq" => r += &format!("{line}\r\n"),
                    "To" => r += &format!("{line};tag=reg-7f3a\r\n"),
                    "Contact" => r += &format!("{line};expires=3600\r\n"),
                    _ => {}
                }
            }
            r += "Date: Fri, 04 Dec 2026 19:00:00 GMT\r\nContent-Length: 0\r\n\r\n";
            r.into_bytes()
        })
        .collect()
}

/// Runs each of `msgs` through the proxy-mode decision from `source` (the proxy stages of the
/// bench and of `decide_loop`).
pub fn proxy_each(
    snap: &Snapshot,
    msgs: &[Vec<u8>],
    source: Source<'_>,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) {
    for m in msgs {
        black_box(decide_in_mode(
            snap,
            Mode::Proxy,
            black_box(m),
            source,
            scratch,
            out,
        ));
    }
}
