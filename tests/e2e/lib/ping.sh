# ping.sh - helpers for the owping/twping end-to-end scripts (sourced, not run): scratch
# directory, free ports, reference-format config directories, daemons stopped by PID on exit,
# TAP lines and -M summary checks.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
BUILD_DIR=${OWAMP_TOOLS_BUILD:-$ROOT/build} # where make put what it built
BIN_DIR=$BUILD_DIR/bin
[ -x /usr/bin/python3 ] && PATH=/usr/bin:$PATH # the distribution python starts fastest
DATA=$ROOT/tests/e2e/data
OWAMPD=$BIN_DIR/owampd
TWAMPD=$BIN_DIR/twampd
OWPING=$BIN_DIR/owping
TWPING=$BIN_DIR/twping
TMP=$(mktemp -d -t e2e-ping.XXXXXX)
PIDS=()
n=0

cleanup() {
    local p
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    sleep 0.2
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# tap STATUS NAME [DIAGNOSTIC FILE]: one TAP line; on failure the file's tail as diagnostics.
tap() {
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        # the counts and the messages first (a -M summary's end says little), then the end
        [ -n "${3:-}" ] && [ -f "$3" ] &&
            { grep -E '^(SENT|LOST|DUPS)	|^[a-z_]+: ' "$3" | tail -8; tail -3 "$3"; } | sed 's/^/# /'
    fi
    return 0
}

# free_port tcp|udp 4|6: a port nobody listens on now, and not one this script was given
# before (two calls in a row may otherwise return the same port).
free_port() {
    python3 "$ROOT/tests/e2e/lib/free_port.py" "$1" "$2" "$TMP/ports.given"
}

# confdir DIR owamp|twamp MODES: config, limits and pass-phrases (identity alice) in DIR.
confdir() {
    mkdir -p "$1/var" "$1/data"
    cat >"$1/$2-server.conf" <<CONF
rootfolly
authmode $3
vardir $1/var
datadir $1/data
CONF
    cat >"$1/$2-server.limits" <<LIM
limit root with disk=0, bandwidth=0, delete_on_fetch=on, allow_open_mode=on
assign default root
assign user alice root
LIM
    cp "$DATA/alice.pfs" "$1/$2-server.pfs"
}

# start_daemon BIN CONFDIR HOST PORT LOG [args]: run in the foreground (recorded for cleanup)
# and wait until it accepts TCP connections on HOST:PORT.
start_daemon() {
    local bin=$1 dir=$2 host=$3 port=$4 log=$5 listen i
    shift 5
    case $host in *:*) listen="[$host]:$port" ;; *) listen="$host:$port" ;; esac
    "$bin" -Z -f -c "$dir" -R "$dir/var" -S "$listen" "$@" >"$log" 2>&1 &
    PIDS+=($!)
    for i in $(seq 50); do
        python3 -c "import socket,sys;socket.create_connection(('$host',$port),0.2).close()" \
            2>/dev/null && return 0
        sleep 0.1
    done
    echo "# $bin did not start on $listen"; tail -3 "$log" | sed 's/^/# /'
    return 1
}

# summaries_ok FILE COUNT NSUM: the -M output has NSUM summaries, each SENT COUNT and LOST 0.
summaries_ok() {
    awk -v c="$2" -v want="$3" '
        $1 == "SUMMARY" { n++ }
        $1 == "SENT" && $2 != c { bad = 1 }
        $1 == "LOST" && $2 != 0 { bad = 1 }
        $1 == "SENT" { s++ }
        END { exit !(n == want && s == want && !bad) }' "$1"
}

# timed OUT CMD...: run CMD with stdout and stderr in OUT; its exit status, and its wall time
# in ms in $WALL_MS.
timed() {
    local out=$1 t0 rc
    shift
    t0=$(date +%s%N)
    "$@" >"$out" 2>&1
    rc=$?
    WALL_MS=$((($(date +%s%N) - t0) / 1000000))
    return $rc
}

# lost_is FILE N: the -M output has one summary, with LOST N.
lost_is() {
    awk -v want="$2" '$1 == "SUMMARY" { n++ } $1 == "LOST" { l = $2 }
        END { exit !(n == 1 && l == want) }' "$1"
}

AUTH=(-u alice -k "$DATA/alice.pfs")
