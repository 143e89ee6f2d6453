#!/usr/bin/env bash
# End-to-end throughput benchmark: the same load generator, the same client
# settings, against a raw UDP echo (the ceiling), our director and Kamailio 5.6,
# in alternating runs; medians over rounds and ratios. With --transport tcp or tls: the
# director and Kamailio (TCP listener / tls module) over kept-alive TCP or TLS connections,
# or with --new-connection-per-request one connection (TLS: one handshake) per REGISTER.
#
# Usage: bench/run.sh [options]
#   --duration S          seconds per run                          (default 10)
#   --rounds N            rounds; each round runs every target once  (default 3)
#   --workers "1 2"       worker counts (echo threads, director workers, kamailio children)
#   --in-flight N         requests in flight per client thread       (default 64)
#   --client-threads N    loadgen threads                            (default 1)
#   --users N             distinct users (To URIs)                   (default 100000)
#   --targets "echo director kamailio"   (over TCP/TLS: default "director kamailio";
#                         also `registrar`: loadgen's one-thread TCP/TLS registrar simulator
#                         answering 200, a reference for what the client reaches over TCP/TLS)
#   --mode redirect|proxy redirect: REGISTER -> 301; proxy: stateless forward to
#                         a `loadgen registrar` on BENCH_REGISTRAR_PORT (default redirect)
#   --transport udp|tcp|tls  udp (default), or tcp / tls: every target listens on TCP / TLS
#                         only (TLS: throwaway self-signed certificate), loadgen keeps
#                         --connections connections open for the whole run and pipelines over
#                         them; redirect mode only; each answer must be a 301 (--expect 301)
#   --connections N       loadgen connections in total (TCP/TLS; default 16) or UDP sockets
#                         (default: one per client thread)
#   --new-connection-per-request   TCP/TLS: loadgen --tls-new-connection-per-request: every
#                         REGISTER on a new connection (over TLS a new handshake), closed after
#                         its answer; --in-flight connections per client thread at a time
#                         (--connections does not apply); the rate is then connections/s;
#                         loadgen binds them to 127.0.0.1-64 (--source-ips 64)
#   --tls-no-resumption   TLS: loadgen --tls-no-resumption, so that every handshake is a full
#                         one (each run's record counts `resumed_handshakes` either way)
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
TARGETS=""
MODE=redirect
TRANSPORT=udp
CONNECTIONS=""
NEW_CONN=0
NO_RESUME=0
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
    --transport) TRANSPORT="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --new-connection-per-request) NEW_CONN=1; shift ;;
    --tls-no-resumption) NO_RESUME=1; shift ;;
    --out) OUT="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
    esac
done
[[ "$MODE" == redirect || "$MODE" == proxy ]] || die "--mode must be redirect or proxy"
[[ "$TRANSPORT" == udp || "$TRANSPORT" == tcp || "$TRANSPORT" == tls ]] ||
    die "--transport must be udp, tcp or tls"
if [[ "$TRANSPORT" != udp ]]; then
    [[ "$MODE" == redirect ]] || die "--transport $TRANSPORT: redirect mode only"
    TARGETS="${TARGETS:-director kamailio}"
    [[ " $TARGETS " != *" echo "* ]] || die "the echo is UDP only (over TCP/TLS use the registrar target)"
    RUN_KIND="$MODE-$TRANSPORT"
    if [[ "$NEW_CONN" == 1 ]]; then
        # one connection per request: loadgen opens --in-flight per thread at a time
        [[ -z "$CONNECTIONS" ]] || die "--connections does not apply with --new-connection-per-request"
        RUN_KIND="$RUN_KIND-newconn"
    else
        CONNECTIONS="${CONNECTIONS:-16}"
    fi
else
    [[ "$NEW_CONN" == 0 ]] || die "--new-connection-per-request: TCP or TLS only"
    TARGETS="${TARGETS:-echo director kamailio}"
    RUN_KIND="$MODE"
fi
if [[ "$NO_RESUME" == 1 ]]; then
    [[ "$TRANSPORT" == tls ]] || die "--tls-no-resumption: TLS only"
    RUN_KIND="$RUN_KIND-full"
fi
BENCH_TRANSPORT="$TRANSPORT"
OUT="${OUT:-$BENCH_DIR/results/$(date +%Y%m%d-%H%M%S)-$RUN_KIND}"

bench_init
read -r -a TARGET_LIST <<<"$TARGETS"
read -r -a WORKER_LIST <<<"$WORKERS"
[[ ${#TARGET_LIST[@]} -gt 0 ]] || die "no targets"

# python3 turns each run into a record and the records into tables; on a borrowed machine
# without it (BENCH_NO_INSTALL=1) the runs still happen and bench/lib/summarize.sh makes the
# tables afterwards from the loadgen JSON and .meta file each run leaves in logs/
HAVE_PYTHON=1
if ! command -v python3 >/dev/null 2>&1 && [[ "${BENCH_NO_INSTALL:-0}" == 1 ]]; then
    HAVE_PYTHON=0
    log "python3 missing: summarize afterwards with bench/lib/summarize.sh $OUT"
else
    ensure_python
fi
for t in "${TARGET_LIST[@]}"; do
    if [[ "$t" == kamailio ]]; then
        if [[ "$TRANSPORT" == tls ]]; then ensure_kamailio_tls; else ensure_kamailio; fi
    fi
done
[[ "$TRANSPORT" == tls ]] && ensure_openssl
build_release

mkdir -p "$OUT/logs"
RUNS="$OUT/runs.jsonl"
: >"$RUNS"
machine_info >"$OUT/machine.txt"
NEW_CONN_ARG=()
[[ "$NEW_CONN" == 1 ]] && NEW_CONN_ARG=(--new-connection-per-request)
[[ "$NO_RESUME" == 1 ]] && NEW_CONN_ARG+=(--tls-no-resumption)
printf '%q ' "$0" --duration "$DURATION" --rounds "$ROUNDS" --workers "$WORKERS" --in-flight "$IN_FLIGHT" \
    --client-threads "$CLIENT_THREADS" --users "$USERS" --targets "$TARGETS" --mode "$MODE" \
    --transport "$TRANSPORT" ${CONNECTIONS:+--connections "$CONNECTIONS"} \
    "${NEW_CONN_ARG[@]}" --out "$OUT" >"$OUT/command.txt"
printf '\n' >>"$OUT/command.txt"
log "results in $OUT"

if [[ "$MODE" == proxy ]]; then
    start_registrar "$OUT/logs/registrar.log"
fi

LG_DURATION="$DURATION"
LG_IN_FLIGHT="$IN_FLIGHT"
LG_THREADS="$CLIENT_THREADS"
LG_USERS="$USERS"
LG_CONNECTIONS="$CONNECTIONS"

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
    local -a expect=()
    if [[ "$TRANSPORT" != udp ]]; then
        # every answer must be the 301 (the registrar simulator answers 200)
        if [[ "$t" == registrar ]]; then expect=(--expect 200); else expect=(--expect 301); fi
    fi
    # one connection per request: source addresses 127.0.0.1-64 give the client 64 ephemeral
    # port spaces, so its connect() does not crawl through a port range full of TIME_WAITs (the
    # client was the limit without it: ~14k/s against ~31k/s, docs/benchmarks.md)
    [[ "$NEW_CONN" == 1 ]] && expect+=(--tls-new-connection-per-request --source-ips 64)
    [[ "$NO_RESUME" == 1 ]] && expect+=(--tls-no-resumption)
    # CPU seconds of the client (loadgen, reaped by this shell) and of the target during the run
    local c0 t0 c1 t1 hz
    hz="$(getconf CLK_TCK)"
    c0="$(cpu_ticks_waited)"
    t0="$(cpu_ticks_tree "$TARGET_PID")"
    loadgen_register "$json" "$OUT/logs/$tag.loadgen.log" "${expect[@]}" || rc=$?
    c1="$(cpu_ticks_waited)"
    t1="$(cpu_ticks_tree "$TARGET_PID")"
    stop_target
    if [[ $rc -ne 0 || ! -s "$json" ]]; then
        log "round $round, $w worker(s), $t: loadgen failed (rc=$rc), see $OUT/logs/$tag.loadgen.log"
        tail -n 5 "$OUT/logs/$tag.loadgen.log" >&2 || true
        return 0
    fi
    local -a meta=("round=$round" "workers=$w" "target=$t" "mode=$MODE" "transport=$TRANSPORT"
        "duration=$DURATION" "in_flight=$IN_FLIGHT" "client_threads=$CLIENT_THREADS"
        "connections=$([[ "$NEW_CONN" == 1 ]] && echo per-request || echo "${CONNECTIONS:-$CLIENT_THREADS}")"
        "new_connection_per_request=$NEW_CONN"
        "client_cpu_s=$(awk -v a="$c0" -v b="$c1" -v h="$hz" 'BEGIN {printf "%.2f", (b - a) / h}')"
        "target_cpu_s=$(awk -v a="$t0" -v b="$t1" -v h="$hz" 'BEGIN {printf "%.2f", (b - a) / h}')")
    printf '%s\n' "${meta[@]}" >"$OUT/logs/$tag.meta"
    if [[ "$HAVE_PYTHON" == 0 ]]; then
        log "round $round, $w worker(s), $t: done ($json)"
        return 0
    fi
    python3 "$BENCH_DIR/lib/results.py" record "$json" "${meta[@]}" >>"$RUNS"
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
if [[ "$HAVE_PYTHON" == 0 ]]; then
    compgen -G "$OUT/logs/*.meta" >/dev/null || die "no successful runs; see $OUT/logs"
    log "no python3: tables not made; run bench/lib/summarize.sh $OUT where python3 is"
    exit 0
fi
[[ -s "$RUNS" ]] || die "no successful runs; see $OUT/logs"
python3 "$BENCH_DIR/lib/results.py" summarize "$RUNS" "$OUT"
log "wrote $OUT/results.json and $OUT/results.md"
