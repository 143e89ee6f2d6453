//! The per-datagram work of the redirect path, split into its stages: `sip::parse`,
//! `sip::validate_request` on the parsed message, and the whole `decide` (parse, validate,
//! placement, 301 formatting) on typical REGISTERs from 64 users; and of the proxy path: the
//! same REGISTERs forwarded, and the registrars' 200s relayed back. See docs/performance.md.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use director::decision::{decide, Scratch};

mod common {
    pub mod inputs;
}
use common::inputs;

fn bench(c: &mut Criterion) {
    let msgs = inputs::registers();
    let snap = inputs::snapshot();
    let source = inputs::source();
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

fn bench_proxy(c: &mut Criterion) {
    let msgs = inputs::registers();
    let snap = inputs::proxy_snapshot();
    let responses = inputs::proxy_responses(&snap);
    let (source, registrar) = (inputs::source(), inputs::registrar_source());
    let mut scratch = Scratch::default();
    let mut out = Vec::with_capacity(2048);
    let mut g = c.benchmark_group("proxy");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("forward x64", |b| {
        b.iter(|| inputs::proxy_each(&snap, &msgs, source, &mut scratch, &mut out))
    });
    g.bench_function("relay x64", |b| {
        b.iter(|| inputs::proxy_each(&snap, &responses, registrar, &mut scratch, &mut out))
    });
    g.finish();
}

criterion_group!(benches, bench, bench_proxy);
criterion_main!(benches);
