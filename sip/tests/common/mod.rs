//! Shared helpers for the integration tests: locating and loading the RFC 4475 corpus.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

/// Corpus folder: `$RFC4475_DIR`, else `../conformance/rfc4475` from the crate (the vendored copy).
pub fn corpus_dir() -> PathBuf {
    match std::env::var_os("RFC4475_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance/rfc4475"),
    }
}

/// One MANIFEST.tsv row.
#[derive(Debug, Clone)]
pub struct Entry {
    pub file: String,
    pub section: String,
    pub expected: String,
    pub bytes: Vec<u8>,
}

/// Reads MANIFEST.tsv and every file it names.
pub fn load_manifest() -> Vec<Entry> {
    let dir = corpus_dir();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv"))
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.join("MANIFEST.tsv").display()));
    manifest
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert!(cols.len() >= 4, "bad manifest row: {l}");
            let bytes = std::fs::read(dir.join(cols[0]))
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", cols[0]));
            Entry {
                file: cols[0].to_string(),
                section: cols[1].to_string(),
                expected: cols[3].to_string(),
                bytes,
            }
        })
        .collect()
}
