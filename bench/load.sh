#!/bin/bash
# bench/load.sh - load figures for one daemon on loopback: N_IDLE control connections held idle
# after the greeting (bench/idle_conns.py) while N_SESS clients each run one session at the
# same time (twping, or owping -t). Prints the connections accepted, the sessions completed and
# failed, the packets lost, the daemon's RSS (VmRSS before, VmHWM peak, VmRSS after), its open
# fds (before, peak, after everything closed: no leak means after = before) and its CPU time.
# Exit status 0 when every session completed, the daemon survived and no fd leaked.
#
#   bench/load.sh [twamp|owamp]      (default twamp; runs as root, raises ulimit -n)
#   N_IDLE=1000 N_SESS=200 COUNT=50 INTERVAL=0.05 ROUNDS=2 bench/load.sh
#   (DAEMON_ARGS=-v adds daemon options; KEEP_TMP=1 keeps the outputs and the daemon log)
#
# The second round shows whether memory comes back or keeps growing. Bounded: about 40 s a
# round on 2 CPUs; each client is killed after 150 s, the idle connections after 170 s.
set -u
PROTO=${1:-twamp}
N_IDLE=${N_IDLE:-1000}
N_SESS=${N_SESS:-200}
COUNT=${COUNT:-50}
INTERVAL=${INTERVAL:-0.05}
ROUNDS=${ROUNDS:-2}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${OWAMP_TOOLS_BUILD:-$ROOT/build} # where make put what it built
BIN_DIR=$BUILD_DIR/bin
case $PROTO in
twamp) DAEMON=$BIN_DIR/twampd CLIENT=$BIN_DIR/twping CARGS=() ;;
owamp) DAEMON=$BIN_DIR/owampd CLIENT=$BIN_DIR/owping CARGS=(-t) ;;
*) echo "usage: $0 [twamp|owamp]" >&2; exit 2 ;;
esac
for b in "$DAEMON" "$CLIENT"; do
    [ -x "$b" ] || { echo "load: $b not built (run make)" >&2; exit 2; }
done

TMP=$(mktemp -d -t load.XXXXXX)
DPID=
HOLDER=
cleanup() {
    touch "$TMP/stop"
    [ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null
    sleep 0.2
    [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
    [ -n "${KEEP_TMP:-}" ] && echo "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Room for the idle connections, the sessions and their test sockets, in this shell and so in
# the daemon and the clients it starts.
need=$((N_IDLE + 4 * N_SESS + 256))
if [ "$(ulimit -Sn)" -lt "$need" ]; then
    ulimit -Hn "$need" 2>/dev/null
    ulimit -Sn "$need" 2>/dev/null || { echo "load: cannot raise ulimit -n to $need" >&2; exit 2; }
fi

kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
lo=$((40000 + ($$ % 10) * 2000))

mkdir -p "$TMP/conf/var"
cat >"$TMP/conf/$PROTO-server.conf" <<CONF
rootfolly
authmode O
vardir $TMP/conf/var
testports $lo-$((lo + 1999))
CONF
"$DAEMON" -Z -f -c "$TMP/conf" -R "$TMP/conf/var" -S "127.0.0.1:$port" ${DAEMON_ARGS:-} \
    >"$TMP/daemon.log" 2>&1 &
DPID=$!
for i in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
sleep 0.5
t_start=$(date +%s.%N)
rss0=$(kb $DPID VmRSS) fd0=$(fds $DPID) cpu0=$(cpu_ticks $DPID)

# Peak fds, sampled every 0.2 s.
(
    max=0
    while [ ! -e "$TMP/stop" ] && kill -0 $DPID 2>/dev/null; do
        f=$(fds $DPID)
        [ "$f" -gt "$max" ] && max=$f && echo "$max" >"$TMP/fdmax"
        sleep 0.2
    done
) &
SAMPLER=$!

# round R: idle connections and sessions at once, then everything closed; prints its figures.
round() {
    local r=$1 i accepted t0 t1 hwm rss_load rss_after fd_after done failed sent lost
    rm -f "$TMP/ready" "$TMP/idle.stop" "$TMP"/rc.* "$TMP"/c.*
    python3 "$ROOT/bench/idle_conns.py" 127.0.0.1 "$port" "$N_IDLE" --ready "$TMP/ready" \
        --stop "$TMP/idle.stop" --max 170 >"$TMP/idle.out" 2>&1 &
    HOLDER=$!
    for i in $(seq 600); do
        [ -e "$TMP/ready" ] || ! kill -0 $HOLDER 2>/dev/null && break
        sleep 0.1
    done
    accepted=$(cat "$TMP/ready" 2>/dev/null || echo "holder failed: $(tail -1 "$TMP/idle.out")")
    t0=$(date +%s.%N)
    for i in $(seq "$N_SESS"); do
        (
            timeout 150 "$CLIENT" "${CARGS[@]}" -c "$COUNT" -i "${INTERVAL}f" -L 2 -M \
                "127.0.0.1:$port" >"$TMP/c.$i" 2>&1
            echo $? >"$TMP/rc.$i"
        ) &
    done
    for i in $(seq "$N_SESS"); do
        while [ ! -e "$TMP/rc.$i" ]; do sleep 0.2; done
    done
    t1=$(date +%s.%N)
    hwm=$(kb $DPID VmHWM) rss_load=$(kb $DPID VmRSS)
    touch "$TMP/idle.stop"
    wait $HOLDER
    HOLDER=
    sleep 1.5
    rss_after=$(kb $DPID VmRSS) fd_after=$(fds $DPID)
    read -r done failed sent lost < <(
        for i in $(seq "$N_SESS"); do
            awk -v rc="$(cat "$TMP/rc.$i")" -v want="$COUNT" '
                $1 == "SENT" { s += $2; n++ } $1 == "LOST" { l += $2 }
                END { ok = rc == 0 && n == 1 && s == want; print ok, !ok, s + 0, l + 0 }' "$TMP/c.$i"
        done | awk '{ d += $1; f += $2; s += $3; l += $4 } END { print d, f, s, l }')
    FAILED=$((FAILED + failed))
    echo "round $r"
    printf '  idle connections      %s; %s\n' "$(echo "$accepted" | tr -d '\n')" \
        "$(tail -1 "$TMP/idle.out" | sed 's/^held //')"
    printf '  sessions              %d completed, %d failed (%.1f s for all)\n' "$done" "$failed" \
        "$(echo "$t1 - $t0" | bc)"
    printf '  packets               %d sent, %d lost\n' "$sent" "$lost"
    printf '  daemon RSS (kB)       peak (VmHWM) %s, under load %s, after all closed %s\n' \
        "$hwm" "$rss_load" "$rss_after"
    printf '  daemon open fds       peak %s, after all closed %s\n' \
        "$(cat "$TMP/fdmax" 2>/dev/null)" "$fd_after"
    if [ "$failed" -gt 0 ]; then
        echo "  first failures:"
        for i in $(seq "$N_SESS"); do
            [ "$(cat "$TMP/rc.$i")" != 0 ] && tail -2 "$TMP/c.$i" | sed 's/^/    /'
        done | head -8
    fi
    FD_AFTER=$fd_after
}

client_desc="$(basename "$CLIENT") ${CARGS[*]:+${CARGS[*]} }-c $COUNT -i ${INTERVAL}f"
printf 'load: %s, %d idle control connections + %d concurrent "%s", loopback, %d CPUs, %d rounds\n' \
    "$(basename "$DAEMON")" "$N_IDLE" "$N_SESS" "$client_desc" "$(nproc)" "$ROUNDS"
printf '  daemon before         RSS %s kB, %s open fds\n' "$rss0" "$fd0"
FAILED=0 FD_AFTER=
for r in $(seq "$ROUNDS"); do
    round "$r"
done
cpu1=$(cpu_ticks $DPID)
touch "$TMP/stop"
wait $SAMPLER 2>/dev/null
alive=yes
kill -0 $DPID 2>/dev/null || alive="NO (died)"
warn=$(grep -cv -e 'listening on' -e 'not synchronised' "$TMP/daemon.log")
printf 'daemon CPU %.2f s over %.1f s; alive: %s; %d log lines besides start-up\n' \
    "$(echo "($cpu1 - $cpu0) / $(getconf CLK_TCK)" | bc -l)" \
    "$(echo "$(date +%s.%N) - $t_start" | bc)" "$alive" "$warn"
if [ "$warn" -gt 0 ]; then
    grep -v -e 'listening on' -e 'not synchronised' "$TMP/daemon.log" | head -5 | sed 's/^/  /'
fi
[ "$FD_AFTER" = "$fd0" ] && [ "$FAILED" = 0 ] && [ "$alive" = yes ]
