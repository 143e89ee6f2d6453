#!/usr/bin/env bash
# Keeps the borrowed-machine benchmark working between the rare sessions that get a machine:
# packs debug builds with bench/device/pack.sh into a temporary folder and runs every phase of
# bench/device/run.sh for a second per run at one worker, with python3 and openssl hidden as
# on a bare machine, then checks that each phase measured each of its targets without errors.
# Rates from here mean nothing. Called by scripts/test.sh (after the debug build).
#
# Usage: bench/device/smoke.sh   (needs what pack.sh needs, and the debug binaries)
set -euo pipefail
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_DIR"
work="$(mktemp -d "${TMPDIR:-/tmp}/devsmoke.XXXXXX")"
trap 'rm -rf "$work"' EXIT
fail() { echo "device smoke: $*" >&2; exit 1; }

bench/device/cpus_test.sh
PACK="$work/pack" PACK_PROFILE=debug BENCH_NO_BUILD=1 bench/device/pack.sh

# a PATH without python3 and openssl: every other command the scripts use, linked
mkdir "$work/bin"
IFS=: read -r -a dirs <<<"$PATH"
for d in "${dirs[@]}"; do
    [[ -d "$d" ]] || continue
    for f in "$d"/*; do
        n="${f##*/}"
        case "$n" in python* | openssl) continue ;; esac
        [[ -x "$f" && ! -e "$work/bin/$n" ]] && ln -s "$f" "$work/bin/$n"
    done
done
PATH="$work/bin" command -v python3 >/dev/null && fail "python3 still on the smoke PATH"

# two rounds of the redirect phase: each round starts one target further, so every target runs
# after Kamailio once (a helper that leaked a loop variable once made run.sh skip that one)
PATH="$work/bin" PACK="$work/pack" OUT="$work/out" DEVICE_DURATION=1 DEVICE_ROUNDS=2 \
    DEVICE_WORKERS=1 DEVICE_BUDGET_S=300 DEVICE_IDLE_CONNS=200 bench/device/run.sh

bench/lib/summarize.sh "$work"/out/udp-redirect "$work"/out/udp-redirect-unpinned \
    "$work"/out/udp-proxy "$work"/out/tls-keepalive "$work"/out/latency-udp \
    "$work"/out/latency-udp-proxy >/dev/null
# check [-n N] PHASE TARGET...: N (default 1) records per target, answered, without errors
# (and, in the latency phases, with a p99)
check() {
    local want=1
    if [[ "$1" == -n ]]; then want="$2"; shift 2; fi
    local phase="$1" t runs="$work/out/$1/runs.jsonl"
    shift
    [[ -f "$runs" ]] || runs="$work/out/$phase/latency-runs.jsonl"
    for t in "$@"; do
        python3 - "$runs" "$t" "$want" <<'PY' || fail "$phase: fewer than $want clean runs of $t (logs: $phase.log)"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ok = [r for r in recs if r.get("target") == sys.argv[2] and r.get("rate", 0) > 0 and not r.get("errors")
      and ("fraction" not in r or (r.get("p99_us") or 0) > 0)]
sys.exit(0 if len(ok) >= int(sys.argv[3]) else 1)
PY
    done
}
check -n 2 udp-redirect echo director kamailio
check udp-redirect-unpinned director
check udp-proxy director kamailio
check tls-keepalive director kamailio
check latency-udp echo director
check latency-udp-proxy director kamailio
grep -q -- '--listen 127.0.0.1:[0-9]* --listen.*--reply-sockets' "$work"/out/udp-proxy/logs/registrar.log ||
    fail "the proxy phase did not start several registrar listeners answering from other ports"
grep -q -- 'udp-redirect: bench/run.sh .*--connections 8 ' "$work"/out/device.log ||
    fail "the UDP phases did not give the client eight sockets per thread"
grep -q 'pin-workers false' "$work"/out/udp-redirect-unpinned/logs/*director.target.log ||
    fail "the unpinned phase did not pass --pin-workers false"
awk -F'\t' 'NR == 2 && $1 == 200 && $2 == 200 && $3 == 0 && $7 > $6 { ok = 1 } END { exit !ok }' \
    "$work"/out/tls-idle/tls-idle.tsv 2>/dev/null ||
    fail "the tls-idle phase did not hold 200 idle TLS connections (tls-idle.log)"
echo "device smoke: every phase measured every target (packed kamailio, no python3, no openssl)" >&2
