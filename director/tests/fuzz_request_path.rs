//! Runs the request-path fuzz hook (`director::fuzz::request_path`) over the RFC 4475 corpus,
//! a few hand-written messages and a few thousand random mutations of them, so the hook's
//! invariants are checked by every `cargo test` (the cargo-fuzz target in `director/fuzz`
//! explores further; see docs/fuzzing.md).

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

/// Messages that reach the paths the torture corpus rarely does (301, 200, forwarding).
const HAND_WRITTEN: &[&[u8]] = &[
    b"REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1;rport\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\nCall-ID: a1@h\r\nCSeq: 1 REGISTER\r\nContact: <sip:alice@198.51.100.7>\r\nContent-Length: 0\r\n\r\n",
    b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nv: SIP/2.0/TCP h:5070;branch=z9hG4bK2\r\nf: <sip:p@h>;tag=2\r\nt: <sip:127.0.0.1>\r\ni: o2\r\nCSeq: 7 OPTIONS\r\nl: 0\r\n\r\n",
    b"INVITE sip:bob@Example.COM;transport=tcp SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bK3\r\nMax-Forwards: 1\r\nFrom: \"A\" <sip:a@h>;tag=3\r\nTo: sip:bob@example.com\r\nCall-ID: i3\r\nCSeq: 3 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n",
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 127.0.0.1:5060;branch=z9hG4bKdR0123456789abcdef;rport;dc=2a\r\nVia: SIP/2.0/TCP 198.51.100.7:5060;branch=z9hG4bK4;received=198.51.100.7\r\nFrom: <sip:a@h>;tag=4\r\nTo: <sip:a@h>;tag=5\r\nCall-ID: r4\r\nCSeq: 4 REGISTER\r\nContent-Length: 0\r\n\r\n",
];

fn read_dat_files(dir: &Path, into: &mut Vec<Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for p in paths {
        if p.extension().is_some_and(|e| e == "dat") {
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
            read_dat_files(&sub, &mut c);
        }
        assert!(
            c.len() >= 40,
            "RFC 4475 corpus not found in {} (set RFC4475_DIR)",
            dir.display()
        );
        c.extend(HAND_WRITTEN.iter().map(|m| m.to_vec()));
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

#[derive(Debug, Clone)]
enum Mutation {
    Flip { pos: usize, byte: u8 },
    Truncate { pos: usize },
    Insert { pos: usize, byte: u8 },
    Delete { pos: usize },
    /// Copies a slice of the message over another place (duplicates header lines).
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
