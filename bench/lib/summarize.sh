#!/usr/bin/env bash
# Makes the tables of a bench/run.sh result directory whose runs were made without python3
# (a borrowed machine, bench/device/run.sh): rebuilds OUT/runs.jsonl from each run's loadgen
# JSON and .meta file in OUT/logs, then writes OUT/results.json and OUT/results.md.
#
# Usage: bench/lib/summarize.sh DIR [DIR...]   (DIR: a bench/run.sh --out directory)
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ $# -gt 0 ]] || { echo "usage: $0 DIR [DIR...]" >&2; exit 2; }
command -v python3 >/dev/null 2>&1 || { echo "$0: python3 is needed here" >&2; exit 1; }
for out in "$@"; do
    [[ -d "$out/logs" ]] || { echo "$0: $out/logs: no such directory" >&2; exit 1; }
    runs="$out/runs.jsonl"
    : >"$runs"
    n=0
    for meta in "$out"/logs/*.meta; do
        [[ -e "$meta" ]] || continue
        json="${meta%.meta}.json"
        [[ -s "$json" ]] || { echo "$0: $json missing, run skipped" >&2; continue; }
        mapfile -t kv <"$meta"
        python3 "$BENCH_DIR/lib/results.py" record "$json" "${kv[@]}" >>"$runs"
        n=$((n + 1))
    done
    [[ $n -gt 0 ]] || { echo "$0: no runs in $out/logs" >&2; exit 1; }
    python3 "$BENCH_DIR/lib/results.py" summarize "$runs" "$out"
done
