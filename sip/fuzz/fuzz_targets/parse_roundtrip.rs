//! cargo-fuzz target: parse, round-trip and exercise every accessor (see `sip::fuzz`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sip::fuzz::parse_roundtrip(data));
