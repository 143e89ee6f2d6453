#!/usr/bin/env bash
# The whole test suite, from a fresh checkout: installs the real peers the tests use (SIPp,
# Kamailio), checks formatting, lints and rustdoc links, builds the binaries the process-level
# tests start, and runs every test in the workspace. This is what `.ci/run` runs.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

echo "== rustfmt" >&2
cargo fmt --all -- --check

echo "== clippy" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== rustdoc (broken intra-doc links are errors)" >&2
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --document-private-items --locked

echo "== build binaries used by process tests" >&2
cargo build --workspace --bins --locked
# the idle-TLS client the device bench packs (bench/device/smoke.sh below)
cargo build -p dataplane --example tls_idle_clients --locked

echo "== tests" >&2
cargo test --workspace --locked -- --test-threads=2

# The packed many-core benchmark (bench/device/) still runs where no package can be installed
echo "== device bench smoke" >&2
bench/device/smoke.sh

# Bounded coverage-guided fuzzing of the parser and the request path (docs/fuzzing.md):
# FUZZ_SECONDS per target (default 30, 0 skips); skips with a message without nightly/cargo-fuzz.
echo "== fuzz" >&2
scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
