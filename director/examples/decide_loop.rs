//! Runs `decide` on the decide bench's 64 REGISTERs in a loop, for profilers that want a plain
//! process (callgrind, perf): `cargo build --release -p director --example decide_loop`, then
//! `valgrind --tool=callgrind target/release/examples/decide_loop 2000`.

use director::config::Config;
use director::decision::{decide, Scratch, Source};
use director::snapshot::Snapshot;
use std::hint::black_box;

fn register(n: u32) -> Vec<u8> {
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

fn main() {
    let rounds: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let msgs: Vec<Vec<u8>> = (0..64).map(|i| register(i * 7919)).collect();
    let config = Config::embedded_default().expect("embedded default");
    let snap = Snapshot::all_up(config.topology, 1);
    let source = Source {
        addr: "127.0.0.1:40000".parse().expect("addr"),
        stream: false,
        local: "127.0.0.1:5060".parse().expect("addr"),
        conn: None,
        cert_identity: None,
    };
    let mut scratch = Scratch::default();
    let mut out = Vec::with_capacity(2048);
    for _ in 0..rounds {
        for m in &msgs {
            black_box(decide(&snap, black_box(m), source, &mut scratch, &mut out));
        }
    }
}
