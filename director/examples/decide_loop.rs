//! Runs `decide` on the decide bench's 64 REGISTERs in a loop, for profilers that want a plain
//! process (callgrind, perf): `cargo build --release -p director --example decide_loop`, then
//! `valgrind --tool=callgrind target/release/examples/decide_loop 1000` (rounds of 64). A second
//! argument runs one stage alone, so that inlined stages can be told apart by subtraction:
//! `parse` (`sip::MessageSlot::parse`, as `decide` does), `validate` (parse and `sip::validate_request_parts`) or `decide`
//! (the default); `forward` and `relay` run the proxy path instead (the REGISTERs forwarded, the
//! registrars' 200s relayed back).

use std::hint::black_box;

use director::decision::{decide, decide_in_mode, Scratch};
use director::topology::Mode;

#[path = "../benches/common/inputs.rs"]
mod inputs;

fn main() {
    let rounds: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let stage = std::env::args().nth(2).unwrap_or_else(|| "decide".into());
    let msgs = inputs::registers();
    let snap = inputs::snapshot();
    let source = inputs::source();
    let proxy_snap = inputs::proxy_snapshot();
    let responses = inputs::proxy_responses(&proxy_snap);
    let registrar = inputs::registrar_source();
    let mut scratch = Scratch::default();
    let mut out = Vec::with_capacity(2048);
    for _ in 0..rounds {
        if stage == "relay" {
            for r in &responses {
                let d = decide_in_mode(
                    &proxy_snap,
                    Mode::Proxy,
                    black_box(r),
                    registrar,
                    &mut scratch,
                    &mut out,
                );
                black_box(d);
            }
            continue;
        }
        for m in &msgs {
            match stage.as_str() {
                "parse" => {
                    let mut slot = sip::MessageSlot::new();
                    let _ = black_box(slot.parse(black_box(m)).is_ok());
                }
                "validate" => {
                    let mut slot = sip::MessageSlot::new();
                    if let Ok(msg) = slot.parse(black_box(m)) {
                        let _ = black_box(sip::validate_request_parts(msg).is_ok());
                    }
                }
                "forward" => {
                    let d = decide_in_mode(
                        &proxy_snap,
                        Mode::Proxy,
                        black_box(m),
                        source,
                        &mut scratch,
                        &mut out,
                    );
                    black_box(d);
                }
                _ => {
                    black_box(decide(&snap, black_box(m), source, &mut scratch, &mut out));
                }
            }
        }
    }
}
