# shellcheck shell=bash
# Shared helpers for bench/*.sh: dependencies, build, starting and stopping
# the targets (echo, director, kamailio, registrar), readiness, cleanup.
#
# Sourced, never run. Callers use `set -euo pipefail` and call bench_init first.
#
# Environment (all optional):
#   BENCH_PORT            target port on 127.0.0.1                 (default 5070)
#   BENCH_REGISTRAR_PORT  first port of the registrar simulator    (default 5090)
#   BENCH_REGISTRARS      proxy mode: the simulator's listeners, on consecutive ports from
#                         BENCH_REGISTRAR_PORT (default 1). The director's registrars take
#                         them in turn and Kamailio's dispatcher list names each, so the
#                         forwarded traffic spreads over several sockets (one socket answers
#                         ~200k/s on one core; every worker of a proxy sends from the same
#                         address, so SO_REUSEPORT alone would not spread it)
#   BENCH_ADMIN_PORT      director admin HTTP port                 (default 9070)
#   BENCH_CLIENT_CPUS     taskset CPU list for the load generator  (default: none)
#   BENCH_TARGET_CPUS     taskset CPU list for the target          (default: none)
#   BENCH_REGISTRAR_CPUS  taskset CPU list for the proxy mode's registrar simulator
#                         (default: BENCH_TARGET_CPUS; on 2 CPUs, the client's CPU keeps the
#                         proxy's CPU to itself)
#   BENCH_NO_BUILD=1      do not run cargo build (use existing target/release binaries)
#   BENCH_NO_INSTALL=1    never call apt-get/pip (fail if something is missing)
#   LOADGEN, DIRECTOR     binaries                                 (default target/release/...)
#   KAMAILIO              kamailio binary                          (default: kamailio in PATH)
#   KAMAILIO_MODULES      its module directory, when not the compiled-in one (a kamailio
#                         unpacked into a folder, bench/device/pack.sh)
#   KAMAILIO_SHM_MB / KAMAILIO_PKG_MB   -m / -M                     (default 256 / 16)
#   KAMAILIO_MALLOC       shm and pkg memory manager (-x / -X)     (default fm)
#   KAMAILIO_TCP=0        do not open the TCP listener              (default 1: UDP and TCP)
#   BENCH_TRANSPORT       udp, tcp or tls: how targets listen and loadgen connects (default
#                         udp; bench/run.sh --transport sets it). tls: the director gets one TLS
#                         listener, Kamailio redirect-tls.cfg on `-l tls:...` with -N W,
#                         `registrar` is `loadgen registrar --transport tls`; the certificate
#                         is a throwaway self-signed one made with openssl in the temp dir.
#                         tcp: the director gets one TCP listener, Kamailio redirect.cfg on
#                         `-l tcp:...` only with -N W, `registrar` listens on TCP.
#   TLS_CERT, TLS_KEY     a certificate and key to use instead of making one with openssl
#   LG_CONNECTIONS        loadgen --connections (TCP/TLS: kept-alive connections in total)
#   ECHO_EXTRA_ARGS       extra args for `loadgen echo`            (default --reply-200)
#   DIRECTOR_EXTRA_ARGS   extra args for `director`
#   REGISTRAR_EXTRA_ARGS  extra args for `loadgen registrar`
#   LOADGEN_RATE_FLAG     open-loop rate flag of `loadgen register` (default --rate)

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
BENCH_PORT="${BENCH_PORT:-5070}"
BENCH_REGISTRAR_PORT="${BENCH_REGISTRAR_PORT:-5090}"
BENCH_REGISTRARS="${BENCH_REGISTRARS:-1}"
BENCH_ADMIN_PORT="${BENCH_ADMIN_PORT:-9070}"
LOADGEN="${LOADGEN:-$REPO_DIR/target/release/loadgen}"
DIRECTOR="${DIRECTOR:-$REPO_DIR/target/release/director}"
KAMAILIO="${KAMAILIO:-kamailio}"
KAMAILIO_SHM_MB="${KAMAILIO_SHM_MB:-256}"
KAMAILIO_PKG_MB="${KAMAILIO_PKG_MB:-16}"
KAMAILIO_MALLOC="${KAMAILIO_MALLOC:-fm}"
KAMAILIO_TCP="${KAMAILIO_TCP:-1}"
ECHO_EXTRA_ARGS="${ECHO_EXTRA_ARGS---reply-200}"
DIRECTOR_EXTRA_ARGS="${DIRECTOR_EXTRA_ARGS:-}"
REGISTRAR_EXTRA_ARGS="${REGISTRAR_EXTRA_ARGS:-}"
LOADGEN_RATE_FLAG="${LOADGEN_RATE_FLAG:---rate}"
BENCH_TRANSPORT="${BENCH_TRANSPORT:-udp}"

# pids started by us, stopped by bench_cleanup (EXIT/INT/TERM trap)
BENCH_PIDS=()
TARGET_PID=""
REGISTRAR_PID=""
BENCH_WORK=""

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

bench_init() {
    BENCH_WORK="$(mktemp -d "${TMPDIR:-/tmp}/sipbench.XXXXXX")"
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

bench_cleanup() {
    local pid
    for pid in "${BENCH_PIDS[@]}"; do
        stop_pid "$pid"
    done
    BENCH_PIDS=()
    if [[ -n "$BENCH_WORK" && -d "$BENCH_WORK" ]]; then
        rm -rf "$BENCH_WORK"
    fi
}

# stop_pid PID: TERM, wait up to 5 s, then KILL. Only ever our own children.
stop_pid() {
    local pid="$1" i
    [[ -n "$pid" ]] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "pid $pid did not stop on TERM, killing"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

forget_pid() {
    local pid="$1" p keep=()
    for p in "${BENCH_PIDS[@]}"; do
        [[ "$p" == "$pid" ]] || keep+=("$p")
    done
    BENCH_PIDS=("${keep[@]}")
}

# --- dependencies -------------------------------------------------------------

as_root() {
    if [[ "$(id -u)" -eq 0 ]]; then "$@"; else sudo -n "$@"; fi
}

# ensure_apt PACKAGE COMMAND: install PACKAGE with apt-get when COMMAND is missing
ensure_apt() {
    local pkg="$1" cmd="$2"
    command -v "$cmd" >/dev/null 2>&1 && return 0
    [[ "${BENCH_NO_INSTALL:-0}" == 1 ]] && die "$cmd missing (package $pkg) and BENCH_NO_INSTALL=1"
    log "installing $pkg (apt-get)"
    # another apt-get may hold the dpkg lock: wait for it (up to 10 min)
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null ||
        log "apt-get update failed, trying install anyway"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
        --no-install-recommends "$pkg" >/dev/null
    command -v "$cmd" >/dev/null 2>&1 || die "$pkg installed but $cmd still missing"
}

ensure_kamailio() {
    ensure_apt kamailio "$KAMAILIO"
    # the Debian package starts a system kamailio on 5060: we never use it,
    # our instances run with their own cfg, ports and runtime dir.
}

# ensure_kamailio_tls: the tls module (Debian: kamailio-tls-modules) next to the others
ensure_kamailio_tls() {
    ensure_kamailio
    local mdir="${KAMAILIO_MODULES:-}"
    [[ -n "$mdir" ]] ||
        mdir="$("$KAMAILIO" -I 2>/dev/null | awk -F': *' '/Default paths to modules/ {print $2; exit}')"
    [[ -n "$mdir" && -f "$mdir/tls.so" ]] && return 0
    [[ "${BENCH_NO_INSTALL:-0}" == 1 ]] && die "kamailio tls.so missing (package kamailio-tls-modules) and BENCH_NO_INSTALL=1"
    log "installing kamailio-tls-modules (apt-get)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
        --no-install-recommends kamailio-tls-modules >/dev/null ||
        { as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null &&
            as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
                --no-install-recommends kamailio-tls-modules >/dev/null; }
    [[ -z "$mdir" || -f "$mdir/tls.so" ]] || die "kamailio-tls-modules installed but $mdir/tls.so still missing"
}

ensure_openssl() {
    # a preset certificate (TLS_CERT/TLS_KEY) needs no openssl
    [[ -n "$TLS_CERT" && -n "$TLS_KEY" ]] && return 0
    ensure_apt openssl openssl
}

# tls_cert: a throwaway self-signed P-256 certificate for 127.0.0.1/localhost in the temp
# dir (made once per script run); sets TLS_CERT and TLS_KEY.
TLS_CERT="${TLS_CERT:-}"
TLS_KEY="${TLS_KEY:-}"
tls_cert() {
    [[ -n "$TLS_CERT" ]] && return 0
    mkdir -p "$BENCH_WORK/tls"
    TLS_CERT="$BENCH_WORK/tls/cert.pem"
    TLS_KEY="$BENCH_WORK/tls/key.pem"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
        -keyout "$TLS_KEY" -out "$TLS_CERT" 2>/dev/null || die "openssl could not make a test certificate"
}

# tls_client_certs: a throwaway CA (CLIENT_CA) and a client certificate it signed
# (CLIENT_CERT, CLIENT_KEY; P-256, subjectAltName sip:bench@localhost), for listeners with
# `client_ca`.
CLIENT_CA="${CLIENT_CA:-}"
CLIENT_CERT="${CLIENT_CERT:-}"
CLIENT_KEY="${CLIENT_KEY:-}"
tls_client_certs() {
    [[ -n "$CLIENT_CA" ]] && return 0
    local d="$BENCH_WORK/tls-client"
    mkdir -p "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj /CN=bench-client-ca -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null ||
        die "openssl could not make a test CA"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=bench \
        -keyout "$d/client.key" -out "$d/client.csr" 2>/dev/null ||
        die "openssl could not make a client key"
    printf 'subjectAltName=URI:sip:bench@localhost\n' >"$d/ext.cnf"
    openssl x509 -req -in "$d/client.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
        -days 2 -extfile "$d/ext.cnf" -out "$d/client.pem" 2>/dev/null ||
        die "openssl could not sign the client certificate"
    CLIENT_CA="$d/ca.pem"
    CLIENT_CERT="$d/client.pem"
    CLIENT_KEY="$d/client.key"
}

ensure_sipp() { ensure_apt sip-tester sipp; }
ensure_python() { ensure_apt python3 python3; }

ensure_matplotlib() {
    python3 -c 'import matplotlib' 2>/dev/null && return 0
    [[ "${BENCH_NO_INSTALL:-0}" == 1 ]] && die "python3 matplotlib missing and BENCH_NO_INSTALL=1"
    log "installing matplotlib (pip, falling back to apt python3-matplotlib)"
    python3 -m pip install -q matplotlib 2>/dev/null ||
        python3 -m pip install -q --break-system-packages matplotlib 2>/dev/null ||
        ensure_apt python3-matplotlib true
    python3 -c 'import matplotlib' 2>/dev/null || die "could not install matplotlib"
}

build_release() {
    if [[ "${BENCH_NO_BUILD:-0}" == 1 ]]; then
        log "BENCH_NO_BUILD=1: using existing binaries"
    else
        command -v cargo >/dev/null 2>&1 || die "cargo not found (install Rust: https://rustup.rs)"
        log "cargo build --release -p director -p loadgen"
        # loadgen first: a director that does not build must not stop the echo/kamailio runs
        (cd "$REPO_DIR" && cargo build --release -q -p loadgen)
        (cd "$REPO_DIR" && cargo build --release -q -p director) || log "director does not build: its runs are skipped"
    fi
    [[ -x "$LOADGEN" ]] || die "no loadgen binary at $LOADGEN"
}

# --- helpers ----------------------------------------------------------------------

# cpu_prefix CPUS: print nothing, or "taskset -c CPUS" (one word a line) to prefix a command.
# taskset execs the command, so $! of a backgrounded "${prefix[@]}" "${cmd[@]}" is the real pid.
cpu_prefix() {
    if [[ -n "$1" ]]; then printf '%s\n' taskset -c "$1"; fi
}

port_free() {
    # true when nothing listens on 127.0.0.1:$1 (UDP or TCP); a TCP/TLS target leaves its
    # closed connections in TIME-WAIT on the port, which does not stop the next bind
    ! ss -Hluatn 2>/dev/null | awk '$2 != "TIME-WAIT" {print $5}' | grep -qE "^(127\.0\.0\.1|0\.0\.0\.0|\*|\[::\]):$1\$"
}

# wait_ready PORT [TIMEOUT [TRANSPORT]]: OPTIONS until a 200 (TRANSPORT udp, tcp or tls,
# default BENCH_TRANSPORT)
wait_ready() {
    local port="$1" timeout="${2:-20}" transport="${3:-$BENCH_TRANSPORT}"
    local -a tls=()
    [[ "$transport" == tls ]] && tls=(--tls)
    [[ "$transport" == tcp ]] && tls=(--tcp)
    if command -v python3 >/dev/null 2>&1; then
        python3 "$BENCH_DIR/lib/sipprobe.py" wait "127.0.0.1:$port" --timeout "$timeout" "${tls[@]}"
        return
    fi
    # no python3 (a borrowed machine): one OPTIONS at a time with loadgen until a 200
    local deadline=$((SECONDS + timeout))
    local -a lg=("$LOADGEN" options --target "127.0.0.1:$port" --transport "$transport" --count 1
        --expect 200 --fail-on-error --timeout-ms 300 --quiet)
    [[ "$transport" == tls ]] && lg+=(--tls-insecure)
    while ((SECONDS < deadline)); do
        "${lg[@]}" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}

# CPU time accounting (clock ticks, see `getconf CLK_TCK`), to tell whether the client or the
# target ran out of CPU in a run.
# cpu_ticks_split PID: "USER SYSTEM" time of PID and its direct children, all threads (a
# director or registrar is one process; Kamailio forks its workers from the main process).
cpu_ticks_split() {
    local root="$1" u=0 s=0 p stat
    local -a pids f
    pids=("$root")
    mapfile -t -O 1 pids < <(pgrep -P "$root" 2>/dev/null || true)
    for p in "${pids[@]}"; do
        stat="$(cat "/proc/$p/stat" 2>/dev/null)" || continue
        # fields after "pid (comm) ": state ppid ... utime(12th) stime(13th)
        read -r -a f <<<"${stat##*) }"
        u=$((u + f[11]))
        s=$((s + f[12]))
    done
    echo "$u $s"
}

# cpu_ticks_tree PID: user+system time of PID and its direct children (cpu_ticks_split, summed)
cpu_ticks_tree() {
    local u s
    read -r u s < <(cpu_ticks_split "$1")
    echo $((u + s))
}

# cpu_ticks_waited: user+system time of the main shell's waited-for children (cutime, cstime;
# $$, not $BASHPID: this runs in a command substitution)
cpu_ticks_waited() {
    local stat
    local -a f
    stat="$(cat "/proc/$$/stat")"
    read -r -a f <<<"${stat##*) }"
    echo $((f[13] + f[14]))
}

machine_info() {
    printf 'date: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf 'nproc: %s\n' "$(nproc)"
    printf 'kernel: %s\n' "$(uname -srm)"
    lscpu 2>/dev/null | grep -E '^(Model name|CPU\(s\)|Thread|Core|Socket|NUMA node\(s\)|CPU max MHz)' || true
    printf 'kamailio: %s\n' "$("$KAMAILIO" -v 2>/dev/null | head -1 || echo missing)"
    printf 'sipp: %s\n' "$(sipp -v 2>/dev/null | grep -o 'SIPp v[^ ]*' | head -1 || echo missing)"
    printf 'git: %s\n' "$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
}

# --- targets ------------------------------------------------------------------------

# director_config MODE PORT FILE: our config for the run, from bench/director*.toml
# with the port (and registrar ports in proxy mode) rewritten.
director_config() {
    local mode="$1" port="$2" out="$3" src
    if [[ "$mode" == proxy ]]; then src="$BENCH_DIR/director-proxy.toml"; else src="$BENCH_DIR/director.toml"; fi
    # each @REGISTRAR_PORT@ outside comments in turn gets the next of the BENCH_REGISTRARS ports
    sed -e "s/@PORT@/$port/g" \
        -e "s/@ADMIN_PORT@/$BENCH_ADMIN_PORT/g" \
        "$src" | awk -v first="$BENCH_REGISTRAR_PORT" -v n="$BENCH_REGISTRARS" '
        /^[ \t]*#/ { gsub(/@REGISTRAR_PORT@/, first); print; next }
        { while ((i = index($0, "@REGISTRAR_PORT@")) > 0) {
              $0 = substr($0, 1, i - 1) (first + k % n) substr($0, i + 16); k++ } print }' >"$out"
    if [[ "$BENCH_TRANSPORT" == tls ]]; then
        # the one listener becomes TLS, with the run's certificate
        tls_cert
        grep -q '^transport = "udp"$' "$out" || die "$src: expected one 'transport = \"udp\"' listener line"
        sed -i -e "s|^transport = \"udp\"\$|transport = \"tls\"\\ncertificate = \"$TLS_CERT\"\\nprivate_key = \"$TLS_KEY\"|" "$out"
    elif [[ "$BENCH_TRANSPORT" == tcp ]]; then
        # the one listener becomes TCP
        grep -q '^transport = "udp"$' "$out" || die "$src: expected one 'transport = \"udp\"' listener line"
        sed -i -e 's|^transport = "udp"$|transport = "tcp"|' "$out"
    fi
}

# kamailio_list MODE FILE: the dispatcher list for the run
kamailio_list() {
    local mode="$1" out="$2" i
    if [[ "$mode" == proxy ]]; then
        {
            printf '# generated: loopback registrar simulator (BENCH_REGISTRARS listeners)\n'
            for ((i = 0; i < BENCH_REGISTRARS; i++)); do
                printf '1 sip:127.0.0.1:%s 0 0\n' "$((BENCH_REGISTRAR_PORT + i))"
            done
        } >"$out"
    else
        cp "$BENCH_DIR/kamailio/redirect.list" "$out"
    fi
}

# start_target NAME MODE WORKERS LOGFILE: start NAME (echo|director|kamailio|registrar)
# on 127.0.0.1:$BENCH_PORT (over BENCH_TRANSPORT) and wait until it answers OPTIONS with 200.
start_target() {
    local name="$1" mode="$2" workers="$3" logf="$4" dir
    port_free "$BENCH_PORT" || die "port $BENCH_PORT busy on loopback (set BENCH_PORT)"
    dir="$BENCH_WORK/$name-$workers"
    mkdir -p "$dir"
    local -a cmd
    case "$name" in
    echo)
        [[ "$BENCH_TRANSPORT" == udp ]] || die "echo is UDP only (over TCP/TLS use the registrar target)"
        # shellcheck disable=SC2206 # word splitting of the extra args is intended
        cmd=("$LOADGEN" echo --listen "127.0.0.1:$BENCH_PORT" --threads "$workers" $ECHO_EXTRA_ARGS)
        ;;
    director)
        if [[ ! -x "$DIRECTOR" ]]; then
            log "no director binary at $DIRECTOR"
            return 1
        fi
        director_config "$mode" "$BENCH_PORT" "$dir/director.toml"
        # shellcheck disable=SC2206
        cmd=("$DIRECTOR" --config "$dir/director.toml" --workers "$workers" $DIRECTOR_EXTRA_ARGS)
        ;;
    registrar)
        # one thread (tokio current_thread) answering 200: a minimal SIP server, the
        # reference for what the client reaches over TLS; workers does not apply
        # shellcheck disable=SC2206
        cmd=("$LOADGEN" registrar --listen "127.0.0.1:$BENCH_PORT" --transport "$BENCH_TRANSPORT" $REGISTRAR_EXTRA_ARGS)
        ;;
    kamailio)
        if [[ "$BENCH_TRANSPORT" == tls ]]; then
            [[ "$mode" == redirect ]] || die "kamailio over TLS: redirect mode only"
            tls_cert
            kamailio_list "$mode" "$dir/dispatcher.list"
            cmd=("$KAMAILIO" -DD -E -f "$BENCH_DIR/kamailio/redirect-tls.cfg"
                --substdef "!DS_LIST!$dir/dispatcher.list!"
                --substdef "!TLS_CERT!$TLS_CERT!" --substdef "!TLS_KEY!$TLS_KEY!"
                -l "tls:127.0.0.1:$BENCH_PORT"
                -N "$workers"
                -x "$KAMAILIO_MALLOC" -X "$KAMAILIO_MALLOC"
                -m "$KAMAILIO_SHM_MB" -M "$KAMAILIO_PKG_MB"
                -Y "$dir" -w "$dir")
        elif [[ "$BENCH_TRANSPORT" == tcp ]]; then
            # the same redirect.cfg on a TCP listener only: -N W TCP workers (tcp_children)
            # plus Kamailio's tcp_main process, no UDP socket
            [[ "$mode" == redirect ]] || die "kamailio over TCP: redirect mode only"
            kamailio_list "$mode" "$dir/dispatcher.list"
            cmd=("$KAMAILIO" -DD -E -f "$BENCH_DIR/kamailio/redirect.cfg"
                --substdef "!DS_LIST!$dir/dispatcher.list!"
                -l "tcp:127.0.0.1:$BENCH_PORT"
                -N "$workers"
                -x "$KAMAILIO_MALLOC" -X "$KAMAILIO_MALLOC"
                -m "$KAMAILIO_SHM_MB" -M "$KAMAILIO_PKG_MB"
                -Y "$dir" -w "$dir")
        else
            local cfg="$BENCH_DIR/kamailio/redirect.cfg"
            [[ "$mode" == proxy ]] && cfg="$BENCH_DIR/kamailio/proxy.cfg"
            kamailio_list "$mode" "$dir/dispatcher.list"
            cmd=("$KAMAILIO" -DD -E -f "$cfg"
                --substdef "!DS_LIST!$dir/dispatcher.list!"
                -l "udp:127.0.0.1:$BENCH_PORT"
                -n "$workers"
                -x "$KAMAILIO_MALLOC" -X "$KAMAILIO_MALLOC"
                -m "$KAMAILIO_SHM_MB" -M "$KAMAILIO_PKG_MB"
                -Y "$dir" -w "$dir")
            if [[ "$KAMAILIO_TCP" == 1 ]]; then
                cmd+=(-l "tcp:127.0.0.1:$BENCH_PORT" -N "$workers")
            else
                cmd+=(-T)
            fi
        fi
        ;;
    *) die "unknown target $name (echo|director|kamailio|registrar)" ;;
    esac
    printf '%q ' "${cmd[@]}" >"$logf"
    printf '\n' >>"$logf"
    local -a pre
    mapfile -t pre < <(cpu_prefix "${BENCH_TARGET_CPUS:-}")
    "${pre[@]}" "${cmd[@]}" >>"$logf" 2>&1 &
    TARGET_PID=$!
    BENCH_PIDS+=("$TARGET_PID")
    if ! wait_ready "$BENCH_PORT" 30; then
        log "$name did not become ready; last lines of $logf:"
        tail -n 20 "$logf" >&2 || true
        stop_target
        return 1
    fi
    kill -0 "$TARGET_PID" 2>/dev/null || die "$name exited right after start (see $logf)"
}

stop_target() {
    [[ -n "$TARGET_PID" ]] || return 0
    stop_pid "$TARGET_PID"
    forget_pid "$TARGET_PID"
    TARGET_PID=""
    # let the kernel release the port before the next target binds it
    local i
    for ((i = 0; i < 50; i++)); do
        port_free "$BENCH_PORT" && return 0
        sleep 0.1
    done
    log "port $BENCH_PORT still busy after stopping the target"
}

# start_registrar LOGFILE: the registrar simulator (proxy mode), BENCH_REGISTRARS UDP
# listeners (REGISTRAR_EXTRA_ARGS="--threads N" gives each N sockets)
start_registrar() {
    local logf="$1"
    local -a listen=()
    local i p
    for ((i = 0; i < BENCH_REGISTRARS; i++)); do
        p=$((BENCH_REGISTRAR_PORT + i))
        port_free "$p" || die "port $p busy (set BENCH_REGISTRAR_PORT)"
        listen+=(--listen "127.0.0.1:$p")
    done
    # shellcheck disable=SC2206
    local -a cmd=("$LOADGEN" registrar "${listen[@]}" --transport udp $REGISTRAR_EXTRA_ARGS)
    printf '%q ' "${cmd[@]}" >"$logf"
    printf '\n' >>"$logf"
    local -a pre
    mapfile -t pre < <(cpu_prefix "${BENCH_REGISTRAR_CPUS:-${BENCH_TARGET_CPUS:-}}")
    "${pre[@]}" "${cmd[@]}" >>"$logf" 2>&1 &
    REGISTRAR_PID=$!
    BENCH_PIDS+=("$REGISTRAR_PID")
    # ready when it has printed a `listening` line per listener (it serves each one before
    # printing it); a SIP probe would not do: with `--reply-sockets` (REGISTRAR_EXTRA_ARGS)
    # the answers come from other ports, which loadgen's connected probe socket drops
    local deadline=$((SECONDS + 20))
    until (($(grep -c '^listening ' "$logf" || true) >= BENCH_REGISTRARS)); do
        kill -0 "$REGISTRAR_PID" 2>/dev/null || die "registrar simulator exited (see $logf)"
        ((SECONDS < deadline)) || die "registrar simulator not ready (see $logf)"
        sleep 0.1
    done
}

stop_registrar() {
    [[ -n "$REGISTRAR_PID" ]] || return 0
    stop_pid "$REGISTRAR_PID"
    forget_pid "$REGISTRAR_PID"
    REGISTRAR_PID=""
}

# --- the client -------------------------------------------------------------------------

# loadgen_register JSON LOGFILE [EXTRA ARGS...]: one `loadgen register` run against
# 127.0.0.1:$BENCH_PORT with the settings in LG_* (set by the caller), under
# BENCH_CLIENT_CPUS. Returns loadgen's status; the JSON summary goes to JSON.
#   LG_DURATION LG_THREADS LG_USERS, and either LG_RATE (open loop, requests/s in
#   total) or LG_IN_FLIGHT (closed loop, per thread); LG_CONNECTIONS optional;
#   LOADGEN_EXTRA_ARGS appended last.
loadgen_register() {
    local json="$1" logf="$2"
    shift 2
    local -a pre cmd extra=()
    mapfile -t pre < <(cpu_prefix "${BENCH_CLIENT_CPUS:-}")
    cmd=("$LOADGEN" register --target "127.0.0.1:$BENCH_PORT" --transport "$BENCH_TRANSPORT"
        --duration "$LG_DURATION" --threads "$LG_THREADS" --users "$LG_USERS")
    [[ -n "${LG_CONNECTIONS:-}" ]] && cmd+=(--connections "$LG_CONNECTIONS")
    # self-signed test certificate: not verified (the handshake cost is the same)
    [[ "$BENCH_TRANSPORT" == tls ]] && cmd+=(--tls-insecure)
    if [[ -n "${LG_RATE:-}" ]]; then
        cmd+=("$LOADGEN_RATE_FLAG" "$LG_RATE")
    else
        cmd+=(--in-flight "$LG_IN_FLIGHT")
    fi
    cmd+=(--json "$json" --quiet "$@")
    if [[ -n "${LOADGEN_EXTRA_ARGS:-}" ]]; then
        read -r -a extra <<<"$LOADGEN_EXTRA_ARGS"
        cmd+=("${extra[@]}")
    fi
    printf '%q ' "${pre[@]}" "${cmd[@]}" >"$logf"
    printf '\n' >>"$logf"
    "${pre[@]}" "${cmd[@]}" >>"$logf" 2>&1
}
