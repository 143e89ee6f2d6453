//! The `loadgen` binary (placeholder).
fn main() {}
