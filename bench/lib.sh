# lib.sh - helpers sourced by the benchmark scripts (not a benchmark itself): scratch
# directory, daemon configuration, daemons started and stopped by PID, free ports, medians,
# memory and CPU figures from /proc. Everything runs on 127.0.0.1 only.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${OWAMP_TOOLS_BUILD:-$ROOT/build} # where make put what it built
BIN_DIR=$BUILD_DIR/bin
OWAMPD=$BIN_DIR/owampd
TWAMPD=$BIN_DIR/twampd
OWPING=$BIN_DIR/owping
TWPING=$BIN_DIR/twping
BIN=$BUILD_DIR/bench # the benchmark programs
TMP=$(mktemp -d -t owamp-bench.XXXXXX)
BENCH_PIDS=()
HZ=$(getconf CLK_TCK)

bench_cleanup() {
    local p
    for p in "${BENCH_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    sleep 0.2
    for p in "${BENCH_PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap bench_cleanup EXIT
trap 'exit 1' INT TERM
cd "$TMP" || exit 1 # nothing a script writes by mistake lands in the work tree
# Run every measured process (daemons, clients, load generator: all children of the script)
# at a higher priority so that other jobs of a shared machine disturb the figures less.
BENCH_NICE=${BENCH_NICE:--10}
renice -n "$BENCH_NICE" -p $$ >/dev/null 2>&1 || true

# One line about the conditions, printed by every script: figures on a shared 2-core
# machine move with whatever else runs.
bench_header() {
    echo "# $1"
    echo "# host: $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)," \
        "net.core.rmem_default $(cat /proc/sys/net/core/rmem_default)"
    echo "# nice $(ps -o ni= -p $$ | tr -d ' ') (BENCH_NICE); cpu pressure: $(head -1 /proc/pressure/cpu 2>/dev/null || echo n/a)"
    echo "# tree: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- libprotocol owping 2>/dev/null || echo ' + uncommitted changes in libprotocol/ or owping/')"
    if [ "$(cd "$BUILD_DIR" 2>/dev/null && pwd)" != "$ROOT/build" ]; then
        echo "# programs: $BUILD_DIR (OWAMP_TOOLS_BUILD), built from" \
            "$(git -C "$BUILD_DIR/.." rev-parse --short HEAD 2>/dev/null || echo 'an unknown tree')"
    fi
}

# free_port tcp|udp: a port nobody uses on 127.0.0.1 now, and not one given out before.
free_port() {
    python3 "$ROOT/tests/e2e/lib/free_port.py" "$1" 4 "$TMP/ports.given"
}

# confdir DIR owamp|twamp: open mode, no limits on sessions or bandwidth.
confdir() {
    mkdir -p "$1/var"
    printf 'rootfolly\nauthmode O\nvardir %s\ndatadir %s\n' "$1/var" "$1/var" >"$1/$2-server.conf"
    printf 'limit root with allow_open_mode=on, bandwidth=0, disk=0\nassign default root\n' \
        >"$1/$2-server.limits"
    : >"$1/$2-server.pfs"
}

# start_daemon owampd|twampd PORT LOG [args]: start in the foreground with a fresh config;
# sets DAEMON_PID once it accepts connections on 127.0.0.1:PORT.
start_daemon() {
    local name=$1 port=$2 log=$3 bin dir i
    shift 3
    bin=$OWAMPD
    [ "$name" = twampd ] && bin=$TWAMPD
    if [ ! -x "$bin" ]; then
        echo "# $bin is missing: run make first"
        return 1
    fi
    dir=$(mktemp -d -p "$TMP" "$name.XXXX")
    confdir "$dir" "${name%d}"
    "$bin" -Z -f -c "$dir" -R "$dir/var" -S "127.0.0.1:$port" "$@" >"$log" 2>&1 &
    DAEMON_PID=$!
    BENCH_PIDS+=("$DAEMON_PID")
    for i in $(seq 50); do
        python3 -c "import socket;socket.create_connection(('127.0.0.1',$port),0.2).close()" \
            2>/dev/null && return 0
        sleep 0.1
    done
    echo "# $name did not start on port $port:"; tail -3 "$log" | sed 's/^/#   /'
    return 1
}

# stop_pid PID: SIGTERM, wait for it.
stop_pid() {
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

# proc_kb PID VmRSS|VmHWM: that line of /proc/PID/status in KB.
proc_kb() {
    awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null
}

# rss_split PID: "rss shared private anonymous" in KB from /proc/PID/smaps_rollup (shared:
# pages also mapped by other processes, mostly shared libraries).
rss_split() {
    awk '$1 == "Rss:" {r = $2} $1 ~ /^Shared_/ {s += $2} $1 ~ /^Private_/ {p += $2}
         $1 == "Anonymous:" {a = $2} END {print r, s, p, a}' "/proc/$1/smaps_rollup" 2>/dev/null
}

# cpu_ticks PID: utime + stime in clock ticks (HZ per second).
cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null
}

# cpu_ns PID: CPU time of the process's main thread in ns (/proc/PID/schedstat).
cpu_ns() {
    awk '{print $1}' "/proc/$1/schedstat" 2>/dev/null
}

# median of the numbers given as arguments ("-" when none).
median() {
    printf '%s\n' "$@" | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {
        if (NR == 0) print "-"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'
}

# interval RATE: the -i value of RATE packets/s, fixed ("0.00001f").
interval() {
    awk -v r="$1" 'BEGIN {printf "%.9gf", 1 / r}'
}

# kv KEY LINE: value of KEY=value in a loadgen line.
kv() {
    printf '%s\n' "$2" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k {print $2}'
}

# json_loss FILE: "sent lost first_ns last_ns" of the first session in an owping/twping
# --json output (the sessions list of version 2, or a bare session object of version 1);
# empty when the run printed none.
json_loss() {
    python3 - "$1" <<'PY' 2>/dev/null
import json, sys
text = open(sys.argv[1]).read()
i = text.find("{")
if i >= 0:
    o, _ = json.JSONDecoder().raw_decode(text[i:])
    if "sessions" in o:
        o = o["sessions"][0]
    l = o["loss"]
    print(l["sent"], l["lost"], o.get("start_time_ns", 0), o.get("end_time_ns", 0))
PY
}
