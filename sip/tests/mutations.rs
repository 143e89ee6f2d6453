//! Runs the fuzz hook (`sip::fuzz::parse_roundtrip`) over RFC 4475 messages with random byte
//! flips, truncations and insertions, so the hook's invariants are checked by `cargo test`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::OnceLock;

use proptest::prelude::*;

fn corpus() -> &'static [Vec<u8>] {
    static C: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    C.get_or_init(|| {
        common::load_manifest()
            .into_iter()
            .map(|e| e.bytes)
            .collect()
    })
}

/// Bytes that matter to the grammar, so mutations hit interesting paths more often.
const SPECIAL: &[u8] = b"\r\n \t,;:\"<>%\\/=@?[]*0\x00\xff";

#[derive(Debug, Clone)]
enum Mutation {
    Flip { pos: usize, byte: u8 },
    Truncate { pos: usize },
    Insert { pos: usize, byte: u8 },
    Delete { pos: usize },
}

fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![any::<u8>(), (0..SPECIAL.len()).prop_map(|i| SPECIAL[i])]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), byte()).prop_map(|(pos, byte)| Mutation::Flip { pos, byte }),
        1 => any::<usize>().prop_map(|pos| Mutation::Truncate { pos }),
        3 => (any::<usize>(), byte()).prop_map(|(pos, byte)| Mutation::Insert { pos, byte }),
        2 => any::<usize>().prop_map(|pos| Mutation::Delete { pos }),
    ]
}

fn apply(data: &mut Vec<u8>, m: &Mutation) {
    let n = data.len().max(1);
    match *m {
        Mutation::Flip { pos, byte } => {
            if let Some(b) = data.get_mut(pos % n) {
                *b = byte;
            }
        }
        Mutation::Truncate { pos } => data.truncate(pos % n),
        Mutation::Insert { pos, byte } => data.insert(pos % (data.len() + 1), byte),
        Mutation::Delete { pos } => {
            if !data.is_empty() {
                data.remove(pos % n);
            }
        }
    }
}

/// Everything a caller can observe of a parsed message (or the error).
fn view(r: Result<&sip::Message<'_>, sip::ParseError>) -> String {
    match r {
        Err(e) => format!("{e:?}"),
        Ok(m) => format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            m.start_line(),
            m.headers().collect::<Vec<_>>(),
            m.body(),
            m.head_len(),
            m.content_length(),
            m.as_bytes(),
            m.start_line_range(),
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_rfc4475_messages_never_break_the_hook(
        which in any::<prop::sample::Index>(),
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        let c = corpus();
        let mut data = which.get(c).clone();
        for m in &muts {
            apply(&mut data, m);
        }
        sip::fuzz::parse_roundtrip(&data);
    }

    #[test]
    fn arbitrary_bytes_never_break_the_hook(data in prop::collection::vec(byte(), 0..300)) {
        sip::fuzz::parse_roundtrip(&data);
        let mut framed = b"OPTIONS sip:a SIP/2.0\r\n".to_vec();
        framed.extend_from_slice(&data);
        sip::fuzz::parse_roundtrip(&framed);
    }

    #[test]
    fn a_reused_slot_sees_what_a_fresh_parse_sees(
        msgs in prop::collection::vec(
            (any::<prop::sample::Index>(), prop::collection::vec(mutation(), 0..4)),
            1..6,
        ),
    ) {
        // One slot for the whole sequence, with lifetimes that allow it: what an earlier
        // (longer, or failed) message left in the span table must never show through.
        let c = corpus();
        let inputs: Vec<Vec<u8>> = msgs
            .iter()
            .map(|(which, muts)| {
                let mut data = which.get(c).clone();
                for m in muts {
                    apply(&mut data, m);
                }
                data
            })
            .collect();
        let mut slot = sip::MessageSlot::new();
        for data in &inputs {
            let fresh = view(sip::parse(data).as_ref().map_err(|e| *e));
            prop_assert_eq!(view(slot.parse(data)), fresh);
        }
    }
}
