#!/usr/bin/env bash
# The same REGISTER workload driven by SIPp (the standard SIP load generator),
# for reference: SIPp's achieved rate against the director and Kamailio (and,
# with --loadgen, loadgen's rate against the same target right after, to check
# "loadgen >= 5x SIPp").
#
# Usage: bench/sipp.sh [options]
#   --targets "director kamailio"
#   --workers N           target workers / kamailio children           (default 2)
#   --rate R              SIPp -r, calls/s offered                     (default 50000)
#   --calls N             SIPp -m, calls per run                       (default 200000)
#   --in-flight N         SIPp -l, concurrent calls cap                (default 64)
#   --transport u1|un     SIPp -t (u1: one socket, un: one per call)   (default u1)
#   --users N             users in the injection file                  (default 100000)
#   --rounds N            runs per target (median)                     (default 1)
#   --mode redirect|proxy expect 301 (register.xml) or 200 (register-proxy.xml)
#   --loadgen             also run `loadgen register` (closed loop, same in-flight, 5 s)
#   --out DIR             (default bench/results/<date>-sipp)
#   -h, --help
#
# SIPp runs as one single-threaded process; its achieved rate is CallRate(C)
# from its -trace_stat CSV. Environment: bench/lib/common.sh; SIPP_CLIENT_PORT
# (default 5080), SIPP_EXTRA_ARGS.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

TARGETS="director kamailio"
WORKERS=2
RATE=50000
CALLS=200000
IN_FLIGHT=64
TRANSPORT=u1
USERS=100000
ROUNDS=1
MODE=redirect
WITH_LOADGEN=0
OUT=""
SIPP_CLIENT_PORT="${SIPP_CLIENT_PORT:-5080}"
SIPP_EXTRA_ARGS="${SIPP_EXTRA_ARGS:-}"

while [[ $# -gt 0 ]]; do
    case "$1" in
    --targets) TARGETS="$2"; shift 2 ;;
    --workers) WORKERS="$2"; shift 2 ;;
    --rate) RATE="$2"; shift 2 ;;
    --calls) CALLS="$2"; shift 2 ;;
    --in-flight) IN_FLIGHT="$2"; shift 2 ;;
    --transport) TRANSPORT="$2"; shift 2 ;;
    --users) USERS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --mode) MODE="$2"; shift 2 ;;
    --loadgen) WITH_LOADGEN=1; shift ;;
    --out) OUT="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
    esac
done
[[ "$MODE" == redirect || "$MODE" == proxy ]] || die "--mode must be redirect or proxy"
OUT="${OUT:-$BENCH_DIR/results/$(date +%Y%m%d-%H%M%S)-sipp}"
SCENARIO="$BENCH_DIR/sipp/register.xml"
[[ "$MODE" == proxy ]] && SCENARIO="$BENCH_DIR/sipp/register-proxy.xml"

bench_init
read -r -a TARGET_LIST <<<"$TARGETS"

ensure_python
ensure_sipp
for t in "${TARGET_LIST[@]}"; do
    [[ "$t" == kamailio ]] && ensure_kamailio
done
needs_build=$WITH_LOADGEN
for t in "${TARGET_LIST[@]}"; do
    [[ "$t" == director || "$t" == echo ]] && needs_build=1
done
[[ "$MODE" == proxy ]] && needs_build=1
if [[ $needs_build == 1 ]]; then build_release; fi

mkdir -p "$OUT/logs"
RUNS="$OUT/sipp-runs.jsonl"
: >"$RUNS"
machine_info >"$OUT/machine.txt"
printf '%q ' "$0" --targets "$TARGETS" --workers "$WORKERS" --rate "$RATE" --calls "$CALLS" \
    --in-flight "$IN_FLIGHT" --transport "$TRANSPORT" --users "$USERS" --rounds "$ROUNDS" --mode "$MODE" \
    --out "$OUT" >"$OUT/command.txt"
[[ $WITH_LOADGEN == 1 ]] && printf -- '--loadgen' >>"$OUT/command.txt"
printf '\n' >>"$OUT/command.txt"
log "results in $OUT"

# injection file: field 0 = user name
USERS_CSV="$OUT/users.csv"
python3 -c "
import sys
n = int(sys.argv[1])
print('SEQUENTIAL')
for i in range(n):
    print('user%07d;' % i)
" "$USERS" >"$USERS_CSV"

if [[ "$MODE" == proxy ]]; then
    start_registrar "$OUT/logs/registrar.log"
fi

LG_DURATION=5
LG_IN_FLIGHT="$IN_FLIGHT"
LG_THREADS=1
LG_USERS="$USERS"

for ((round = 1; round <= ROUNDS; round++)); do
    for t in "${TARGET_LIST[@]}"; do
        tag="r${round}-${t}"
        start_target "$t" "$MODE" "$WORKERS" "$OUT/logs/$tag.target.log" || continue
        scenario="$SCENARIO"
        # `loadgen echo --reply-200` answers 200, like a registrar behind a proxy
        [[ "$t" == echo ]] && scenario="$BENCH_DIR/sipp/register-proxy.xml"
        stat="$OUT/logs/$tag.sipp-stat.csv"
        rm -f "$stat"
        # a hard cap on the wall time, in case SIPp stalls (lost packets, no -recv_timeout hit)
        limit=$((CALLS / 1000 + 120))
        cmd=(timeout "$limit" sipp -sf "$scenario" -inf "$USERS_CSV"
            -r "$RATE" -rp 1000 -m "$CALLS" -l "$IN_FLIGHT" -t "$TRANSPORT"
            -i 127.0.0.1 -p "$SIPP_CLIENT_PORT" -nostdin
            -recv_timeout 5000 -timeout_error
            -trace_stat -stf "$stat" -fd 1
            -trace_err -error_file "$OUT/logs/$tag.sipp-errors.log")
        if [[ -n "$SIPP_EXTRA_ARGS" ]]; then
            read -r -a extra <<<"$SIPP_EXTRA_ARGS"
            cmd+=("${extra[@]}")
        fi
        cmd+=("127.0.0.1:$BENCH_PORT")
        mapfile -t pre < <(cpu_prefix "${BENCH_CLIENT_CPUS:-}")
        log "$t: sipp -r $RATE -m $CALLS -l $IN_FLIGHT -t $TRANSPORT"
        printf '%q ' "${pre[@]}" "${cmd[@]}" >"$OUT/logs/$tag.sipp.log"
        printf '\n' >>"$OUT/logs/$tag.sipp.log"
        rc=0
        "${pre[@]}" "${cmd[@]}" >>"$OUT/logs/$tag.sipp.log" 2>&1 || rc=$?
        if [[ -s "$stat" ]]; then
            python3 "$BENCH_DIR/lib/results.py" record-sipp "$stat" "client=sipp" "target=$t" \
                "workers=$WORKERS" "round=$round" "mode=$MODE" "sipp_rc=$rc" \
                "offered=$RATE" "in_flight=$IN_FLIGHT" "transport=$TRANSPORT" >>"$RUNS"
            log "$t with sipp (rc=$rc): $(python3 "$BENCH_DIR/lib/results.py" last "$RUNS")"
        else
            log "$t: sipp wrote no statistics (rc=$rc), see $OUT/logs/$tag.sipp.log"
        fi
        if [[ $WITH_LOADGEN == 1 ]]; then
            json="$OUT/logs/$tag.loadgen.json"
            rc=0
            loadgen_register "$json" "$OUT/logs/$tag.loadgen.log" || rc=$?
            if [[ $rc -eq 0 && -s "$json" ]]; then
                python3 "$BENCH_DIR/lib/results.py" record "$json" "client=loadgen" "target=$t" \
                    "workers=$WORKERS" "round=$round" "mode=$MODE" "in_flight=$IN_FLIGHT" >>"$RUNS"
                log "$t with loadgen: $(python3 "$BENCH_DIR/lib/results.py" last "$RUNS")"
            else
                log "$t: loadgen failed (rc=$rc), see $OUT/logs/$tag.loadgen.log"
            fi
        fi
        stop_target
    done
done

stop_registrar
[[ -s "$RUNS" ]] || die "no successful runs; see $OUT/logs"
python3 "$BENCH_DIR/lib/results.py" sipp "$RUNS" "$OUT"
log "wrote $OUT/sipp.json and $OUT/sipp.md"
