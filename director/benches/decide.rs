//! The per-datagram work of the redirect path, split into its stages: `sip::parse`,
//! `sip::validate_request` on the parsed message, and the whole `decide` (parse, validate,
//! placement, 301 formatting) on typical REGISTERs from 64 users. See docs/performance.md.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use director::config::Config;
use director::decision::{decide, Scratch, Source};
use director::snapshot::Snapshot;

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

fn bench(c: &mut Criterion) {
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
    let mut g = c.benchmark_group("redirect");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("parse x64", |b| {
        b.iter(|| {
            for m in &msgs {
                let _ = black_box(sip::parse(black_box(m)));
            }
        })
    });
    let parsed: Vec<sip::Message<'_>> =
        msgs.iter().map(|m| sip::parse(m).expect("valid")).collect();
    g.bench_function("validate_request x64", |b| {
        b.iter(|| {
            for m in &parsed {
                let _ = black_box(sip::validate_request(black_box(m)));
            }
        })
    });
    let mut scratch = Scratch::default();
    let mut out = Vec::with_capacity(2048);
    g.bench_function("decide x64", |b| {
        b.iter(|| {
            for m in &msgs {
                black_box(decide(&snap, black_box(m), source, &mut scratch, &mut out));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
