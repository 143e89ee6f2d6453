#!/usr/bin/env bash
# Makes the tables of a bench/run.sh or bench/latency.sh result directory whose runs were made
# without python3 (a borrowed machine, bench/device/run.sh): rebuilds the runs file from each
# run's loadgen JSON and .meta file in OUT/logs, then writes OUT/results.json and
# OUT/results.md (run.sh), or OUT/latency.json and OUT/latency.md (latency.sh: its runs are
# tagged f<fraction>-..., and its peak runs have no .meta).
#
# Usage: bench/lib/summarize.sh DIR [DIR...]   (DIR: a bench/run.sh or bench/latency.sh --out)
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ $# -gt 0 ]] || { echo "usage: $0 DIR [DIR...]" >&2; exit 2; }
command -v python3 >/dev/null 2>&1 || { echo "$0: python3 is needed here" >&2; exit 1; }
for out in "$@"; do
    [[ -d "$out/logs" ]] || { echo "$0: $out/logs: no such directory" >&2; exit 1; }
    runs="$out/runs.jsonl" kind=summarize
    if compgen -G "$out/logs/f*.meta" >/dev/null; then
        runs="$out/latency-runs.jsonl" kind=latency
    fi
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
    python3 "$BENCH_DIR/lib/results.py" "$kind" "$runs" "$out"
done
