#!/usr/bin/env bash
# End-to-end throughput benchmark: the same load generator, the same client
# settings, against a raw UDP echo (the ceiling), our director and Kamailio 5.6,
# in alternating runs; medians over rounds and ratios.
#
# Usage: bench/run.sh [options]
#   --duration S          seconds per run                          (default 10)
#   --rounds N            rounds; each round runs every target once  (default 3)
#   --workers "1 2"       worker counts (echo threads, director workers, kamailio children)
#   --in-flight N         requests in flight per client thread       (default 64)
#   --client-threads N    loadgen threads                            (default 1)
#   --users N             distinct users (To URIs)                   (default 100000)
#   --targets "echo director kamailio"
#   --mode redirect|proxy redirect: REGISTER -> 301; proxy: stateless forward to
#                         a `loadgen registrar` on BENCH_REGISTRAR_PORT (default redirect)
#   --out DIR             results directory   (default bench/results/<date>-<mode>)
#   -h, --help
#
# Environment: see bench/lib/common.sh (ports, CPU pinning, binaries, kamailio
# memory), plus LOADGEN_EXTRA_ARGS (appended to `loadgen register`).
#
# Writes OUT/runs.jsonl (one record per run), OUT/results.json, OUT/results.md,
# OUT/machine.txt, OUT/command.txt and OUT/logs/ (target logs, loadgen JSON).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

DURATION=10
ROUNDS=3
WORKERS="1 2"
IN_FLIGHT=64
CLIENT_THREADS=1
USERS=100000
TARGETS="echo director kamailio"
MODE=redirect
OUT=""

while [[ $# -gt 0 ]]; do
    case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --workers) WORKERS="$2"; shift 2 ;;
    --in-flight) IN_FLIGHT="$2"; shift 2 ;;
    --client-threads) CLIENT_THREADS="$2"; shift 2 ;;
    --users) USERS="$2"; shift 2 ;;
    --targets) TARGETS="$2"; shift 2 ;;
    --mode) MODE="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
    esac
done
[[ "$MODE" == redirect || "$MODE" == proxy ]] || die "--mode must be redirect or proxy"
OUT="${OUT:-$BENCH_DIR/results/$(date +%Y%m%d-%H%M%S)-$MODE}"

bench_init
read -r -a TARGET_LIST <<<"$TARGETS"
read -r -a WORKER_LIST <<<"$WORKERS"
[[ ${#TARGET_LIST[@]} -gt 0 ]] || die "no targets"

ensure_python
for t in "${TARGET_LIST[@]}"; do
    [[ "$t" == kamailio ]] && ensure_kamailio
done
build_release

mkdir -p "$OUT/logs"
RUNS="$OUT/runs.jsonl"
: >"$RUNS"
machine_info >"$OUT/machine.txt"
printf '%q ' "$0" --duration "$DURATION" --rounds "$ROUNDS" --workers "$WORKERS" --in-flight "$IN_FLIGHT" \
    --client-threads "$CLIENT_THREADS" --users "$USERS" --targets "$TARGETS" --mode "$MODE" --out "$OUT" >"$OUT/command.txt"
printf '\n' >>"$OUT/command.txt"
log "results in $OUT"

if [[ "$MODE" == proxy ]]; then
    start_registrar "$OUT/logs/registrar.log"
fi

LG_DURATION="$DURATION"
LG_IN_FLIGHT="$IN_FLIGHT"
LG_THREADS="$CLIENT_THREADS"
LG_USERS="$USERS"

# run_one ROUND WORKERS TARGET
run_one() {
    local round="$1" w="$2" t="$3"
    local tag="r${round}-w${w}-${t}"
    local json="$OUT/logs/$tag.json"
    log "round $round, $w worker(s), $t: start"
    if ! start_target "$t" "$MODE" "$w" "$OUT/logs/$tag.target.log"; then
        log "round $round, $w worker(s), $t: target failed to start, skipped"
        return 0
    fi
    local rc=0
    loadgen_register "$json" "$OUT/logs/$tag.loadgen.log" || rc=$?
    stop_target
    if [[ $rc -ne 0 || ! -s "$json" ]]; then
        log "round $round, $w worker(s), $t: loadgen failed (rc=$rc), see $OUT/logs/$tag.loadgen.log"
        tail -n 5 "$OUT/logs/$tag.loadgen.log" >&2 || true
        return 0
    fi
    python3 "$BENCH_DIR/lib/results.py" record "$json" \
        "round=$round" "workers=$w" "target=$t" "mode=$MODE" \
        "duration=$DURATION" "in_flight=$IN_FLIGHT" "client_threads=$CLIENT_THREADS" >>"$RUNS"
    log "round $round, $w worker(s), $t: $(python3 "$BENCH_DIR/lib/results.py" last "$RUNS")"
}

n=${#TARGET_LIST[@]}
for ((round = 1; round <= ROUNDS; round++)); do
    for w in "${WORKER_LIST[@]}"; do
        # alternate: each round starts one target further, so no target always
        # runs first (cold caches) or last (warm machine, thermal state).
        for ((i = 0; i < n; i++)); do
            run_one "$round" "$w" "${TARGET_LIST[$(((i + round - 1) % n))]}"
        done
    done
done

stop_registrar
[[ -s "$RUNS" ]] || die "no successful runs; see $OUT/logs"
python3 "$BENCH_DIR/lib/results.py" summarize "$RUNS" "$OUT"
log "wrote $OUT/results.json and $OUT/results.md"
