#!/usr/bin/env bash
# Checks bench/device/cpus.sh's split on made-up topologies (no hyperthreads, siblings i and
# i+8, siblings in pairs, cpusets that do not start at 0, one CPU). Called by
# bench/device/smoke.sh.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=cpus.sh
source "$(dirname "${BASH_SOURCE[0]}")/cpus.sh"
fails=0
# expect LIST SIBLINGS TARGETS CLIENT NTARGETS
expect() {
    local list="$1" mode="$2"
    case "$mode" in
    none) siblings_of() { echo "$1"; } ;;
    smt8) siblings_of() { echo "$(($1 % 8)),$(($1 % 8 + 8))"; } ;;
    pairs) siblings_of() { echo "$(($1 / 2 * 2))-$(($1 / 2 * 2 + 1))"; } ;;
    esac
    local -a cpus
    mapfile -t cpus < <(expand_cpu_list "$list")
    split_cores "${cpus[@]}"
    local got="$SPLIT_TARGETS | $SPLIT_CLIENT | $SPLIT_NTARGETS" want="$3 | $4 | $5"
    if [[ "$got" != "$want" ]]; then
        echo "cpus_test: $list ($mode): got '$got', want '$want'" >&2
        fails=$((fails + 1))
    fi
}
expect 0-15 none 0,1,2,3,4,5,6,7 8,9,10,11,12,13,14,15 8
expect 0-15 smt8 0,1,2,3,8,9,10,11 4,5,6,7,12,13,14,15 8
expect 0-15 pairs 0,1,2,3,4,5,6,7 8,9,10,11,12,13,14,15 8
expect 4-19 none 4,5,6,7,8,9,10,11 12,13,14,15,16,17,18,19 8
expect 0-3,8-11 none 0,1,2,3 8,9,10,11 4
expect 0-1 none 0 1 1
expect 0-1 pairs "" "" 2
expect 5 none "" "" 1
((fails == 0)) || exit 1
echo "cpus_test: every split as expected" >&2
