#!/usr/bin/env bash
# Full TLS handshakes per second, one at a time, with OpenSSL's own client: `openssl s_time
# -new -tls1_3` (a new session every time, no resumption; no data sent) against the director's
# TLS listener and Kamailio's tls module (the targets and certificates of `bench/run.sh
# --transport tls`), in alternating rounds, with the CPU seconds the target used. A reference
# for `bench/run.sh --transport tls --new-connection-per-request`, whose rustls client resumes
# sessions unless given --tls-no-resumption, with 64 handshakes in flight: this one never
# resumes and has one in flight. s_time sends no request and closes at once, which
# Kamailio logs as an error per connection (in its CPU time); the rates are the OpenSSL client's.
#
# Usage: bench/tls_stime.sh [--time S] [--rounds N] [--workers "1 2"] [--targets "director kamailio"]
#                           [--out DIR]
# Writes OUT/stime.tsv (round, workers, target, handshakes, seconds, rate, target CPU s) and
# OUT/logs/. Environment: see bench/lib/common.sh.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

TIME=5
ROUNDS=3
WORKERS="1 2"
TARGETS="director kamailio"
OUT=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --time) TIME="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --workers) WORKERS="$2"; shift 2 ;;
    --targets) TARGETS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
    esac
done
BENCH_TRANSPORT=tls
OUT="${OUT:-$BENCH_DIR/results/$(date +%Y%m%d-%H%M%S)-tls-stime}"
bench_init
read -r -a TARGET_LIST <<<"$TARGETS"
read -r -a WORKER_LIST <<<"$WORKERS"
ensure_python
ensure_openssl
[[ " $TARGETS " == *" kamailio "* ]] && ensure_kamailio_tls
build_release
mkdir -p "$OUT/logs"
machine_info >"$OUT/machine.txt"
printf 'round\tworkers\ttarget\thandshakes\tseconds\trate\ttarget_cpu_s\n' >"$OUT/stime.tsv"
hz="$(getconf CLK_TCK)"

n=${#TARGET_LIST[@]}
for ((round = 1; round <= ROUNDS; round++)); do
    for w in "${WORKER_LIST[@]}"; do
        for ((i = 0; i < n; i++)); do
            t="${TARGET_LIST[$(((i + round - 1) % n))]}"
            tag="r${round}-w${w}-${t}"
            start_target "$t" redirect "$w" "$OUT/logs/$tag.target.log" || continue
            t0="$(cpu_ticks_tree "$TARGET_PID")"
            s0="$(date +%s.%N)"
            mapfile -t pre < <(cpu_prefix "${BENCH_CLIENT_CPUS:-}")
            "${pre[@]}" openssl s_time -connect "127.0.0.1:$BENCH_PORT" -new -tls1_3 -time "$TIME" \
                >"$OUT/logs/$tag.stime.log" 2>&1 || true
            s1="$(date +%s.%N)"
            t1="$(cpu_ticks_tree "$TARGET_PID")"
            stop_target
            # "N connections in S real seconds, ..." (S is whole seconds: the rate uses the
            # wall time measured here around s_time instead)
            conns="$(awk '/connections in [0-9.]+ real seconds/ {print $1; exit}' "$OUT/logs/$tag.stime.log")"
            secs="$(awk -v a="$s0" -v b="$s1" 'BEGIN {printf "%.3f", b - a}')"
            if [[ -z "${conns:-}" ]]; then
                log "$tag: no s_time result, see $OUT/logs/$tag.stime.log"
                continue
            fi
            line="$(awk -v r="$round" -v w="$w" -v t="$t" -v c="$conns" -v s="$secs" -v a="$t0" -v b="$t1" -v h="$hz" \
                'BEGIN {printf "%s\t%s\t%s\t%d\t%s\t%.0f\t%.2f", r, w, t, c, s, c / s, (b - a) / h}')"
            printf '%s\n' "$line" >>"$OUT/stime.tsv"
            log "$tag: $line"
            conns=""
        done
    done
done
column -t "$OUT/stime.tsv" >&2 || cat "$OUT/stime.tsv" >&2
