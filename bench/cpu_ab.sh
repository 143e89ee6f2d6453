#!/usr/bin/env bash
# CPU per request of UDP targets side by side: each variant runs in turn, round after round,
# with one worker pinned to BENCH_TARGET_CPUS (default 1) and loadgen (closed loop, one thread,
# 64 in flight, 100000 users) pinned to BENCH_CLIENT_CPUS (default 0). For each run: loadgen's
# rate, the target's CPU use, and the target's CPU microseconds per request, read from
# /proc over the middle of the run. CPU per request is steadier than the rate on a shared
# machine, and tells two builds or two UDP backends apart (docs/performance.md, "The send side").
#
# Variants (any number, in this order each round):
#   echo                  loadgen echo --reply-200 (the raw ceiling)
#   io_uring | epoll      $DIRECTOR (bench/director.toml) with DIRECTOR_UDP_BACKEND set so
#   B:io_uring | B:epoll  the same with the binary given by --director-b (a build to compare)
#
# --mode proxy runs the directors as stateless proxies (bench/director-proxy.toml) in front of
# a `loadgen registrar` pinned with the client, so a request's CPU is its forward and the
# relay of its 200 (no echo variant there).
#
# Usage: bench/cpu_ab.sh [--variants "io_uring epoll echo"] [--rounds N] [--duration S]
#                        [--director-b PATH] [--mode redirect|proxy] [--out DIR]
# Writes OUT/cpu_ab.tsv (round, variant, rate/s, target CPUs, target us per request, and that
# split into user space and kernel) and prints the medians per variant. Environment: see bench/lib/common.sh.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
ARGS=("$@") # for OUT/command.txt (the option loop shifts them away)

VARIANTS="io_uring epoll echo"
ROUNDS=3
DURATION=4
DIRECTOR_B=""
MODE=redirect
OUT=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --variants) VARIANTS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --director-b) DIRECTOR_B="$2"; shift 2 ;;
    --mode) MODE="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
    esac
done
[[ "$DURATION" =~ ^[1-9][0-9]*$ ]] || die "--duration takes whole seconds, got $DURATION"
[[ "$MODE" == redirect || "$MODE" == proxy ]] || die "--mode must be redirect or proxy"
read -r -a VARIANT_LIST <<<"$VARIANTS"
for v in "${VARIANT_LIST[@]}"; do
    case "$v" in
    echo) [[ "$MODE" == redirect ]] || die "the echo variant has no proxy mode" ;;
    io_uring | epoll) ;;
    B:io_uring | B:epoll) [[ -x "$DIRECTOR_B" ]] || die "variant $v needs --director-b PATH (an executable)" ;;
    *) die "unknown variant $v (echo, io_uring, epoll, B:io_uring, B:epoll)" ;;
    esac
done
BENCH_TRANSPORT=udp
BENCH_CLIENT_CPUS="${BENCH_CLIENT_CPUS:-0}"
BENCH_TARGET_CPUS="${BENCH_TARGET_CPUS:-1}"
OUT="${OUT:-$BENCH_DIR/results/$(date +%Y%m%d-%H%M%S)-cpu-ab}"
bench_init
build_release
mkdir -p "$OUT/logs"
machine_info >"$OUT/machine.txt"
printf '%q ' "$0" "${ARGS[@]}" >"$OUT/command.txt"
CONFIG="$OUT/director.toml"
director_config "$MODE" "$BENCH_PORT" "$CONFIG"
if [[ "$MODE" == proxy ]]; then
    # the registrar shares the client's CPU, so the director's CPU is its own
    BENCH_REGISTRAR_CPUS="${BENCH_REGISTRAR_CPUS:-$BENCH_CLIENT_CPUS}" start_registrar "$OUT/logs/registrar.log"
fi
TICKS="$(getconf CLK_TCK)"
printf 'round\tvariant\trate\ttarget_cpus\tus_per_request\tus_user\tus_kernel\n' >"$OUT/cpu_ab.tsv"

# run_one ROUND VARIANT: one closed-loop run; appends a line to cpu_ab.tsv
run_one() {
    local round="$1" v="$2" bin="$DIRECTOR" backend pid lg au as bu bs rate
    local -a pre cmd
    mapfile -t pre < <(cpu_prefix "$BENCH_TARGET_CPUS")
    port_free "$BENCH_PORT" || die "port $BENCH_PORT busy (set BENCH_PORT)"
    case "$v" in
    echo) cmd=("$LOADGEN" echo --listen "127.0.0.1:$BENCH_PORT" --threads 1 --reply-200) ;;
    *)
        [[ "$v" == B:* ]] && bin="$DIRECTOR_B"
        backend="${v#B:}"
        cmd=(env DIRECTOR_UDP_BACKEND="$backend" DIRECTOR_LOG=warn "$bin" --config "$CONFIG" --workers 1)
        ;;
    esac
    "${pre[@]}" "${cmd[@]}" >"$OUT/logs/$round-${v/:/_}.log" 2>&1 &
    pid=$!
    BENCH_PIDS+=("$pid")
    wait_ready "$BENCH_PORT" 20 udp >/dev/null || die "$v not ready (see $OUT/logs/$round-${v/:/_}.log)"
    mapfile -t pre < <(cpu_prefix "$BENCH_CLIENT_CPUS")
    "${pre[@]}" "$LOADGEN" register --target "127.0.0.1:$BENCH_PORT" --duration $((DURATION + 2)) \
        --users 100000 --quiet --json "$OUT/logs/$round-${v/:/_}.json" >/dev/null 2>&1 &
    lg=$!
    sleep 1
    read -r au as < <(cpu_ticks_split "$pid")
    sleep "$DURATION"
    read -r bu bs < <(cpu_ticks_split "$pid")
    wait "$lg" || log "$v: loadgen exited with $?"
    stop_pid "$pid"
    forget_pid "$pid"
    rate="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["request_rate"])' \
        "$OUT/logs/$round-${v/:/_}.json")"
    python3 - "$round" "$v" "$rate" "$((bu - au))" "$((bs - as))" "$TICKS" "$DURATION" \
        >>"$OUT/cpu_ab.tsv" <<'PY'
import sys
rnd, v, rate = sys.argv[1], sys.argv[2], float(sys.argv[3])
user, system, hz, secs = (int(x) for x in sys.argv[4:8])
per = lambda ticks: ticks / hz / (rate * secs) * 1e6
cpu = (user + system) / hz
print(f"{rnd}\t{v}\t{rate:.0f}\t{cpu / secs:.2f}\t{per(user + system):.2f}\t{per(user):.2f}\t{per(system):.2f}")
PY
    log "round $round, $v: $(tail -1 "$OUT/cpu_ab.tsv" | cut -f3-)"
}

for round in $(seq "$ROUNDS"); do
    for v in "${VARIANT_LIST[@]}"; do
        run_one "$round" "$v"
    done
done
stop_registrar

python3 - "$OUT/cpu_ab.tsv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
print("| variant | median rate | median us CPU per request | user / kernel (medians) | all runs (us) |")
print("|---|---|---|---|---|")
for v in dict.fromkeys(r["variant"] for r in rows):
    mine = [r for r in rows if r["variant"] == v]
    rate = statistics.median(float(r["rate"]) for r in mine)
    us = [float(r["us_per_request"]) for r in mine]
    user = statistics.median(float(r["us_user"]) for r in mine)
    kernel = statistics.median(float(r["us_kernel"]) for r in mine)
    print(f"| {v} | {rate / 1000:.1f}k/s | {statistics.median(us):.2f} | {user:.2f} / {kernel:.2f} | {', '.join(f'{x:.2f}' for x in us)} |")
PY
log "wrote $OUT/cpu_ab.tsv"
