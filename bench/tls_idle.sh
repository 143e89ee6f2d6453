#!/usr/bin/env bash
# bench/tls_idle.sh: resident memory of the director per idle TLS connection.
#
# For each N: starts a fresh director with one TLS listener (self-signed EC certificate made
# with openssl), reads its RSS, opens N TLS connections (each handshakes, sends one REGISTER,
# reads the 301, then stays silent) with the dataplane example `tls_idle_clients`, waits, reads
# the RSS again and prints the difference per connection.
#
# Usage: bench/tls_idle.sh [N ...]          (default: 5000 10000 19000)
# Env:   DIRECTOR  director binary          (default target/release/director)
#        CLIENT    client binary            (default target/release/examples/tls_idle_clients)
#        WORKERS   director workers         (default 2)
#        SETTLE_S  seconds to wait before reading the RSS (default 3)
# The per-process open-file limit caps N (ulimit -Hn; 20000 on the 2-core box): the director
# needs one descriptor per connection. Build first:
#   cargo build --release -p director --bin director
#   cargo build --release -p dataplane --example tls_idle_clients
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
DIRECTOR="${DIRECTOR:-$root/target/release/director}"
CLIENT="${CLIENT:-$root/target/release/examples/tls_idle_clients}"
WORKERS="${WORKERS:-2}"
SETTLE_S="${SETTLE_S:-3}"
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(5000 10000 19000)

ulimit -n "$(ulimit -Hn)"
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

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null

cat >"$tmp/director.toml" <<TOML
[director]
workers = $WORKERS

[[listen]]
address = "127.0.0.1:0"
transport = "tls"
certificate = "$tmp/cert.pem"
private_key = "$tmp/key.pem"

[[pool]]
id = "pool1"

[[pool.registrar]]
id = "fe1"
contact = "sip:fe1.pool1.example.com:5061;transport=TLS"
TOML

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

printf '%-8s %-10s %-12s %-12s %-14s\n' conns open rss0_MiB rssN_MiB KiB_per_conn
for n in "${counts[@]}"; do
    DIRECTOR_LOG=warn "$DIRECTOR" --config "$tmp/director.toml" >"$tmp/out" 2>"$tmp/err" &
    dpid=$!
    for _ in $(seq 100); do grep -q '^ready' "$tmp/out" && break; sleep 0.1; done
    addr="$(awk '$1 == "listening" && $2 == "tls" {print $3; exit}' "$tmp/out")"
    [ -n "$addr" ] || { cat "$tmp/err" >&2; exit 1; }
    sleep 0.5
    rss0="$(rss_kib "$dpid")"
    rm -f "$tmp/hold"
    mkfifo "$tmp/hold"
    "$CLIENT" "$addr" "$n" 64 <"$tmp/hold" >"$tmp/client" 2>"$tmp/client.err" &
    cpid=$!
    exec 3>"$tmp/hold"
    until grep -q '^open' "$tmp/client"; do
        kill -0 "$cpid" 2>/dev/null || { cat "$tmp/client.err" >&2; exit 1; }
        sleep 0.2
    done
    sleep "$SETTLE_S"
    rssn="$(rss_kib "$dpid")"
    opened="$(awk '/^open/ {print $2}' "$tmp/client")"
    awk -v n="$n" -v o="$opened" -v a="$rss0" -v b="$rssn" 'BEGIN {
        printf "%-8d %-10d %-12.1f %-12.1f %-14.2f\n", n, o, a/1024, b/1024, (b-a)/(o>0?o:1) }'
    exec 3>&-
    wait "$cpid" || true
    cpid=""
    kill "$dpid"
    wait "$dpid" || true
    dpid=""
done
