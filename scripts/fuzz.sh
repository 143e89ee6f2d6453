#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz / libFuzzer) of the SIP parser and of the director's whole
# request path, for a bounded time per target. Part of scripts/test.sh (30 s per target there);
# run it by hand for longer. See docs/fuzzing.md.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 30; 0 skips)
#   FUZZ_TARGETS="sip:parse_roundtrip director:request_path"   which targets (the default)
#   FUZZ_SANITIZER=none|address                   default none (see docs/fuzzing.md: Rust code
#                                                 here has no unsafe; ASan only slows the build)
#   RFC4475_DIR=...                               the seed corpus (default conformance/rfc4475)
#
# Seeds each corpus from the RFC 4475 corpus and director/fuzz/seeds, installs cargo-fuzz into
# target/tools if it is not on PATH, builds and runs every target. Exits non-zero when a target
# finds a crash (the input is saved under <crate>/fuzz/artifacts/<target>/ and printed), 0 with
# a "fuzz: SKIPPED" message when the nightly toolchain or cargo-fuzz is unavailable or the
# fuzz build itself fails for toolchain reasons (the hook is built and tested on stable by
# `cargo test` anyway).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

secs=${1:-30}
targets=${FUZZ_TARGETS:-"sip:parse_roundtrip director:request_path"}
sanitizer=${FUZZ_SANITIZER:-none}
corpus_src=${RFC4475_DIR:-$root/conformance/rfc4475}
logs=$root/target/fuzz-logs

skip() {
    echo "== fuzz: SKIPPED: $*" >&2
    exit 0
}

case $secs in
'' | *[!0-9]*)
    echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET]" >&2
    exit 2
    ;;
0) skip "0 seconds requested" ;;
esac

if ! cargo +nightly --version >/dev/null 2>&1; then
    skip "no nightly toolchain (rustup toolchain install nightly)"
fi

# cargo-fuzz: from PATH, else the project-local install (built once, kept in target/tools).
export PATH=$root/target/tools/bin:$PATH
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "== fuzz: installing cargo-fuzz into target/tools (once, ~1.5 min)" >&2
    if ! cargo install cargo-fuzz --locked --root "$root/target/tools"; then
        skip "cargo-fuzz is not installed and could not be installed"
    fi
fi

mkdir -p "$logs"
failed=0
for spec in $targets; do
    crate=${spec%%:*}
    target=${spec#*:}
    dir=$root/$crate/fuzz
    corpus=$dir/corpus/$target
    mkdir -p "$corpus"

    # Seeds: the RFC 4475 corpus (via the crate's own script where it has one) and the
    # hand-written messages in director/fuzz/seeds. The corpus keeps what earlier runs found.
    if [ -x "$dir/seed-corpus.sh" ]; then
        "$dir/seed-corpus.sh" "$corpus_src" >/dev/null
    fi
    for f in "$corpus_src"/*.dat "$corpus_src"/variants/*.dat "$corpus_src"/extra/*.dat \
        "$root"/director/fuzz/seeds/*; do
        [ -f "$f" ] && cp "$f" "$corpus/"
    done

    # The fuzz projects are outside the workspace: start from the workspace's lock file so
    # they build the same dependency versions (cargo adds libfuzzer-sys).
    [ -f "$dir/Cargo.lock" ] || cp "$root/Cargo.lock" "$dir/Cargo.lock"

    flags=(--sanitizer "$sanitizer")
    log=$logs/$crate-$target.log
    echo "== fuzz: building $crate $target (sanitizer $sanitizer)" >&2
    start=$(date +%s)
    if ! (cd "$dir" && cargo +nightly fuzz build "${flags[@]}" "$target") >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        skip "cargo +nightly fuzz build $target failed (toolchain problem?); log: $log"
    fi
    echo "== fuzz: built in $(($(date +%s) - start)) s; running $crate $target for $secs s" \
        "($(find "$corpus" -type f | wc -l) corpus files)" >&2

    stamp=$(mktemp)
    if (cd "$dir" && cargo +nightly fuzz run "${flags[@]}" "$target" "corpus/$target" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1) \
        >>"$log" 2>&1; then
        grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" "$log" | tail -3 >&2 || true
    else
        failed=1
        # The broken invariant (panic message) and libFuzzer's summary; the rest is in the log.
        sed -n '/panicked at/,/stack backtrace/p' "$log" | head -n 20 >&2
        sed -n '/^SUMMARY/,/Test unit written/p' "$log" | cut -c1-300 >&2
        echo "== fuzz: $crate $target FAILED; full log: $log" >&2
        find "$dir/artifacts/$target" -type f -newer "$stamp" 2>/dev/null | while read -r a; do
            echo "== fuzz: crashing input: $a" >&2
            echo "   reproduce: (cd $crate/fuzz && cargo +nightly fuzz run" \
                "--sanitizer $sanitizer $target ${a#"$dir/"})" >&2
        done
    fi
    rm -f "$stamp"
done
exit "$failed"
