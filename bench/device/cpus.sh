# shellcheck shell=bash
# The CPU split of bench/device/run.sh: half of the cores for the targets, the other half for
# the load generator, from the CPUs the process may use (a container's cpuset need not start
# at 0), with a core's hyperthreads kept on one side so that a target and the client never
# share a core. Sourced; bench/device/cpus_test.sh checks it on made-up topologies.

# allowed_cpus: the CPU ids this process may use, one per line.
allowed_cpus() {
    local list
    list="$(awk '/^Cpus_allowed_list:/ {print $2}' /proc/self/status 2>/dev/null)"
    [[ -n "$list" ]] || list="0-$(($(nproc) - 1))"
    expand_cpu_list "$list"
}

# expand_cpu_list LIST: "0-3,8" -> 0 1 2 3 8, one per line.
expand_cpu_list() {
    tr ',' '\n' <<<"$1" | awk -F- 'NF == 2 { for (i = $1; i <= $2; i++) print i; next } NF == 1 && $1 != "" { print $1 }'
}

# siblings_of CPU: the hyperthreads sharing its core, as the kernel lists them (the CPU alone
# where it does not say).
siblings_of() { cat "/sys/devices/system/cpu/cpu$1/topology/thread_siblings_list" 2>/dev/null || echo "$1"; }

# split_cores CPU...: sets SPLIT_TARGETS and SPLIT_CLIENT (comma lists, both empty when there
# are fewer than two cores), SPLIT_NTARGETS (the CPUs the targets get: all of them without a
# split) and SPLIT_NCPUS.
split_cores() {
    local -a cores=() core_of=()
    local -A seen=()
    local c k i
    for c in "$@"; do
        k="$(siblings_of "$c")"
        core_of+=("$k")
        if [[ -z "${seen[$k]:-}" ]]; then
            seen[$k]=1
            cores+=("$k")
        fi
    done
    local -A side=()
    for ((i = 0; i < ${#cores[@]}; i++)); do
        if ((i < ${#cores[@]} / 2)); then side[${cores[$i]}]=target; else side[${cores[$i]}]=client; fi
    done
    SPLIT_TARGETS="" SPLIT_CLIENT="" SPLIT_NTARGETS=0 SPLIT_NCPUS=$#
    i=0
    for c in "$@"; do
        if [[ "${side[${core_of[$i]}]}" == target ]]; then
            SPLIT_TARGETS="$SPLIT_TARGETS,$c"
            SPLIT_NTARGETS=$((SPLIT_NTARGETS + 1))
        else
            SPLIT_CLIENT="$SPLIT_CLIENT,$c"
        fi
        i=$((i + 1))
    done
    SPLIT_TARGETS="${SPLIT_TARGETS#,}" SPLIT_CLIENT="${SPLIT_CLIENT#,}"
    if [[ -z "$SPLIT_TARGETS" || -z "$SPLIT_CLIENT" ]]; then
        # one core: no split; everything runs anywhere
        SPLIT_TARGETS="" SPLIT_CLIENT="" SPLIT_NTARGETS=$#
    fi
}
