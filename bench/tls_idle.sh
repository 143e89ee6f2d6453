#!/usr/bin/env bash
# bench/tls_idle.sh: resident memory of the director per idle TLS connection.
#
# For each N: starts a fresh director with TLS listeners (a self-signed EC certificate made
# with openssl, or TLS_CERT/TLS_KEY), reads its RSS, opens N TLS connections (each handshakes,
# sends one REGISTER, reads the 301, then stays silent) with the dataplane example
# `tls_idle_clients`, waits, reads the RSS again and prints the difference per connection.
# It also prints the kernel's memory per connection: the growth of the machine's slab and TCP
# buffer memory, halved (both ends are on this machine and hold the same socket structures).
#
# Usage: bench/tls_idle.sh [--out DIR] [N ...]   (default N: 5000 10000 19000)
#   --out DIR  also write DIR/tls-idle.tsv (one row per N) and DIR/results.md (the table)
# Env:   DIRECTOR  director binary          (default target/release/director)
#        CLIENT    client binary            (default target/release/examples/tls_idle_clients)
#        WORKERS   director workers         (default 2)
#        LISTENERS TLS listeners            (default: one per 20,000 connections; one client
#                  address reaches one listener from ~28k ephemeral ports at most)
#        SETTLE_S  seconds to wait before reading the RSS (default 3)
#        CONCURRENCY  handshakes in flight  (default 64)
#        TLS_CERT, TLS_KEY  certificate and key to use instead of making them with openssl
# Both processes need one descriptor per connection: the script raises its soft open-file
# limit to the hard one (and tries to raise the hard one, which needs CAP_SYS_RESOURCE); an N
# above what that allows is capped and the row says so (20000 on the 2-core box). Build first:
#   cargo build --release -p director --bin director
#   cargo build --release -p dataplane --example tls_idle_clients
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
DIRECTOR="${DIRECTOR:-$root/target/release/director}"
CLIENT="${CLIENT:-$root/target/release/examples/tls_idle_clients}"
WORKERS="${WORKERS:-2}"
SETTLE_S="${SETTLE_S:-3}"
CONCURRENCY="${CONCURRENCY:-64}"
out=""
counts=()
while [[ $# -gt 0 ]]; do
    case "$1" in
    --out) out="${2:?--out needs a directory}"; shift 2 ;;
    -h | --help) sed -n '2,25p' "$0"; exit 0 ;;
    *) counts+=("$1"); shift ;;
    esac
done
[ ${#counts[@]} -gt 0 ] || counts=(5000 10000 19000)
for n in "${counts[@]}"; do
    [[ "$n" =~ ^[0-9]+$ && "$n" -gt 0 ]] || { echo "tls_idle: not a connection count: $n" >&2; exit 2; }
done
for b in "$DIRECTOR" "$CLIENT"; do
    [[ -x "$b" ]] || { echo "tls_idle: no $b (build it first)" >&2; exit 2; }
done

# descriptors: the biggest N plus some for the process itself
max=0
for n in "${counts[@]}"; do ((n > max)) && max=$n; done
want=$((max + 1024))
hard="$(ulimit -Hn)"
if [[ "$hard" != unlimited ]] && ((hard < want)); then
    ulimit -Hn "$want" 2>/dev/null || true
    hard="$(ulimit -Hn)"
fi
if [[ "$hard" == unlimited ]]; then
    ulimit -n "$want" 2>/dev/null || true
else
    ulimit -n "$hard" 2>/dev/null || true
fi
soft="$(ulimit -n)"
[[ "$soft" == unlimited ]] && soft=$want

tmp="$(mktemp -d)"
dpid=""
cpid=""
cleanup() {
    [ -n "$cpid" ] && kill "$cpid" 2>/dev/null || true
    [ -n "$dpid" ] && kill "$dpid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

cert="${TLS_CERT:-}" key="${TLS_KEY:-}"
if [[ -z "$cert" || -z "$key" ]]; then
    cert="$tmp/cert.pem" key="$tmp/key.pem"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj /CN=localhost -addext subjectAltName=DNS:localhost \
        -keyout "$key" -out "$cert" 2>/dev/null
fi

# config N: a director for N connections (no per-worker cap below N)
config() {
    local n="$1" listeners="${LISTENERS:-$(((n + 19999) / 20000))}" i
    printf '[director]\nworkers = %s\n\n[limits]\nmax_connections_per_worker = %s\n\n' "$WORKERS" "$n"
    for ((i = 0; i < listeners; i++)); do
        printf '[[listen]]\naddress = "127.0.0.1:0"\ntransport = "tls"\ncertificate = "%s"\nprivate_key = "%s"\n\n' \
            "$cert" "$key"
    done
    printf '[[pool]]\nid = "pool1"\n\n[[pool.registrar]]\nid = "fe1"\n'
    printf 'contact = "sip:fe1.pool1.example.com:5061;transport=TLS"\n'
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# The kernel's side, machine-wide: slab (socket, inode, file, epoll structures) plus the TCP
# buffers of /proc/net/sockstat (pages). Both ends of every connection live on this machine and
# hold the same structures, so half the growth is the director's; other activity on the machine
# shows up here too (the RSS figure is the director's alone).
kernel_kib() {
    local page
    page="$(getconf PAGESIZE 2>/dev/null || echo 4096)"
    awk -v page="$page" '
        FILENAME == "/proc/meminfo" && $1 == "Slab:" { slab = $2 }
        FILENAME == "/proc/net/sockstat" && $1 == "TCP:" {
            for (i = 2; i < NF; i++) if ($i == "mem") tcp = $(i + 1) * page / 1024
        }
        END { printf "%d\n", slab + tcp }' /proc/meminfo /proc/net/sockstat
}

printf '%-8s %-10s %-9s %-12s %-12s %-14s %-17s %s\n' conns open listeners rss0_MiB rssN_MiB KiB_per_conn kernel_KiB_per_conn note
if [[ -n "$out" ]]; then
    mkdir -p "$out"
    printf 'conns\topen\tfailed\tlisteners\tworkers\trss0_kib\trssn_kib\tkib_per_conn\tnote\tkernel0_kib\tkerneln_kib\tkernel_kib_per_conn\n' >"$out/tls-idle.tsv"
fi
for asked in "${counts[@]}"; do
    n=$asked note=""
    if ((n + 1024 > soft)); then
        n=$((soft - 1024))
        note="capped from $asked by the open-file limit ($soft)"
    fi
    config "$n" >"$tmp/director.toml"
    DIRECTOR_LOG=warn "$DIRECTOR" --config "$tmp/director.toml" >"$tmp/out" 2>"$tmp/err" &
    dpid=$!
    for _ in $(seq 100); do grep -q '^ready' "$tmp/out" && break; sleep 0.1; done
    addrs="$(awk '$1 == "listening" && $2 == "tls" {printf "%s%s", sep, $3; sep = ","}' "$tmp/out")"
    [ -n "$addrs" ] || { cat "$tmp/err" >&2; exit 1; }
    nlisten="$(tr ',' '\n' <<<"$addrs" | wc -l)"
    sleep 0.5
    rss0="$(rss_kib "$dpid")"
    kern0="$(kernel_kib)"
    rm -f "$tmp/hold"
    mkfifo "$tmp/hold"
    "$CLIENT" "$addrs" "$n" "$CONCURRENCY" <"$tmp/hold" >"$tmp/client" 2>"$tmp/client.err" &
    cpid=$!
    exec 3>"$tmp/hold"
    until grep -q '^open' "$tmp/client"; do
        kill -0 "$cpid" 2>/dev/null || { cat "$tmp/client.err" >&2; exit 1; }
        sleep 0.2
    done
    sleep "$SETTLE_S"
    rssn="$(rss_kib "$dpid")"
    kernn="$(kernel_kib)"
    read -r _ opened _ failed <"$tmp/client"
    [[ "$failed" == 0 ]] || note="${note:+$note; }$failed failed ($(head -1 "$tmp/client.err"))"
    per="$(awk -v o="$opened" -v a="$rss0" -v b="$rssn" 'BEGIN { printf "%.2f", (b - a) / (o > 0 ? o : 1) }')"
    kper="$(awk -v o="$opened" -v a="$kern0" -v b="$kernn" 'BEGIN { printf "%.2f", (b - a) / 2 / (o > 0 ? o : 1) }')"
    printf '%-8d %-10d %-9d %-12.1f %-12.1f %-14s %-17s %s\n' "$n" "$opened" "$nlisten" \
        "$(awk -v k="$rss0" 'BEGIN { print k / 1024 }')" "$(awk -v k="$rssn" 'BEGIN { print k / 1024 }')" "$per" "$kper" "$note"
    if [[ -n "$out" ]]; then
        printf '%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%d\t%d\t%s\n' "$n" "$opened" "$failed" "$nlisten" "$WORKERS" \
            "$rss0" "$rssn" "$per" "$note" "$kern0" "$kernn" "$kper" >>"$out/tls-idle.tsv"
    fi
    exec 3>&-
    wait "$cpid" || true
    cpid=""
    kill "$dpid"
    wait "$dpid" || true
    dpid=""
done
if [[ -n "$out" ]]; then
    {
        printf '## Idle TLS connections: director RSS (%s workers, %s)\n\n' "$WORKERS" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
        printf '| connections | open | listeners | RSS before (MiB) | RSS with them open (MiB) | RSS KiB per connection | kernel KiB per connection (half of both ends) | 100k at RSS + kernel (GiB) | note |\n'
        printf '|---|---|---|---|---|---|---|---|---|\n'
        awk -F'\t' 'NR > 1 { printf "| %d | %d | %d | %.1f | %.1f | %.2f | %.2f | %.2f | %s |\n", $1, $2, $4, $6/1024, $7/1024, $8, $12, ($8 + $12) * 100000 / 1048576, $9 }' "$out/tls-idle.tsv"
        printf '\n'
    } >"$out/results.md"
fi
