#!/usr/bin/env bash
# Issue 4's many-core measurements in one command sized for a borrowed machine's few minutes:
# UDP REGISTER -> 301 scaling against the raw echo and Kamailio (1-8 workers), pinned against
# unpinned director workers, proxy mode against Kamailio's stateless forwarding, REGISTER ->
# 301 over kept-alive TLS against Kamailio's tls module, and open-loop latency at half of each
# target's peak (bench/latency.sh: the p99 target), redirect then proxy, and the director's
# memory with 100k idle TLS connections (bench/tls_idle.sh). Runs from the folder
# bench/device/pack.sh made (no build, no install, no network); half the cores for the
# targets, the other half for the load generator (bench/device/cpus.sh). Phases run in order
# of importance, each within what is left of the budget, and each writes its own result
# directory at once, so a run cut short still returns what it measured.
#
# Usage: bench/device/run.sh
# Environment (all optional):
#   PACK              the packed folder                      (default target/device-pack)
#   OUT               where results go                       (default /tmp/device-results;
#                     the device tool sets OUT to the folder that comes back)
#   DEVICE_BUDGET_S   seconds for all phases                 (default 420)
#   DEVICE_DURATION   seconds per run                        (default 5)
#   DEVICE_ROUNDS     rounds of the UDP redirect phase       (default 2)
#   DEVICE_WORKERS    worker counts                          (default "1 2 4 8", capped at
#                     the targets' CPUs)
#   DEVICE_PHASES     which phases, in order                 (default "redirect pinning proxy
#                     tls latency latency-proxy tls-idle"; tls-idle fits the default budget
#                     only when the others took less than their estimates: run it on its
#                     own with DEVICE_PHASES=tls-idle)
#   DEVICE_FRACTIONS  latency phase: offered load as fractions of the peak (default 0.5)
#   DEVICE_SOCKETS    UDP client sockets in all                (default 8 per client thread)
#   DEVICE_IDLE_CONNS tls-idle phase: connection counts        (default "100000")
set -euo pipefail
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_DIR"
PACK="$(cd "${PACK:-target/device-pack}" 2>/dev/null && pwd)" ||
    { echo "no packed folder (run bench/device/pack.sh here and carry target/device-pack)" >&2; exit 2; }
RESULTS="${OUT:-/tmp/device-results}"
BUDGET="${DEVICE_BUDGET_S:-420}"
DURATION="${DEVICE_DURATION:-5}"
ROUNDS="${DEVICE_ROUNDS:-2}"
PHASES="${DEVICE_PHASES:-redirect pinning proxy tls latency latency-proxy tls-idle}"
IDLE_CONNS="${DEVICE_IDLE_CONNS:-100000}"
FRACTIONS="${DEVICE_FRACTIONS:-0.5}"
mkdir -p "$RESULTS"
LOG="$RESULTS/device.log"
log() { printf '[device %s] %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$LOG" >&2; }

# half of the cores for the targets, the other half for the client (bench/device/cpus.sh)
# shellcheck source-path=SCRIPTDIR source=cpus.sh
source "$REPO_DIR/bench/device/cpus.sh"
mapfile -t cpus < <(allowed_cpus)
split_cores "${cpus[@]}"
ncpu="$SPLIT_NCPUS" half="$SPLIT_NTARGETS"
if [[ -n "$SPLIT_TARGETS" ]]; then
    export BENCH_TARGET_CPUS="$SPLIT_TARGETS" BENCH_CLIENT_CPUS="$SPLIT_CLIENT"
fi
((half >= 1)) || half=1
workers=""
for w in ${DEVICE_WORKERS:-1 2 4 8}; do ((w <= half)) && workers="$workers $w"; done
workers="${workers# }"
[[ -n "$workers" ]] || workers=1
threads=$((half < 8 ? half : 8))
# UDP client sockets: eight per thread. The kernel hashes each socket's source port onto one
# SO_REUSEPORT worker socket; eight sockets over eight workers leave about three workers idle
# on average (and a different number each run), sixty-four leave none.
# (On the 2-core VM, 8 sockets on one client thread cost it 10-15 % of its rate against one.)
socks="${DEVICE_SOCKETS:-$((threads * 8))}"
maxw="${workers##* }"

export BENCH_NO_BUILD=1 BENCH_NO_INSTALL=1
export LOADGEN="$PACK/bin/loadgen" DIRECTOR="$PACK/bin/director"
export KAMAILIO="$PACK/kamailio/kamailio" KAMAILIO_MODULES="$PACK/kamailio/modules"
if ! command -v openssl >/dev/null 2>&1; then
    export TLS_CERT="$PACK/tls/cert.pem" TLS_KEY="$PACK/tls/key.pem"
fi

{
    printf 'started: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf 'nproc: %s, targets on CPUs %s, client on %s\n' "$ncpu" "${BENCH_TARGET_CPUS:-any}" "${BENCH_CLIENT_CPUS:-any}"
    printf 'workers: %s, client threads: %s (UDP sockets: %s), %s s runs, budget %s s, phases: %s\n' \
        "$workers" "$threads" "$socks" "$DURATION" "$BUDGET" "$PHASES"
    lscpu 2>/dev/null | grep -E '^(Model name|Thread|Core|Socket|NUMA node\(s\))' || true
    printf 'kernel: %s\n' "$(uname -srm)"
    printf 'os: %s\n' "$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
    for c in python3 openssl taskset ss; do
        printf '%s: %s\n' "$c" "$(command -v "$c" || echo missing)"
    done
    printf 'kamailio: %s\n' "$("$KAMAILIO" -v 2>&1 | head -1)"
    printf 'director: %s\n' "$("$DIRECTOR" --version 2>&1 | head -1)"
    cat "$PACK/manifest.txt" 2>/dev/null | head -4
} >"$RESULTS/machine.txt"
cat "$RESULTS/machine.txt" >&2
for c in taskset ss; do
    command -v "$c" >/dev/null 2>&1 || { log "error: $c missing"; exit 1; }
done
"$KAMAILIO" -v >/dev/null 2>&1 || log "warning: the packed kamailio does not run here; its runs will be skipped"
"$DIRECTOR" --version >/dev/null 2>&1 || { log "error: the packed director does not run here"; exit 1; }

start=$SECONDS
# brief DIR: one line per run from loadgen's JSON (rate, p50, p99, errors), readable in the
# command's output even when no file comes back and python3 is missing
brief() {
    local f v
    for f in "$1"/logs/*.json; do
        [[ -e "$f" ]] || continue
        v="$(sed -n -e 's/^ *"response_rate": *\([0-9.]*\).*/rate=\1/p' -e 's/^ *"p50": *\([0-9.]*\).*/p50_us=\1/p' \
            -e 's/^ *"p99": *\([0-9.]*\).*/p99_us=\1/p' -e 's/^ *"errors_total": *\([0-9]*\).*/errors=\1/p' "$f" | tr '\n' ' ')"
        printf '  %s: %s\n' "$(basename "$f" .json)" "$v"
    done
}

# phase NAME EST_S SCRIPT ARGS...: bench/SCRIPT ARGS into RESULTS/NAME, if EST_S still fits
# the budget
phase() {
    local name="$1" est="$2" script="bench/$3" left
    shift 3
    left=$((BUDGET - (SECONDS - start)))
    if ((left < est)); then
        log "$name: skipped ($left s left of the budget, needs ~$est s)"
        return 0
    fi
    log "$name: $script $* (~$est s, $left s left)"
    local t0=$SECONDS rc=0 md
    timeout --signal=TERM --kill-after=10 "$left" "$script" "$@" --out "$RESULTS/$name" \
        >"$RESULTS/$name.log" 2>&1 || rc=$?
    log "$name: rc=$rc after $((SECONDS - t0)) s"
    brief "$RESULTS/$name" | tee -a "$LOG" >&2
    for md in results.md latency.md; do
        [[ -f "$RESULTS/$name/$md" ]] && cat "$RESULTS/$name/$md" >>"$RESULTS/summary.md"
    done
    return 0
}
nw="$(wc -w <<<"$workers")"
per_run=$((DURATION + 3))
: >"$RESULTS/summary.md"
for p in $PHASES; do
    case "$p" in
    redirect) # the scaling table: echo, director and Kamailio at each worker count
        phase udp-redirect $((ROUNDS * nw * 3 * per_run)) run.sh --targets "echo director kamailio" \
            --workers "$workers" --client-threads "$threads" --connections "$socks" \
            --duration "$DURATION" --rounds "$ROUNDS" ;;
    pinning) # settle the pin_workers default: the same director, unpinned, at the top counts
        DIRECTOR_EXTRA_ARGS="--pin-workers false" phase udp-redirect-unpinned $((2 * per_run)) run.sh \
            --targets director --workers "$maxw" --client-threads "$threads" --connections "$socks" \
            --duration "$DURATION" --rounds 2 ;;
    proxy) # stateless forwarding to a loadgen registrar: five listeners, one per registrar of
        # bench/director-proxy.toml (the proxies' workers all send from one address, so one
        # listener would be one socket on one core) on the
        # client's CPUs, off the proxies' own, answering from sixteen ports per thread (answers
        # from one port would all reach one SO_REUSEPORT worker of the proxy)
        REGISTRAR_EXTRA_ARGS="--reply-sockets 16" BENCH_REGISTRARS=5 BENCH_REGISTRAR_CPUS="${BENCH_CLIENT_CPUS:-}" \
            phase udp-proxy $((2 * nw * per_run + 5)) run.sh --mode proxy --targets "director kamailio" \
            --workers "$workers" --client-threads "$threads" --connections "$socks" \
            --duration "$DURATION" --rounds 1 ;;
    tls) # kept-alive TLS connections
        phase tls-keepalive $((2 * nw * per_run)) run.sh --transport tls --targets "director kamailio" \
            --workers "$workers" --client-threads "$threads" --connections 64 --duration "$DURATION" --rounds 1 ;;
    latency) # the p99 target: open loop at FRACTIONS of each target's closed-loop peak, at the
        # top worker count; each run's first fifth is its warm-up, out of the percentiles
        nf="$(wc -w <<<"$FRACTIONS")"
        phase latency-udp $((2 * per_run + nf * 2 * (per_run + 2))) latency.sh --targets "echo director" \
            --workers "$maxw" --client-threads "$threads" --connections "$socks" --duration "$DURATION" --rounds 1 \
            --fractions "$FRACTIONS" --warmup-ms $((DURATION * 200)) ;;
    latency-proxy) # the same in proxy mode, the registrar set up as in the proxy phase
        nf="$(wc -w <<<"$FRACTIONS")"
        REGISTRAR_EXTRA_ARGS="--reply-sockets 16" BENCH_REGISTRARS=5 BENCH_REGISTRAR_CPUS="${BENCH_CLIENT_CPUS:-}" \
            phase latency-udp-proxy $((2 * per_run + nf * 2 * (per_run + 2))) latency.sh --mode proxy \
            --targets "director kamailio" --workers "$maxw" --client-threads "$threads" --connections "$socks" \
            --duration "$DURATION" --rounds 1 --fractions "$FRACTIONS" --warmup-ms $((DURATION * 200)) ;;
    tls-idle) # the memory target: the director's RSS with N idle TLS connections (each
        # handshook and registered once), at the top worker count; a descriptor per connection
        # in both processes, so the row notes it when the open-file limit capped N
        est=$((10 + $(wc -w <<<"$IDLE_CONNS") * 30))
        CLIENT="$PACK/bin/tls_idle_clients" WORKERS="$maxw" CONCURRENCY=256 \
            phase tls-idle "$est" tls_idle.sh $IDLE_CONNS
        [[ -f "$RESULTS/tls-idle/tls-idle.tsv" ]] && sed 's/^/  /' "$RESULTS/tls-idle/tls-idle.tsv" | tee -a "$LOG" >&2 ;;
    *) log "unknown phase $p (redirect pinning proxy tls latency latency-proxy tls-idle)" ;;
    esac
done
log "done in $((SECONDS - start)) s; results in $RESULTS (summary.md; without python3 here: bench/lib/summarize.sh DIR)"
