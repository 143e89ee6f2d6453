//! Runs the request-path fuzz hook (`director::fuzz::request_path`) over the RFC 4475 corpus,
//! the hand-written seeds in `director/fuzz/seeds` and a few thousand random mutations of them,
//! so the hook's invariants are checked by every `cargo test` (the cargo-fuzz target in
//! `director/fuzz` explores further; see docs/fuzzing.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use director::fuzz::request_path;
use proptest::prelude::*;

/// Corpus folder: `$RFC4475_DIR`, else the vendored `conformance/rfc4475` at the workspace root.
fn corpus_dir() -> PathBuf {
    match std::env::var_os("RFC4475_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance/rfc4475"),
    }
}

/// Hand-written messages that reach the paths the torture corpus rarely does (301, 200,
/// forwarding, relaying), shared with the cargo-fuzz corpus; regression inputs go there too.
fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds")
}

fn read_files(dir: &Path, ext: Option<&str>, into: &mut Vec<Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for p in paths {
        if p.is_file() && ext.is_none_or(|x| p.extension().is_some_and(|e| e == x)) {
            into.push(std::fs::read(&p).unwrap());
        }
    }
}

fn corpus() -> &'static [Vec<u8>] {
    static C: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    C.get_or_init(|| {
        let dir = corpus_dir();
        let mut c = Vec::new();
        for sub in [dir.clone(), dir.join("variants"), dir.join("extra")] {
            read_files(&sub, Some("dat"), &mut c);
        }
        assert!(
            c.len() >= 40,
            "RFC 4475 corpus not found in {} (set RFC4475_DIR)",
            dir.display()
        );
        let before = c.len();
        read_files(&seeds_dir(), None, &mut c);
        assert!(c.len() > before, "no seeds in {}", seeds_dir().display());
        c
    })
}

#[test]
fn corpus_messages_keep_the_invariants() {
    for m in corpus() {
        request_path(m);
    }
}

#[test]
fn edge_inputs_keep_the_invariants() {
    for m in [
        &b""[..],
        b"\r\n\r\n",
        b"\0",
        b"SIP/2.0 200 OK\r\n\r\n",
        b"REGISTER sip:h SIP/2.0\r\n\r\n",
        b"ACK sip:h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n",
    ] {
        request_path(m);
    }
}

/// Bytes that matter to the grammar, so mutations hit interesting paths more often.
const SPECIAL: &[u8] = b"\r\n \t,;:\"<>%\\/=@?[]*0\x00\xff";

/// One edit; `Splice` copies a slice of the message to another place (duplicated lines).
#[derive(Debug, Clone)]
enum Mutation {
    Flip { pos: usize, byte: u8 },
    Truncate { pos: usize },
    Insert { pos: usize, byte: u8 },
    Delete { pos: usize },
    Splice { from: usize, len: usize, to: usize },
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
        1 => (any::<usize>(), 1..64usize, any::<usize>())
            .prop_map(|(from, len, to)| Mutation::Splice { from, len, to }),
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
        Mutation::Splice { from, len, to } => {
            let from = from % n;
            let piece: Vec<u8> = data.iter().skip(from).take(len).copied().collect();
            let to = to % (data.len() + 1);
            data.splice(to..to, piece);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_messages_keep_the_invariants(
        which in any::<prop::sample::Index>(),
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        let c = corpus();
        let mut data = which.get(c).clone();
        for m in &muts {
            apply(&mut data, m);
        }
        request_path(&data);
    }
}
