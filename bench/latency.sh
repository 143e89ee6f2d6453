#!/usr/bin/env bash
# Latency vs offered load: open-loop `loadgen register --rate R` runs at
# fractions of each target's measured peak, recording achieved rate and
# p50/p99/p99.9 (loadgen corrects for coordinated omission), then a PNG.
#
# Usage: bench/latency.sh [options]
#   --targets "director kamailio echo"
#   --workers N            one worker count                            (default 2)
#   --duration S           seconds per run                             (default 5)
#   --rounds N             runs per point (median)                     (default 1)
#   --fractions "0.1 ..."  offered load as fractions of the peak
#                          (default "0.1 0.25 0.5 0.75 0.9 1.0 1.1 1.2")
#   --peak-from FILE       results.json of a bench/run.sh run: peaks from there
#   --peak N               same peak (requests/s) for every target
#                          (default: measure each target's peak first, closed loop)
#   --in-flight N          in-flight cap / closed-loop window           (default 64)
#   --client-threads N     loadgen threads                              (default 1)
#   --connections N        loadgen UDP sockets in total (default: one per thread; the kernel
#                          spreads sockets over SO_REUSEPORT workers by source port)
#   --users N              distinct users                               (default 100000)
#   --mode redirect|proxy  as in run.sh                                 (default redirect)
#   --warmup-ms MS         leave each run's first MS out of its percentiles (default 1000:
#                          the first answers of a fresh target and the client's own start
#                          burst are not the steady state the percentiles describe)
#   --out DIR              (default bench/results/<date>-latency)
#   --png FILE             plot here too (e.g. docs/img/latency.png)
#   -h, --help
#
# Environment: bench/lib/common.sh; LOADGEN_RATE_FLAG (default --rate),
# LOADGEN_EXTRA_ARGS, LOADGEN_DRAIN_MS (default 2000).
#
# Without python3 and with BENCH_NO_INSTALL=1 (a borrowed machine, bench/device/run.sh) the
# runs still happen: peaks come from loadgen's JSON, and each run leaves its JSON and a .meta
# file in logs/; bench/lib/summarize.sh DIR makes the tables (no plot) afterwards.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

TARGETS="director kamailio echo"
WORKERS=2
DURATION=5
ROUNDS=1
FRACTIONS="0.1 0.25 0.5 0.75 0.9 1.0 1.1 1.2"
PEAK_FROM=""
PEAK=""
IN_FLIGHT=64
WARMUP_MS=1000
CLIENT_THREADS=1
CONNECTIONS=""
USERS=100000
MODE=redirect
OUT=""
PNG=""

while [[ $# -gt 0 ]]; do
    case "$1" in
    --targets) TARGETS="$2"; shift 2 ;;
    --workers) WORKERS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --fractions) FRACTIONS="$2"; shift 2 ;;
    --peak-from) PEAK_FROM="$2"; shift 2 ;;
    --peak) PEAK="$2"; shift 2 ;;
    --in-flight) IN_FLIGHT="$2"; shift 2 ;;
    --warmup-ms) WARMUP_MS="$2"; shift 2 ;;
    --client-threads) CLIENT_THREADS="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --users) USERS="$2"; shift 2 ;;
    --mode) MODE="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --png) PNG="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
    esac
done
[[ "$MODE" == redirect || "$MODE" == proxy ]] || die "--mode must be redirect or proxy"
[[ "$WARMUP_MS" =~ ^[0-9]+$ ]] || die "--warmup-ms takes whole milliseconds, got $WARMUP_MS"
OUT="${OUT:-$BENCH_DIR/results/$(date +%Y%m%d-%H%M%S)-latency}"

bench_init
read -r -a TARGET_LIST <<<"$TARGETS"
read -r -a FRACTION_LIST <<<"$FRACTIONS"

HAVE_PYTHON=1
if ! command -v python3 >/dev/null 2>&1 && [[ "${BENCH_NO_INSTALL:-0}" == 1 ]]; then
    HAVE_PYTHON=0
    [[ -z "$PEAK_FROM" ]] || die "--peak-from reads results.json with python3, which is missing here"
    [[ -z "$PNG" ]] || die "--png plots with python3, which is missing here"
    log "python3 missing: summarize afterwards with bench/lib/summarize.sh $OUT"
else
    ensure_python
fi
for t in "${TARGET_LIST[@]}"; do
    [[ "$t" == kamailio ]] && ensure_kamailio
done
build_release

mkdir -p "$OUT/logs"
RUNS="$OUT/latency-runs.jsonl"
: >"$RUNS"
machine_info >"$OUT/machine.txt"
printf '%q ' "$0" --targets "$TARGETS" --workers "$WORKERS" --duration "$DURATION" --rounds "$ROUNDS" \
    --fractions "$FRACTIONS" --in-flight "$IN_FLIGHT" --client-threads "$CLIENT_THREADS" \
    ${CONNECTIONS:+--connections "$CONNECTIONS"} --users "$USERS" \
    --mode "$MODE" --out "$OUT" >"$OUT/command.txt"
[[ -n "$PEAK_FROM" ]] && printf -- '--peak-from %q ' "$PEAK_FROM" >>"$OUT/command.txt"
[[ -n "$PEAK" ]] && printf -- '--peak %q ' "$PEAK" >>"$OUT/command.txt"
printf '\n' >>"$OUT/command.txt"
log "results in $OUT"

LG_DURATION="$DURATION"
LG_IN_FLIGHT="$IN_FLIGHT"
LG_THREADS="$CLIENT_THREADS"
LG_CONNECTIONS="$CONNECTIONS"
LG_USERS="$USERS"

if [[ "$MODE" == proxy ]]; then
    start_registrar "$OUT/logs/registrar.log"
fi

# peak_of TARGET: requests/s
peak_of() {
    local t="$1"
    if [[ -n "$PEAK" ]]; then
        echo "$PEAK"
    elif [[ -n "$PEAK_FROM" ]]; then
        python3 "$BENCH_DIR/lib/results.py" peak "$PEAK_FROM" "$t" "$WORKERS"
    else
        local json="$OUT/logs/peak-$t.json"
        start_target "$t" "$MODE" "$WORKERS" "$OUT/logs/peak-$t.target.log" || return 1
        local rc=0
        loadgen_register "$json" "$OUT/logs/peak-$t.loadgen.log" || rc=$?
        stop_target
        [[ $rc -eq 0 && -s "$json" ]] || return 1
        # loadgen's own achieved rate (final responses / elapsed), a top-level field
        sed -n 's/^ *"response_rate": *\([0-9][0-9.]*\).*/\1/p' "$json" |
            awk 'NR == 1 && $1 >= 1 {printf "%d\n", $1; found = 1} END {exit !found}'
    fi
}

declare -A PEAKS=()
for t in "${TARGET_LIST[@]}"; do
    if p="$(peak_of "$t")" && [[ -n "$p" ]]; then
        PEAKS[$t]="$p"
        log "$t: peak $p/s"
    else
        log "$t: could not get a peak, skipped"
    fi
done

# alternate targets at every point, and go up in load (a point past the peak
# leaves queues behind only in the process that is stopped right after it)
for f in "${FRACTION_LIST[@]}"; do
    for ((round = 1; round <= ROUNDS; round++)); do
        for t in "${TARGET_LIST[@]}"; do
            [[ -n "${PEAKS[$t]:-}" ]] || continue
            peak="${PEAKS[$t]}"
            rate="$(awk -v p="$peak" -v f="$f" 'BEGIN {r = int(p * f + 0.5); print (r < 1 ? 1 : r)}')"
            tag="f${f}-r${round}-${t}"
            json="$OUT/logs/$tag.json"
            log "$t: offered $rate/s ($f of peak), round $round"
            start_target "$t" "$MODE" "$WORKERS" "$OUT/logs/$tag.target.log" || continue
            rc=0
            # --drain-ms: a lost request must not stretch the run by timer F (32 s) and
            # drag the achieved rate down; it is counted as abandoned instead.
            LG_RATE="$rate" loadgen_register "$json" "$OUT/logs/$tag.loadgen.log" --drain-ms "${LOADGEN_DRAIN_MS:-2000}" \
                --warmup-ms "$WARMUP_MS" || rc=$?
            stop_target
            if [[ $rc -ne 0 || ! -s "$json" ]]; then
                log "$t at $rate/s: loadgen failed (rc=$rc), see $OUT/logs/$tag.loadgen.log"
                continue
            fi
            meta=("target=$t" "workers=$WORKERS" "offered=$rate" "fraction=$f" "peak=$peak"
                "round=$round" "mode=$MODE" "warmup_ms=$WARMUP_MS")
            printf '%s\n' "${meta[@]}" >"$OUT/logs/$tag.meta"
            if [[ "$HAVE_PYTHON" == 0 ]]; then
                log "$t at $rate/s: done ($json)"
                continue
            fi
            python3 "$BENCH_DIR/lib/results.py" record "$json" "${meta[@]}" >>"$RUNS"
            log "$t at $rate/s: $(python3 "$BENCH_DIR/lib/results.py" last "$RUNS")"
        done
    done
done

stop_registrar
if [[ "$HAVE_PYTHON" == 0 ]]; then
    compgen -G "$OUT/logs/f*.meta" >/dev/null || die "no successful runs; see $OUT/logs"
    log "no python3: tables not made; run bench/lib/summarize.sh $OUT where python3 is"
    exit 0
fi
[[ -s "$RUNS" ]] || die "no successful runs; see $OUT/logs"
python3 "$BENCH_DIR/lib/results.py" latency "$RUNS" "$OUT"
ensure_matplotlib
python3 "$BENCH_DIR/plot.py" "$OUT/latency.json" "$OUT/latency.png"
if [[ -n "$PNG" ]]; then
    mkdir -p "$(dirname "$PNG")"
    cp "$OUT/latency.png" "$PNG"
fi
log "wrote $OUT/latency.json, $OUT/latency.md, $OUT/latency.png"
