#!/bin/bash
# accuracy.sh - how accurate our measurements are on a path of known delay: owampd and twampd
# in network namespace B, owping and twping in A, joined by the netsim relay (tests/netsim)
# with DELAY each way. Prints, in us: the one-way error (measured - configured delay) per
# direction, the reflector turnaround T3 - T2, the sender's lateness at 1,000 and 10,000
# pkt/s, the timestamp sources, and the relay's own lateness next to them. With dumpcap, the
# 1,000 pkt/s runs are also captured on both TUNs, which splits each packet's error into
# sender, relay and receiver parts. Figures, never pass/fail; the targets are printed beside.
#
# Loads: "idle" (whatever else the machine runs), "2 hogs" (two busy loops at the same nice
# level as the tools), and "2 hogs, rt" (the same, with twping/owping --rt and the daemons
# and the relay under SCHED_FIFO 10 via chrt; ACCURACY_RT=0 skips it).
# Needs root, /dev/net/tun and ip netns (skips with a message otherwise). Only the two
# namespaces of tests/netsim/ns.sh (documentation prefixes) are used; they are removed on exit.
#
# The send lateness is measured apart, with the client in B sending to the daemon's address
# over loopback: the relay busy-waits before each release and so takes a good part of a core
# at 10,000 pkt/s, which the sender would otherwise have to share.
#
# The daemons run with -v: when a session ends they log how close to the wire the timestamps
# they wrote were (owampd sending, twampd reflecting: each against the kernel TX timestamp of
# its packet), and those lines go into the results too.
#
# Environment: ACCURACY_COUNT (5000 packets at 1,000 pkt/s through the relay),
# ACCURACY_LATE_COUNT (2000 at 1,000 pkt/s) and ACCURACY_FAST_COUNT (20000 at 10,000 pkt/s)
# for the lateness runs, ACCURACY_DELAY (5ms), ACCURACY_RT (1), ACCURACY_CAPTURE (1 when
# dumpcap is installed), ACCURACY_EGRESS (1: the daemons write their send times at the
# egress, --egress-stamp all; 0: before the send system call), ACCURACY_KEEP=DIR keeps the
# raw outputs.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/netsim/ns.sh"
COUNT=${ACCURACY_COUNT:-5000}
LATE_COUNT=${ACCURACY_LATE_COUNT:-2000}
FAST_COUNT=${ACCURACY_FAST_COUNT:-20000}
DELAY=${ACCURACY_DELAY:-5ms}
USE_RT=${ACCURACY_RT:-1}
CAPTURE=${ACCURACY_CAPTURE:-1}
EGRESS=()
[ "${ACCURACY_EGRESS:-1}" = 1 ] && EGRESS=(--egress-stamp all)
STATS=$ROOT/bench/accuracy_stats.py
OW_PORT=8610 TW_PORT=8620  # control ports in B (TCP)
SRV_PORTS=9100-9149        # the daemons' test ports
CLI_PORTS=9150-9199        # the clients' test ports
HOGS=() CAPS=() DPIDS=()

bench_header "accuracy: owping/twping through netsim, $DELAY each way, 1,000 and 10,000 pkt/s"
[ -x "$NETSIM_BIN" ] || make -s -C "$ROOT" bench-build >/dev/null 2>&1
[ -x "$BIN/accuracy_wake" ] || make -s -C "$ROOT" bench-build >/dev/null 2>&1
if ! netsim_check; then
    echo "# skipped: $NETSIM_SKIP (needs root, /dev/net/tun, ip netns and tests/netsim/netsim)"
    exit 0
fi
for b in "$OWAMPD" "$TWAMPD" "$OWPING" "$TWPING"; do
    [ -x "$b" ] || { echo "# skipped: $b not built (make)"; exit 0; }
done
# Private copies: a rebuild of the shared tree during the run must not pull them away.
mkdir -p "$TMP/bin"
cp "$OWAMPD" "$TWAMPD" "$OWPING" "$TWPING" "$NETSIM_BIN" "$TMP/bin/" || exit 0
[ -x "$BIN/accuracy_wake" ] && cp "$BIN/accuracy_wake" "$TMP/bin/"
OWAMPD=$TMP/bin/owampd TWAMPD=$TMP/bin/twampd OWPING=$TMP/bin/owping TWPING=$TMP/bin/twping
NETSIM_BIN=$TMP/bin/netsim WAKE=$TMP/bin/accuracy_wake
command -v dumpcap >/dev/null || CAPTURE=0
DELAY_NS=$(awk -v d="$DELAY" 'BEGIN { v = d + 0; u = substr(d, length(v "") + 1)
    m = (u == "us") ? 1e3 : (u == "ns") ? 1 : (u == "s") ? 1e9 : 1e6; printf "%d", v * m }')

# stop_pids PID...: SIGTERM, SIGKILL to those still alive after 3 s.
stop_pids() {
    local p i alive
    for p in "$@"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null; done
    for ((i = 0; i < 30; i++)); do
        alive=0
        for p in "$@"; do [ -n "$p" ] && kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive = 1 ] || break
        sleep 0.1
    done
    for p in "$@"; do
        [ -n "$p" ] || continue
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    return 0
}

acc_cleanup() {
    stop_pids "${HOGS[@]:-}" "${CAPS[@]:-}" "${DPIDS[@]:-}"
    if [ -n "${ACCURACY_KEEP:-}" ]; then
        mkdir -p "$ACCURACY_KEEP" && cp -r "$TMP"/. "$ACCURACY_KEEP"/
        [ -n "$NETSIM_TMP" ] && cp "$NETSIM_LOG" "$ACCURACY_KEEP"/
    fi
    netsim_down
    bench_cleanup
}
trap acc_cleanup EXIT

# ---- daemons in B ----
netsim_up --delay "$DELAY" || { echo "# netsim did not start"; exit 0; }
CONF=$TMP/conf
for k in owamp twamp; do
    mkdir -p "$CONF/$k"
    printf 'vardir %s\ndatadir %s\n' "$CONF/$k" "$CONF/$k" >"$CONF/$k/$k-server.conf"
    printf 'limit root with disk=0, bandwidth=0, allow_open_mode=on\nassign default root\n' \
        >"$CONF/$k/$k-server.limits"
done
# ip netns exec runs the daemon in place, so $! is the daemon itself.
ip netns exec "$NETSIM_NS_B" "$OWAMPD" -Z -f -v -c "$CONF/owamp" -R "$CONF/owamp" \
    -S "$NETSIM_B4:$OW_PORT" -P "$SRV_PORTS" "${EGRESS[@]}" >"$TMP/owampd.log" 2>&1 &
DPIDS+=($!)
ip netns exec "$NETSIM_NS_B" "$TWAMPD" -Z -f -v -c "$CONF/twamp" -R "$CONF/twamp" \
    -S "$NETSIM_B4:$TW_PORT" -P "$SRV_PORTS" "${EGRESS[@]}" >"$TMP/twampd.log" 2>&1 &
DPIDS+=($!)
for port in $OW_PORT $TW_PORT; do
    for ((i = 0; i < 100; i++)); do
        [ -n "$(ip netns exec "$NETSIM_NS_B" ss -Hltn "sport = :$port" 2>/dev/null)" ] && break
        sleep 0.1
    done
done

# ---- one run ----
RT_ARG=()

# cap_start NS FILE: dumpcap on that namespace's TUN (test ports only); pid into CAPS.
cap_start() {
    local i
    ip netns exec "$1" dumpcap -q -B 16 -i "$NETSIM_DEV" -f "udp portrange 9100-9199" \
        -w "$2" >>"$TMP/dumpcap.log" 2>&1 &
    CAPS+=($!)
    for ((i = 0; i < 50; i++)); do
        [ -s "$2" ] && return 0
        sleep 0.1
    done
}

# run LOAD PATH KIND RATE COUNT CLIENT_ARGS...: one session, its result object appended to
# $TMP/results.jsonl. PATH netsim: client in A, through a fresh relay (captured at 1,000
# pkt/s); PATH loopback: client in B, to the daemon's address there, without the relay.
run() {
    local load=$1 path=$2 kind=$3 rate=$4 count=$5 name cli port ns=$NETSIM_NS_B
    local log=/dev/null caps=() dlog=$TMP/owampd.log dlines
    shift 5
    name=$TMP/${kind}_${rate}_${path}_${load// /_}
    name=${name//,/}
    cli=$OWPING port=$OW_PORT
    [ "$kind" = twamp ] && cli=$TWPING port=$TW_PORT dlog=$TMP/twampd.log
    dlines=$(wc -l <"$dlog")
    if [ "$path" = netsim ]; then
        ns=$NETSIM_NS_A log=$NETSIM_LOG
        netsim_restart --delay "$DELAY" --match udp:9100-9199 || return 0
        [ ${#RT_ARG[@]} -gt 0 ] && chrt -f -p 10 "$NETSIM_PID" >/dev/null
        if [ "$CAPTURE" = 1 ] && [ "$rate" = 1000 ]; then
            cap_start "$NETSIM_NS_A" "$name.a.pcapng"
            cap_start "$NETSIM_NS_B" "$name.b.pcapng"
            caps=("$name.a.pcapng" "$name.b.pcapng")
        fi
    fi
    ip netns exec "$ns" timeout 120 "$cli" -c "$count" -i "$(interval "$rate")" -L 1 \
        -P "$CLI_PORTS" "${RT_ARG[@]}" --json --json-packets "$name.jsonl" "$@" \
        "$NETSIM_B4:$port" >"$name.json" 2>"$name.err"
    if [ ${#caps[@]} -gt 0 ]; then
        # a sender that is not ours, through the same capture: the kernel's own capture-to-
        # driver time (bench/tap_gap.py; ports as accuracy_stats.py's PROBE_PORTS)
        ip netns exec "$NETSIM_NS_A" "$NETSIM_PY" "$ROOT/bench/tap_gap.py" 9198 "$NETSIM_B4" 9199 \
            500 "$name.probe.json" 2>>"$name.err" && caps+=("$name.probe.json")
        sleep 1 # dumpcap hands its ring over in blocks: the last ones before it is stopped
    fi
    stop_pids "${CAPS[@]:-}"
    CAPS=()
    netsim_stop
    sleep 0.2 # the daemon logs the session once it has seen the connection close
    tail -n +"$((dlines + 1))" "$dlog" >"$name.dlog"
    "$NETSIM_PY" "$STATS" session "$load" "$path" "$kind" "$rate" "$DELAY_NS" "$name.json" \
        "$name.jsonl" "$log" "$name.dlog" "${caps[@]}" >>"$TMP/results.jsonl" ||
        echo "# $kind $rate pkt/s $path ($load): no result; $(tail -2 "$name.err" | tr '\n' ' ')"
}

# wake LOAD: the machine's wake-up lateness (bench/accuracy_wake, 5,000 deadlines 100 us
# apart, both ways the tools sleep) as a result object.
wake() {
    local m out=() chrt_arg=()
    [ ${#RT_ARG[@]} -gt 0 ] && chrt_arg=(chrt -f 10)
    [ -x "$WAKE" ] || return 0
    for m in sleep timerfd; do
        out+=("$("${chrt_arg[@]}" "$WAKE" "$m" 100000 5000 | tr ' ' ',')")
    done
    echo "{\"load\":\"$1\",\"path\":\"-\",\"kind\":\"wake\",\"rate\":10000,\"sessions\":[]," \
        "\"wake\":{\"sleep\":[${out[0]}],\"timerfd\":[${out[1]}]}}" >>"$TMP/results.jsonl"
}

# measure LOAD: the runs of one load.
measure() {
    echo "# $1: load average $(cut -d' ' -f1-3 /proc/loadavg)," \
        "cpu pressure $(head -1 /proc/pressure/cpu 2>/dev/null | cut -d' ' -f2-3)"
    wake "$1"
    run "$1" netsim owamp 1000 "$COUNT"
    run "$1" netsim twamp 1000 "$COUNT"
    run "$1" loopback owamp 1000 "$LATE_COUNT" -t
    run "$1" loopback twamp 1000 "$LATE_COUNT"
    run "$1" loopback owamp 10000 "$FAST_COUNT" -t
    run "$1" loopback twamp 10000 "$FAST_COUNT"
}

# hogs_start: two busy loops (unpinned, the script's nice level).
hogs_start() {
    local i
    for i in 1 2; do
        sh -c 'while :; do :; done' &
        HOGS+=($!)
    done
}

# daemons_sched -f|-o PRIORITY: that scheduling policy for every thread of both daemons.
daemons_sched() {
    local p
    for p in "${DPIDS[@]}"; do chrt -a "$1" -p "$2" "$p" >/dev/null 2>&1; done
}

measure idle
hogs_start
measure "2 hogs"
if [ "$USE_RT" = 1 ]; then
    RT_ARG=(--rt)
    daemons_sched -f 10
    measure "2 hogs, rt"
    daemons_sched -o 0
    RT_ARG=()
fi
stop_pids "${HOGS[@]}"
HOGS=()

echo
echo "client options: through the relay -c $COUNT -i 0.001f; over loopback -c $LATE_COUNT" \
    "-i 0.001f or -c $FAST_COUNT -i 0.0001f (owping -t); always -L 1 -P $CLI_PORTS --json" \
    "--json-packets FILE$([ "$USE_RT" = 1 ] && echo ' (and --rt under "2 hogs, rt")'); relay:" \
    "netsim --delay $DELAY --match udp:9100-9199; captures: $([ "$CAPTURE" = 1 ] &&
        echo "dumpcap on both TUNs during the 1,000 pkt/s runs" || echo none)"
echo
"$NETSIM_PY" "$STATS" tables "$TMP/results.jsonl"
