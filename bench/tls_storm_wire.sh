#!/usr/bin/env bash
# The TLS handshake storm of tls_storm_ab.sh against one director build, seen from the wire:
# every REGISTER on a new resumed TLS connection (64 handshakes in flight, --full for full
# handshakes), one worker pinned to BENCH_TARGET_CPUS (default 1), loadgen and tcpdump on
# BENCH_CLIENT_CPUS (default 0), and the scheduler's switches on the director's CPU recorded
# meanwhile (perf sched:sched_switch). For each round, bench/lib/wire_latency.py splits the
# latency loadgen reports into the director's share (REGISTER segment to response segment) and
# loadgen's (response to its close_notify), and says what the director's CPU did while the
# slowest 1 % of answers were pending: idle means the request had not reached the director's
# socket yet (docs/performance.md, "Handshakes take turns").
#
# With --loadgen-b ARGS, every round runs a second storm with these extra loadgen arguments
# (e.g. "--no-handshake-turns"), so the two can be compared side by side.
#
# Usage: bench/tls_storm_wire.sh [--rounds N] [--count N] [--full] [--loadgen-b ARGS] [--out DIR]
# Writes OUT/round-N.txt (the analysis), OUT/logs/ (loadgen JSON, director log, the capture);
# needs root for tcpdump and perf. Environment: DIRECTOR, BENCH_PORT, ...: bench/lib/common.sh.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
ARGS=("$@") # for OUT/command.txt (the option loop shifts them away)

ROUNDS=3
COUNT=10000
FULL=0
LOADGEN_B=""
OUT=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --count) COUNT="$2"; shift 2 ;;
    --full) FULL=1; shift ;;
    --loadgen-b) LOADGEN_B="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
    esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "--rounds takes a positive whole number, got $ROUNDS"
[[ "$COUNT" =~ ^[1-9][0-9]*$ ]] || die "--count takes a positive whole number, got $COUNT"
BENCH_TRANSPORT=tls
BENCH_CLIENT_CPUS="${BENCH_CLIENT_CPUS:-0}"
BENCH_TARGET_CPUS="${BENCH_TARGET_CPUS:-1}"
[[ "$BENCH_TARGET_CPUS" =~ ^[0-9]+$ ]] || die "BENCH_TARGET_CPUS must be one CPU here, got $BENCH_TARGET_CPUS"
OUT="${OUT:-$BENCH_DIR/results/$(date +%Y%m%d-%H%M%S)-tls-storm-wire}"
bench_init
ensure_openssl
ensure_python
ensure_apt tcpdump tcpdump
ensure_apt linux-perf perf
build_release
mkdir -p "$OUT/logs"
machine_info >"$OUT/machine.txt"
printf '%q ' "$0" "${ARGS[@]}" >"$OUT/command.txt"
CONFIG="$OUT/director.toml"
director_config redirect "$BENCH_PORT" "$CONFIG"
ROOT=() # tcpdump and perf: $! must be their own pid (sudo passes the signal on)
[[ "$(id -u)" -eq 0 ]] || ROOT=(sudo -n)
STORM_EXTRA=()
[[ "$FULL" == 1 ]] && STORM_EXTRA=(--tls-no-resumption)

# run_one ROUND VARIANT [EXTRA...]: one storm with the capture and the scheduler recording
run_one() {
    local round="$1" pid tcpd sched offset name="round-$1$2"
    shift 2
    local -a pre extra=("$@")
    port_free "$BENCH_PORT" || die "port $BENCH_PORT busy (set BENCH_PORT)"
    mapfile -t pre < <(cpu_prefix "$BENCH_TARGET_CPUS")
    "${pre[@]}" env DIRECTOR_LOG=warn "$DIRECTOR" --config "$CONFIG" --workers 1 >"$OUT/logs/$name.log" 2>&1 &
    pid=$!
    BENCH_PIDS+=("$pid")
    wait_ready "$BENCH_PORT" 20 tls >/dev/null || die "director not ready (see $OUT/logs/$name.log)"
    mapfile -t pre < <(cpu_prefix "$BENCH_CLIENT_CPUS")
    "${ROOT[@]}" "${pre[@]}" tcpdump -i lo -nn -s 96 -B 65536 -w "$OUT/logs/$name.pcap" \
        "tcp port $BENCH_PORT" 2>/dev/null &
    tcpd=$!
    BENCH_PIDS+=("$tcpd")
    # the storm takes 2-4 s here; the recording stops by itself
    "${ROOT[@]}" perf record -q -k mono -e sched:sched_switch -C "$BENCH_TARGET_CPUS" \
        -o "$OUT/logs/$name.sched" -- sleep $((COUNT / 1000 + 4)) >/dev/null 2>&1 &
    sched=$!
    offset="$(python3 -c 'import time; print(time.time() - time.clock_gettime(time.CLOCK_MONOTONIC))')"
    sleep 1 # tcpdump and perf are recording
    "${pre[@]}" "$LOADGEN" register --target "127.0.0.1:$BENCH_PORT" --transport tls \
        --tls-insecure --threads 1 --quiet --expect 301 --count "$COUNT" --users 100000 \
        --in-flight 64 --tls-new-connection-per-request --source-ips 64 "${STORM_EXTRA[@]}" "${extra[@]}" \
        --json "$OUT/logs/$name.json" >/dev/null 2>&1 || log "round $round: loadgen exited with $?"
    wait "$sched" || log "round $round: perf exited with $?"
    sleep 0.5
    "${ROOT[@]}" kill -INT "$tcpd" 2>/dev/null || true
    wait "$tcpd" 2>/dev/null || true
    forget_pid "$tcpd"
    stop_pid "$pid"
    forget_pid "$pid"
    tcpdump -nn -tt -r "$OUT/logs/$name.pcap" >"$OUT/logs/$name.cap.txt" 2>/dev/null
    "${ROOT[@]}" perf script -i "$OUT/logs/$name.sched" >"$OUT/logs/$name.sched.txt" 2>/dev/null
    {
        python3 - "$OUT/logs/$name.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
lat = r["latency_us"]
print(f"loadgen: {r['responses']} responses, {r['errors_total']} errors, "
      f"{r['response_rate']:.0f}/s, reported p50 {lat['p50']:.0f} us, p99 {lat['p99']:.0f} us")
PY
        python3 "$BENCH_DIR/lib/wire_latency.py" "$OUT/logs/$name.cap.txt" "$BENCH_PORT" \
            --sched "$OUT/logs/$name.sched.txt" --offset "$offset" --cpu "$BENCH_TARGET_CPUS"
    } >"$OUT/$name.txt"
    rm -f "$OUT/logs/$name.cap.txt" "$OUT/logs/$name.sched"
    log "round $round${extra[*]:+ (loadgen ${extra[*]})}:"
    cat "$OUT/$name.txt" >&2
}

for round in $(seq "$ROUNDS"); do
    run_one "$round" ""
    if [[ -n "$LOADGEN_B" ]]; then
        # shellcheck disable=SC2086 # the arguments are meant to be split
        run_one "$round" -b $LOADGEN_B
    fi
done
log "wrote $OUT/round-*.txt"
