#!/usr/bin/env bash
# Packs what bench/device/run.sh needs on a borrowed many-core machine that reaches no
# package registry: stripped release builds of `director`, `loadgen` and the idle-TLS client
# (the dataplane example `tls_idle_clients`, for bench/tls_idle.sh), Debian's Kamailio
# (the binary, the modules bench/kamailio/*.cfg load, libsrdb1 and every other shared
# library they link that is not part of glibc) unpacked into a folder with a wrapper that
# runs it with `-L modules`, and a long-lived throwaway TLS certificate for when the machine
# has no openssl. The folder goes to the machine as an ignored path carried with the tree.
#
# Usage: bench/device/pack.sh            (env: PACK, default target/device-pack;
#                                         BENCH_NO_BUILD=1 to use existing binaries;
#                                         PACK_PROFILE=debug packs target/debug ones, for
#                                         bench/device/smoke.sh only)
# Needs: cargo (unless BENCH_NO_BUILD=1), apt-get (download only, nothing is installed),
# dpkg-deb, openssl, ldd, strip.
set -euo pipefail
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_DIR"
PACK="${PACK:-target/device-pack}"
LIMIT_MB=60 # the device tool carries 64 MiB in all

log() { printf '[pack %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
for c in apt-get dpkg-deb openssl ldd strip; do
    command -v "$c" >/dev/null 2>&1 || die "$c not found"
done

PROFILE="${PACK_PROFILE:-release}" # the target/ folder name: release or debug
case "$PROFILE" in
release) cargo_profile=release ;;
debug) cargo_profile=dev ;;
*) die "PACK_PROFILE must be release or debug" ;;
esac
if [[ "${BENCH_NO_BUILD:-0}" != 1 ]]; then
    log "cargo build --profile $cargo_profile -p director -p loadgen"
    cargo build --profile "$cargo_profile" -q -p director -p loadgen
    cargo build --profile "$cargo_profile" -q -p dataplane --example tls_idle_clients
fi
for b in director loadgen examples/tls_idle_clients; do
    [[ -x "target/$PROFILE/$b" ]] || die "no target/$PROFILE/$b (build it, or drop BENCH_NO_BUILD=1)"
done

rm -rf "$PACK"
mkdir -p "$PACK/bin" "$PACK/kamailio/sbin" "$PACK/kamailio/modules" "$PACK/kamailio/lib" "$PACK/tls"
for b in director loadgen examples/tls_idle_clients; do
    strip -o "$PACK/bin/${b##*/}" "target/$PROFILE/$b"
done

# Kamailio from Debian's archive, unpacked (not installed)
deb="$(mktemp -d "${TMPDIR:-/tmp}/kampack.XXXXXX")"
trap 'rm -rf "$deb"' EXIT
log "apt-get download kamailio kamailio-tls-modules"
(cd "$deb" && apt-get download -q kamailio kamailio-tls-modules >/dev/null 2>&1) ||
    { apt-get update -q >/dev/null 2>&1 || true; (cd "$deb" && apt-get download -q kamailio kamailio-tls-modules >/dev/null); } ||
    die "apt-get download kamailio kamailio-tls-modules failed"
for f in "$deb"/*.deb; do dpkg-deb -x "$f" "$deb/root"; done
klib="$deb/root/usr/lib/x86_64-linux-gnu/kamailio"
[[ -x "$deb/root/usr/sbin/kamailio" && -d "$klib/modules" ]] || die "unexpected kamailio package layout"
cp "$deb/root/usr/sbin/kamailio" "$PACK/kamailio/sbin/"
mapfile -t modules < <(sed -n 's/^loadmodule "\([a-z_0-9]*\)\.so".*/\1/p' bench/kamailio/*.cfg | sort -u)
[[ ${#modules[@]} -gt 0 ]] || die "no loadmodule lines in bench/kamailio/*.cfg"
for m in "${modules[@]}"; do
    [[ -f "$klib/modules/$m.so" ]] || die "module $m.so not in the kamailio packages"
    cp "$klib/modules/$m.so" "$PACK/kamailio/modules/"
done
# real files, no symlinks (the carry to the device may not keep links); the soname is enough
cp -L "$klib/libsrdb1.so.1" "$PACK/kamailio/lib/"
# every shared library the binary and modules resolve to, except glibc's own
for elf in "$PACK/kamailio/sbin/kamailio" "$PACK"/kamailio/modules/*.so; do
    LD_LIBRARY_PATH="$PACK/kamailio/lib" ldd "$elf" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}'
done | sort -u | while read -r name path; do
    case "$name" in
    libc.so.* | libm.so.* | libdl.so.* | libpthread.so.* | librt.so.* | ld-linux*) ;;
    *) [[ -e "$PACK/kamailio/lib/$name" ]] || cp -L "$path" "$PACK/kamailio/lib/$name" ;;
    esac
done
if LD_LIBRARY_PATH="$PACK/kamailio/lib" ldd "$PACK/kamailio/sbin/kamailio" "$PACK"/kamailio/modules/*.so | grep -q 'not found'; then
    die "a kamailio library is not found here: $(LD_LIBRARY_PATH="$PACK/kamailio/lib" ldd "$PACK"/kamailio/sbin/kamailio "$PACK"/kamailio/modules/*.so | grep 'not found' | sort -u | tr '\n' ' ')"
fi
cat >"$PACK/kamailio/kamailio" <<'WRAP'
#!/bin/sh
# Debian's kamailio from this folder: its modules with -L, its libraries first.
d="$(cd "$(dirname "$0")" && pwd)"
LD_LIBRARY_PATH="$d/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$d/sbin/kamailio" -L "$d/modules" "$@"
WRAP
chmod +x "$PACK/kamailio/kamailio"
"$PACK/kamailio/kamailio" -v >/dev/null 2>&1 || die "the packed kamailio does not run here"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$PACK/tls/key.pem" -out "$PACK/tls/cert.pem" 2>/dev/null || die "openssl req failed"

{
    printf 'packed: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf 'binaries: %s\n' "$PROFILE"
    printf 'git: %s%s\n' "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
        "$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
    printf 'glibc here: %s\n' "$(ldd --version | head -1)"
    printf 'kamailio: %s\n' "$("$PACK/kamailio/kamailio" -v | head -1)"
    (cd "$PACK" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
} >"$PACK/manifest.txt"
size_kb="$(du -sk "$PACK" | cut -f1)"
((size_kb <= LIMIT_MB * 1024)) || die "$PACK is $((size_kb / 1024)) MiB, over $LIMIT_MB MiB"
log "packed $PACK ($((size_kb / 1024)) MiB): carry it to the device and run bench/device/run.sh"
