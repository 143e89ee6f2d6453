//! Runs `decide` on the decide bench's 64 REGISTERs in a loop, for profilers that want a plain
//! process (callgrind, perf): `cargo build --release -p director --example decide_loop`, then
//! `valgrind --tool=callgrind target/release/examples/decide_loop 1000` (rounds of 64).

use std::hint::black_box;

use director::decision::{decide, Scratch};

#[path = "../benches/common/inputs.rs"]
mod inputs;

fn main() {
    let rounds: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let msgs = inputs::registers();
    let snap = inputs::snapshot();
    let source = inputs::source();
    let mut scratch = Scratch::default();
    let mut out = Vec::with_capacity(2048);
    for _ in 0..rounds {
        for m in &msgs {
            black_box(decide(&snap, black_box(m), source, &mut scratch, &mut out));
        }
    }
}
