//! Placement micro-benchmarks: ranking 12 machines, choosing among 4 pools, the hot-path
//! first-eligible walk, key canonicalisation and a full `Topology::home`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use director::config::Config;
use director::placement::{first_eligible, rank, Member, PlacementKey, Weight};

fn machines(n: usize, prefix: &str) -> Vec<Member> {
    (0..n)
        .map(|i| Member::new(format!("{prefix}{i:02}.pool1.example.com"), Weight::ONE))
        .collect()
}

fn bench(c: &mut Criterion) {
    let key = PlacementKey::parse_aor("sip:alice.smith@example.com").expect("valid");
    let twelve = machines(12, "fe");
    let pools: Vec<Member> = ["pool1", "pool2", "pool3", "pool4"]
        .iter()
        .map(|id| Member::new(*id, Weight::ONE))
        .collect();

    c.bench_function("rank 12 machines", |b| {
        b.iter(|| rank(black_box(&key), black_box(&twelve)))
    });
    c.bench_function("first_eligible 12 machines", |b| {
        b.iter(|| first_eligible(black_box(&key), black_box(&twelve), |_| true))
    });
    c.bench_function("pool choice among 4 pools", |b| {
        b.iter(|| first_eligible(black_box(&key), black_box(&pools), |_| true))
    });
    let mut reused = PlacementKey::with_capacity(256);
    c.bench_function("canonicalise key (reused buffer)", |b| {
        b.iter(|| {
            reused
                .set_from_uri_parts(
                    Some(black_box(b"alice.smith%2Bwork")),
                    black_box(b"Example.COM"),
                )
                .map(|()| reused.as_bytes().len())
        })
    });
    c.bench_function("parse_aor (allocating)", |b| {
        b.iter(|| {
            PlacementKey::parse_aor(black_box("sips:alice.smith@Example.COM:5061;transport=tls"))
        })
    });
    let config = Config::embedded_default().expect("valid");
    c.bench_function("Topology::home (demo: 2 pools, 3+2 machines)", |b| {
        b.iter(|| config.topology.home(black_box(&key)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
