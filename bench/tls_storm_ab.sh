#!/usr/bin/env bash
# A TLS handshake storm against two director builds side by side: every REGISTER on a new TLS
# connection (closed loop, 64 handshakes in flight, resumed unless --full), one worker pinned
# to BENCH_TARGET_CPUS (default 1), loadgen pinned to BENCH_CLIENT_CPUS (default 0). The builds
# alternate, round after round. For each run: handshakes per second, the p50/p99 of the
# REGISTER sent right after each handshake, and the director's CPU microseconds per handshake
# (from /proc over the whole storm). With --kept-alive RATE, a second loadgen sends RATE
# REGISTERs a second (open loop) over 16 kept-alive TLS connections during the storm, and its
# p50/p99 (after its first 0.5 s, which its own handshakes take) say how long established
# connections wait behind the handshakes
# (docs/performance.md, "Handshakes take turns"). --storm-args "ARGS" adds loadgen options to
# the storm only (e.g. "--tls-version 1.2"). --client-certs gives the listener a throwaway CA
# (`client_ca`; `client_cert = "optional"`, so that the readiness probe, which has none, gets
# in) and both loadgens a certificate it signed: every full handshake then also verifies a
# client certificate.
#
# Variants: A is $DIRECTOR (default target/release/director), B the binary given by
# --director-b.
#
# Usage: bench/tls_storm_ab.sh --director-b PATH [--rounds N] [--count N] [--full]
#                              [--kept-alive RATE] [--storm-args "ARGS"] [--client-certs]
#                              [--out DIR]
# Writes OUT/tls_storm_ab.tsv and prints the medians per variant. Environment: see
# bench/lib/common.sh.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
ARGS=("$@") # for OUT/command.txt (the option loop shifts them away)

ROUNDS=4
COUNT=15000
FULL=0
KEPT_ALIVE=0
STORM_ARGS=""
CLIENT_CERTS=0
DIRECTOR_B=""
OUT=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --count) COUNT="$2"; shift 2 ;;
    --full) FULL=1; shift ;;
    --kept-alive) KEPT_ALIVE="$2"; shift 2 ;;
    --storm-args) STORM_ARGS="$2"; shift 2 ;;
    --client-certs) CLIENT_CERTS=1; shift ;;
    --director-b) DIRECTOR_B="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
    esac
done
[[ -x "$DIRECTOR_B" ]] || die "--director-b PATH (an executable director build) is required"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "--rounds takes a positive whole number, got $ROUNDS"
[[ "$COUNT" =~ ^[1-9][0-9]*$ ]] || die "--count takes a positive whole number, got $COUNT"
[[ "$KEPT_ALIVE" =~ ^[0-9]+$ ]] || die "--kept-alive takes requests per second, got $KEPT_ALIVE"
BENCH_TRANSPORT=tls
BENCH_CLIENT_CPUS="${BENCH_CLIENT_CPUS:-0}"
BENCH_TARGET_CPUS="${BENCH_TARGET_CPUS:-1}"
OUT="${OUT:-$BENCH_DIR/results/$(date +%Y%m%d-%H%M%S)-tls-storm-ab}"
bench_init
ensure_openssl
ensure_python
build_release
mkdir -p "$OUT/logs"
machine_info >"$OUT/machine.txt"
printf '%q ' "$0" "${ARGS[@]}" >"$OUT/command.txt"
CONFIG="$OUT/director.toml"
director_config redirect "$BENCH_PORT" "$CONFIG"
CERT_ARGS=()
if [[ "$CLIENT_CERTS" == 1 ]]; then
    tls_client_certs
    grep -q '^private_key = ' "$CONFIG" || die "$CONFIG: expected the TLS listener's private_key line"
    sed -i -e "s|^\(private_key = .*\)\$|\1\nclient_ca = \"$CLIENT_CA\"\nclient_cert = \"optional\"|" "$CONFIG"
    CERT_ARGS=(--client-cert "$CLIENT_CERT" --client-key "$CLIENT_KEY")
fi
TICKS="$(getconf CLK_TCK)"
STORM_EXTRA=()
[[ "$FULL" == 1 ]] && STORM_EXTRA=(--tls-no-resumption)
# word-split on purpose: loadgen options
# shellcheck disable=SC2206
STORM_EXTRA+=($STORM_ARGS)
printf 'round\tvariant\thandshakes_per_s\tp50_us\tp99_us\terrors\tdirector_us_per_handshake\tkept_alive_p50_us\tkept_alive_p99_us\n' \
    >"$OUT/tls_storm_ab.tsv"

# run_one ROUND VARIANT: one storm; appends a line to tls_storm_ab.tsv
run_one() {
    local round="$1" v="$2" bin="$DIRECTOR" pid storm kept="" a b name="$1-$2"
    local -a pre lg
    [[ "$v" == B ]] && bin="$DIRECTOR_B"
    port_free "$BENCH_PORT" || die "port $BENCH_PORT busy (set BENCH_PORT)"
    mapfile -t pre < <(cpu_prefix "$BENCH_TARGET_CPUS")
    "${pre[@]}" env DIRECTOR_LOG=warn "$bin" --config "$CONFIG" --workers 1 >"$OUT/logs/$name.log" 2>&1 &
    pid=$!
    BENCH_PIDS+=("$pid")
    wait_ready "$BENCH_PORT" 20 tls >/dev/null || die "$v not ready (see $OUT/logs/$name.log)"
    mapfile -t pre < <(cpu_prefix "$BENCH_CLIENT_CPUS")
    lg=("${pre[@]}" "$LOADGEN" register --target "127.0.0.1:$BENCH_PORT" --transport tls
        --tls-insecure --threads 1 --quiet --expect 301 "${CERT_ARGS[@]}")
    a="$(cpu_ticks_tree "$pid")"
    "${lg[@]}" --count "$COUNT" --users 100000 --in-flight 64 --tls-new-connection-per-request \
        --source-ips 64 "${STORM_EXTRA[@]}" --json "$OUT/logs/$name.json" >/dev/null 2>&1 &
    storm=$!
    if [[ "$KEPT_ALIVE" != 0 ]]; then
        sleep 1
        # ends before the storm does at any rate this machine reaches
        # its first 0.5 s (its own 16 handshakes, queued among the storm's) stay out of its
        # percentiles (--warmup-ms)
        "${lg[@]}" --duration 2 --warmup-ms 500 --users 1000 --connections 16 --rate "$KEPT_ALIVE" \
            --json "$OUT/logs/$name.kept.json" >/dev/null 2>&1 || log "$v: kept-alive loadgen exited with $?"
        kept="$OUT/logs/$name.kept.json"
    fi
    wait "$storm" || log "$v: storm loadgen exited with $?"
    b="$(cpu_ticks_tree "$pid")"
    stop_pid "$pid"
    forget_pid "$pid"
    python3 - "$round" "$v" "$OUT/logs/$name.json" "$((b - a))" "$TICKS" "$kept" \
        >>"$OUT/tls_storm_ab.tsv" <<'PY'
import json, sys
rnd, v, path, ticks, hz, kept = sys.argv[1:7]
r = json.load(open(path))
lat = r["latency_us"]
us = int(ticks) / int(hz) * 1e6 / max(r["responses"], 1)
k50 = k99 = "-"
if kept:
    k = json.load(open(kept))["latency_us"]
    k50, k99 = f"{k['p50']:.0f}", f"{k['p99']:.0f}"
print(f"{rnd}\t{v}\t{r['response_rate']:.0f}\t{lat['p50']:.0f}\t{lat['p99']:.0f}\t{r['errors_total']}\t{us:.1f}\t{k50}\t{k99}")
PY
    log "round $round, $v: $(tail -1 "$OUT/tls_storm_ab.tsv" | cut -f3-)"
}

for round in $(seq "$ROUNDS"); do
    for v in A B; do
        run_one "$round" "$v"
    done
done

python3 - "$OUT/tls_storm_ab.tsv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
cols = ["handshakes_per_s", "p50_us", "p99_us", "director_us_per_handshake", "kept_alive_p50_us", "kept_alive_p99_us"]
print("| variant | " + " | ".join(cols) + " | errors |")
print("|---|" + "---|" * (len(cols) + 1))
for v in ("A", "B"):
    mine = [r for r in rows if r["variant"] == v]
    cells = []
    for c in cols:
        xs = [float(r[c]) for r in mine if r[c] != "-"]
        cells.append(f"{statistics.median(xs):.1f}" if xs else "-")
    errors = sum(int(r["errors"]) for r in mine)
    print(f"| {v} | " + " | ".join(cells) + f" | {errors} |")
PY
log "wrote $OUT/tls_storm_ab.tsv"
