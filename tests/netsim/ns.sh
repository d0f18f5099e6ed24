# ns.sh - two network namespaces joined by netsim, for end-to-end tests. Source it from bash:
#
#   . tests/netsim/ns.sh
#   netsim_check || { netsim_skip_all 5; exit 0; }   # prints "1..5" and five "# SKIP" lines
#   trap netsim_down EXIT
#   netsim_up --delay 5ms                 # namespaces + relay with these netsim options
#   netsim_a "$NETSIM_PY" "$NETSIM_PROBE" rtt "$NETSIM_B4" 9000   # a command in namespace A
#   netsim_restart --drop 3,7             # same namespaces, relay with new options
#   netsim_stat a2b drop_pattern          # a counter from the relay's last --stats output
#
# Addressing (documentation prefixes only): a TUN named nsim0 in each namespace,
#   A: 192.0.2.1/24  2001:db8:1::1/64        B: 192.0.2.2/24  2001:db8:1::2/64
# Everything A sends to the prefix goes into its TUN, through the relay, out of B's TUN.

NETSIM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NETSIM_BIN=${NETSIM_BIN:-${OWAMP_TOOLS_BUILD:-$NETSIM_DIR/../../build}/tests/netsim/netsim}
NETSIM_PROBE=$NETSIM_DIR/probe.py
# The interpreter itself: a version-manager shim costs ~0.3 s per start.
NETSIM_PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || echo python3)
NETSIM_NS_A=nsim_a_$$
NETSIM_NS_B=nsim_b_$$
NETSIM_DEV=nsim0
NETSIM_A4=192.0.2.1
NETSIM_B4=192.0.2.2
NETSIM_A6=2001:db8:1::1
NETSIM_B6=2001:db8:1::2
NETSIM_PID=
NETSIM_STATUS=
NETSIM_TMP=
NETSIM_LOG=
NETSIM_SKIP=

# Can the relay run here? Returns 1 with the reason in NETSIM_SKIP when it cannot.
netsim_check() {
    if [ "$(id -u)" != 0 ]; then
        NETSIM_SKIP="not root"
    elif [ ! -c /dev/net/tun ]; then
        NETSIM_SKIP="no /dev/net/tun"
    elif ! ip netns list >/dev/null 2>&1; then
        NETSIM_SKIP="'ip netns' unavailable"
    elif [ ! -x "$NETSIM_BIN" ]; then
        NETSIM_SKIP="$NETSIM_BIN not built"
    elif ! command -v python3 >/dev/null 2>&1; then
        NETSIM_SKIP="no python3"
    else
        return 0
    fi
    echo "# SKIP $NETSIM_SKIP" >&2
    return 1
}

# Print a TAP plan of N tests, all skipped with NETSIM_SKIP (or $2) as the reason.
netsim_skip_all() {
    local n=$1 reason=${2:-$NETSIM_SKIP} i
    echo "1..$n"
    echo "# SKIP $reason"
    for ((i = 1; i <= n; i++)); do
        echo "ok $i - netsim # SKIP $reason"
    done
}

netsim_a() { ip netns exec "$NETSIM_NS_A" "$@"; }
netsim_b() { ip netns exec "$NETSIM_NS_B" "$@"; }

# Remove namespaces left by earlier runs whose shell is gone (bounded by the list's length).
netsim_reap_stale() {
    local ns pid
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^nsim_[ab]_[0-9]+$'); do
        pid=${ns##*_}
        if ! kill -0 "$pid" 2>/dev/null; then
            ip netns del "$ns" 2>/dev/null
        fi
    done
}

# Create one namespace with its TUN and addresses; $1 name, $2 IPv4, $3 IPv6.
netsim_ns_make() {
    local ns=$1
    ip netns add "$ns" || return 1
    ip -n "$ns" link set lo up &&
        ip -n "$ns" tuntap add dev "$NETSIM_DEV" mode tun &&
        ip -n "$ns" link set dev "$NETSIM_DEV" addrgenmode none &&
        ip -n "$ns" addr add "$2/24" dev "$NETSIM_DEV" &&
        ip -n "$ns" addr add "$3/64" dev "$NETSIM_DEV" nodad &&
        ip -n "$ns" link set dev "$NETSIM_DEV" up
}

# Start the relay with the given netsim options and wait (at most 5 s) until it is attached.
netsim_start() {
    local ready=$NETSIM_TMP/ready i
    rm -f "$ready"
    echo "# netsim $*" >>"$NETSIM_LOG"
    "$NETSIM_BIN" --ns-a "$NETSIM_NS_A" --ns-b "$NETSIM_NS_B" --dev "$NETSIM_DEV" \
        --ready-file "$ready" --stats "$@" 2>>"$NETSIM_LOG" &
    NETSIM_PID=$!
    for ((i = 0; i < 100; i++)); do
        [ -s "$ready" ] && return 0
        kill -0 "$NETSIM_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "# netsim did not start; its log:" >&2
    sed 's/^/#   /' "$NETSIM_LOG" >&2
    netsim_stop
    return 1
}

# Stop the relay (SIGTERM, then SIGKILL after 3 s); its exit status goes to NETSIM_STATUS and
# its stats to NETSIM_LOG.
netsim_stop() {
    local i
    [ -n "$NETSIM_PID" ] || return 0
    kill -TERM "$NETSIM_PID" 2>/dev/null
    for ((i = 0; i < 60; i++)); do
        kill -0 "$NETSIM_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$NETSIM_PID" 2>/dev/null
    wait "$NETSIM_PID" 2>/dev/null
    NETSIM_STATUS=$?
    NETSIM_PID=
}

# Create both namespaces and start the relay with the given options.
netsim_up() {
    netsim_reap_stale
    NETSIM_TMP=$(mktemp -d /tmp/netsim.XXXXXX) || return 1
    NETSIM_LOG=$NETSIM_TMP/netsim.log
    : >"$NETSIM_LOG"
    if ! netsim_ns_make "$NETSIM_NS_A" "$NETSIM_A4" "$NETSIM_A6" ||
        ! netsim_ns_make "$NETSIM_NS_B" "$NETSIM_B4" "$NETSIM_B6"; then
        echo "# netsim: namespace set-up failed" >&2
        return 1
    fi
    netsim_start "$@"
}

# Replace the running relay by one with new options; the namespaces stay.
netsim_restart() {
    netsim_stop
    netsim_start "$@"
}

# Kill (by pid) whatever the test left running inside our two namespaces.
netsim_kill_inside() {
    local ns pid
    for ns in "$NETSIM_NS_A" "$NETSIM_NS_B"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null
        done
    done
}

# Stop the relay, kill leftovers in the namespaces, delete them and the temporary directory.
# Safe to call twice.
netsim_down() {
    netsim_stop
    netsim_kill_inside
    ip netns del "$NETSIM_NS_A" 2>/dev/null
    ip netns del "$NETSIM_NS_B" 2>/dev/null
    if [ -n "$NETSIM_TMP" ]; then
        rm -rf "$NETSIM_TMP"
        NETSIM_TMP=
    fi
    return 0
}

# netsim_stat DIR KEY: the counter KEY of direction DIR (a2b/b2a) from the last stats printed.
netsim_stat() {
    grep "^netsim: stats $1 " "$NETSIM_LOG" | tail -1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}
