#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: SIPp (Debian `sip-tester`) and
# Kamailio (the reference peer). Idempotent: does nothing when both are already there.
set -euo pipefail

need=()
command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
command -v kamailio >/dev/null 2>&1 || need+=(kamailio)
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
