//! The `director` binary (placeholder).
fn main() {}
