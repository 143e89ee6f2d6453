//! Runs `decide` on the decide bench's 64 REGISTERs in a loop, for profilers that want a plain
//! process (callgrind, perf): `cargo build --release -p director --example decide_loop`, then
//! `valgrind --tool=callgrind target/release/examples/decide_loop 1000` (rounds of 64). A second
//! argument runs one stage alone, so that inlined stages can be told apart by subtraction:
//! `parse` (`sip::MessageSlot::parse`, as `decide` does), `validate` (parse and `sip::validate_request_parts`) or `decide`
//! (the default); `forward` and `relay` run the proxy path instead (the REGISTERs forwarded, the
//! registrars' 200s relayed back).

use std::hint::black_box;

use director::decision::{decide, Scratch};

#[path = "../benches/common/inputs.rs"]
mod inputs;

fn main() {
    let rounds: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let stage = std::env::args().nth(2).unwrap_or_else(|| "decide".into());
    let msgs = inputs::registers();
    let source = inputs::source();
    let mut scratch = Scratch::default();
    let mut out = Vec::with_capacity(2048);
    if stage == "forward" || stage == "relay" {
        let snap = inputs::proxy_snapshot();
        let (msgs, source) = match stage.as_str() {
            "relay" => (inputs::proxy_responses(&snap), inputs::registrar_source()),
            _ => (msgs, source),
        };
        for _ in 0..rounds {
            inputs::proxy_each(&snap, &msgs, source, &mut scratch, &mut out);
        }
        return;
    }
    let snap = inputs::snapshot();
    for _ in 0..rounds {
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
                _ => {
                    black_box(decide(&snap, black_box(m), source, &mut scratch, &mut out));
                }
            }
        }
    }
}
