//! cargo-fuzz target: the whole request path, `decide` in redirect and proxy mode over UDP and
//! stream sources, with its invariants (see `director::fuzz`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| director::fuzz::request_path(data));
