//! Criterion benchmarks of the hot path: parse a typical UDP REGISTER (returned by value, and
//! into a [`sip::MessageSlot`]), parse + extract the To URI and top Via, and frame the same
//! message as a stream.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sip::{frame, parse, Limits, MessageSlot, Uri};

const REGISTER: &[u8] = b"REGISTER sip:example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:49152;branch=z9hG4bK-524287-1---7f3c2a9d1e5b4c60;rport\r\n\
Max-Forwards: 70\r\n\
From: \"Alice\" <sip:alice@example.com>;tag=9fxced76sl\r\n\
To: \"Alice\" <sip:alice@example.com>\r\n\
Call-ID: 3848276298220188511@192.0.2.10\r\n\
CSeq: 1826 REGISTER\r\n\
Contact: <sip:alice@192.0.2.10:49152;transport=udp;ob>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"\r\n\
Expires: 3600\r\n\
User-Agent: ExampleSoftphone/5.3.1 (Linux)\r\n\
Content-Length: 0\r\n\r\n";

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("register");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse", |b| {
        b.iter(|| {
            let m = parse(black_box(REGISTER));
            black_box(m.is_ok())
        })
    });
    g.bench_function("parse into a slot", |b| {
        b.iter(|| {
            let mut slot = MessageSlot::new();
            let m = slot.parse(black_box(REGISTER));
            black_box(m.is_ok())
        })
    });
    g.bench_function("parse+to_uri+top_via", |b| {
        b.iter(|| {
            let m = parse(black_box(REGISTER)).ok()?;
            let to = m.to().ok()?;
            let uri = Uri::parse(to.uri).ok()?;
            let via = m.top_via().ok()?;
            black_box((uri.user, uri.host, via.branch(), via.rport()));
            Some(())
        })
    });
    let limits = Limits::default();
    g.bench_function("frame", |b| {
        b.iter(|| black_box(frame(black_box(REGISTER), &limits)))
    });
    g.finish();
}

criterion_group!(parse_benches, benches);
criterion_main!(parse_benches);
