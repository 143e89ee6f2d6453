#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: SIPp (Debian `sip-tester`),
# Kamailio (the reference peer) and its TLS module (Debian `kamailio-tls-modules`, for the TLS
# comparison in bench/run.sh --transport tls). Idempotent: does nothing when all are there.
set -euo pipefail

need=()
command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
command -v kamailio >/dev/null 2>&1 || need+=(kamailio)
# tls.so lives in kamailio's module dir (Debian: /usr/lib/<triplet>/kamailio/modules).
kamailio_tls_module() {
  local dir
  command -v kamailio >/dev/null 2>&1 || return 1
  dir="$(kamailio -I 2>/dev/null | sed -n 's/^ *Default paths to modules: *//p' | head -n 1)"
  [ -n "$dir" ] && [ -f "$dir/tls.so" ]
}
kamailio_tls_module || need+=(kamailio-tls-modules)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "install-test-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists may be stale or absent on a fresh machine; refresh once if the install fails.
if ! $sudo apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null; then
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
command -v sipp >/dev/null
kamailio_tls_module
