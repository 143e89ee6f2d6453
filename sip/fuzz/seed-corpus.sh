#!/usr/bin/env sh
# Seeds the parse_roundtrip corpus with the RFC 4475 torture messages (and the README's variant).
# Usage: sip/fuzz/seed-corpus.sh [RFC4475_DIR]   then: cd sip/fuzz && cargo +nightly fuzz run parse_roundtrip
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${1:-${RFC4475_DIR:-$here/../../conformance/rfc4475}}
dst=$here/corpus/parse_roundtrip
mkdir -p "$dst"
count=0
for f in "$src"/*.dat "$src"/variants/*.dat; do
    [ -f "$f" ] || continue
    cp "$f" "$dst/$(basename "$f")"
    count=$((count + 1))
done
echo "seeded $count files into $dst"
