#!/bin/bash
# 62-egress-stamp.sh - send times written at the egress (owampd/twampd --egress-stamp, the
# eBPF program of daemon/bpf/egress_stamp.c): the daemons in namespace B, the clients in A,
# joined by the netsim relay with 5 ms each way. The TUN devices have no checksum offload, so
# the UDP checksum is already computed when the program rewrites the timestamp: a packet whose
# checksum it did not mend is dropped by the receiving kernel and shows as lost. Checked: every
# reply of twping (IPv4 and IPv6) and every packet of owping -f arrives, each one with the
# egress time (the daemons' -v log counts them), in order of cause (T2 <= T3, and T4 - T3 at
# least the relay's 5 ms); authenticated sessions are left alone (their timestamp is under
# the HMAC); a packet of another socket is not touched; the filter goes with the daemon, and a
# daemon killed without cleaning up is replaced at the next start; a start that cannot attach
# fails with the reason; the light reflector's replies get the egress time while no key is
# loaded, and keep their own once a reload brings keys (authenticated STAMP replies verify);
# a daemon that dropped its privileges stamps all the same and, unable to detach at its stop,
# says so (the next start replaces the filter); through a VXLAN overlay the outer datagram,
# which the kernel still counts as the socket's, is left alone. Under RUN_WRAPPER (make check-valgrind) the
# daemons run in valgrind, and the last case reads their logs for its reports. TAP output; skips loudly when not root or without TUN/netns/tc.
# shellcheck disable=SC2119
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${OWAMP_TOOLS_BUILD:-$ROOT/build}
BIN_DIR=$BUILD_DIR/bin
DATA=$ROOT/tests/e2e/data
. "$ROOT/tests/netsim/ns.sh"

PLAN=16
if ! netsim_check; then
    netsim_skip_all "$PLAN"
    exit 0
fi
command -v tc >/dev/null || { netsim_skip_all "$PLAN" "tc not installed (package iproute2)"; exit 0; }
OWAMPD=$BIN_DIR/owampd TWAMPD=$BIN_DIR/twampd OWPING=$BIN_DIR/owping TWPING=$BIN_DIR/twping
for b in "$OWAMPD" "$TWAMPD" "$OWPING" "$TWPING"; do
    [ -x "$b" ] || { echo "1..$PLAN"; echo "Bail out! $b not built (run make)"; exit 1; }
done
TMP=$(mktemp -d -t e2e-egress.XXXXXX)
OW_PORT=8610 TW_PORT=8620
SRV_PORTS=9100-9148 CLI_PORTS=9150-9199
LIGHT_PORT=9149 # twampd --light, inside the relay's delayed range
COUNT=300
PIDFILES=()

# The daemons are started through `ip netns exec` by `sh -c 'echo $$ >FILE; exec ...'`, so
# FILE holds the daemon's own pid.
stop_daemon() { # PIDFILE [SIGNAL]
    local pid i
    pid=$(cat "$1" 2>/dev/null) || return 0
    kill -"${2:-TERM}" "$pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
}
cleanup() {
    local f
    for f in "${PIDFILES[@]:-}"; do [ -n "$f" ] && stop_daemon "$f"; done
    netsim_down
    rm -rf "$TMP"
}
trap cleanup EXIT
[ -n "${E2E_KEEP:-}" ] && trap 'cp -r "$TMP" "$E2E_KEEP"; cleanup' EXIT
trap 'exit 1' INT TERM

n=0
tap() { # DIAG NAME: ok when DIAG is empty
    n=$((n + 1))
    if [ -z "$1" ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        echo "# $1"
    fi
}

confdir() { # DIR owamp|twamp
    mkdir -p "$1/var" "$1/data"
    printf 'rootfolly\nvardir %s/var\ndatadir %s/data\n' "$1" "$1" >"$1/$2-server.conf"
    printf 'limit root with disk=0, bandwidth=0, allow_open_mode=on\nassign default root\nassign user alice root\n' \
        >"$1/$2-server.limits"
    cp "$DATA/alice.pfs" "$1/$2-server.pfs"
}

# start NAME BIN PORT [args]: the daemon in B on B's address, -v, its log in $TMP/NAME.log;
# waits until it listens and has attached its egress program (or has exited).
start() {
    local name=$1 bin=$2 port=$3 i pid
    shift 3
    : >"$TMP/$name.log"
    # shellcheck disable=SC2086 # RUN_WRAPPER (valgrind) is word-split on purpose
    netsim_b sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$TMP/$name.pid" ${RUN_WRAPPER:-} \
        "$bin" -Z -v -c "$TMP/$name" -R "$TMP/$name/var" -S ":$port" -P "$SRV_PORTS" \
        "$@" >>"$TMP/$name.log" 2>&1 &
    PIDFILES+=("$TMP/$name.pid")
    for ((i = 0; i < 300; i++)); do
        # listening, and attached (the daemon attaches after it has bound its port)
        [ -n "$(netsim_b ss -Hltn "sport = :$port" 2>/dev/null)" ] &&
            grep -q "written at the egress on" "$TMP/$name.log" && return 0
        pid=$(cat "$TMP/$name.pid" 2>/dev/null)
        [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && return 1
        sleep 0.1
    done
    return 1
}

# filters DEV KIND: how many egress filters of that daemon kind (handle 0x7477.... for
# twampd, 0x6f77.... for owampd) B's DEV has.
filters() {
    netsim_b tc filter show dev "$1" egress 2>/dev/null | grep -cE "handle $2[0-9a-f]{4} "
}

# egress_logged LOG KIND: the count of packets the last session of KIND ("reflected" or
# "sent") says were written at the egress, or "-" when none is logged within 10 s (the
# daemon logs a session as it closes it, after the client has gone).
egress_logged() {
    local i got
    for ((i = 0; i < 100; i++)); do
        got=$(sed -n "s/.* packets $2; send time written at the egress in \([0-9]*\),.*/\1/p" "$1" | tail -1)
        [ -n "$got" ] && break
        sleep 0.1
    done
    echo "${got:--}"
}

# causal FILE: T2 <= T3 and T4 - T3 >= 5 ms for every packet of twping's --json-packets
# output, and none lost; prints what is wrong, nothing when all is well.
causal() {
    "$NETSIM_PY" - "$1" "$COUNT" <<'PY'
import json, sys
pk = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
pk = [p for p in pk if "t3_ns" in p]
bad = []
if len(pk) != int(sys.argv[2]):
    bad.append("%d packets in the file" % len(pk))
for p in pk:
    if p.get("lost"):
        bad.append("seq %s lost" % p["seq"])
    elif p["t3_ns"] < p["t2_ns"]:
        bad.append("seq %s: T3 %d ns before T2" % (p["seq"], p["t2_ns"] - p["t3_ns"]))
    elif p["t4_ns"] - p["t3_ns"] < 5000000:
        bad.append("seq %s: T4 - T3 = %d ns, less than the relay's 5 ms" % (p["seq"], p["t4_ns"] - p["t3_ns"]))
print("; ".join(bad[:4]))
PY
}

echo "1..$PLAN"
netsim_up --delay 5ms --match udp:9100-9199 || { echo "Bail out! netsim did not start"; exit 1; }
confdir "$TMP/tw" twamp
confdir "$TMP/ow" owamp
TW_HANDLE=0x7477 OW_HANDLE=0x6f77

# 1: twampd attaches to every interface of B
diag=""
start tw "$TWAMPD" "$TW_PORT" --egress-stamp all || diag="twampd did not start: $(tail -2 "$TMP/tw.log")"
grep -q "written at the egress on lo, $NETSIM_DEV\|written at the egress on $NETSIM_DEV, lo" "$TMP/tw.log" ||
    diag="$diag no 'written at the egress on lo, $NETSIM_DEV' in the log;"
[ "$(filters "$NETSIM_DEV" $TW_HANDLE)" = 1 ] || diag="$diag no filter $TW_HANDLE on $NETSIM_DEV;"
[ "$(filters lo $TW_HANDLE)" = 1 ] || diag="$diag no filter $TW_HANDLE on lo;"
tap "$diag" "twampd --egress-stamp all attaches on lo and $NETSIM_DEV"

# 2, 3: twping open mode, IPv4 and IPv6: every reply arrives with the egress time
for fam in 4 6; do
    dst=$NETSIM_B4
    [ $fam = 6 ] && dst="[$NETSIM_B6]"
    out=$TMP/tw$fam.out
    netsim_a "$TWPING" -c $COUNT -i 0.002f -L 2 -P "$CLI_PORTS" --json-packets "$TMP/tw$fam.jsonl" \
        "$dst:$TW_PORT" >"$out" 2>&1
    diag=$(causal "$TMP/tw$fam.jsonl")
    got=$(egress_logged "$TMP/tw.log" reflected)
    [ "$got" = $COUNT ] || diag="$diag twampd wrote the egress time in $got replies, want $COUNT;"
    tap "$diag" "twping IPv$fam: $COUNT replies, each with its egress time, none lost, T2 <= T3, T4 - T3 >= 5 ms"
    cp "$TMP/tw.log" "$TMP/tw.log.$fam" && : >"$TMP/tw.log" # the next case reads its own
done

# light_logged LOG: the count of light replies written at the egress (logged at the stop).
light_logged() {
    sed -n 's/.*light reflector 1: [0-9]* replies; send time written at the egress in \([0-9]*\)$/\1/p' "$1" |
        tail -1 | grep . || echo -
}

# 4: authenticated: the timestamp is under the HMAC, the egress leaves it alone
diag=""
netsim_a "$TWPING" -c 50 -i 0.002f -L 2 -P "$CLI_PORTS" -A A -u alice -k "$DATA/alice.pfs" -M \
    "$NETSIM_B4:$TW_PORT" >"$TMP/twauth.out" 2>&1
grep -q '^LOST	0$' "$TMP/twauth.out" && grep -q '^SENT	50$' "$TMP/twauth.out" ||
    diag="authenticated twping: $(grep -E '^(SENT|LOST)' "$TMP/twauth.out" | tr '\n' ' ') $(tail -1 "$TMP/twauth.out");"
for ((i = 0; i < 100; i++)); do # wait for the session's log line
    grep -q "packets reflected" "$TMP/tw.log" && break
    sleep 0.1
done
grep -q "50 packets reflected; stamp-to-wire" "$TMP/tw.log" ||
    diag="$diag twampd logged: $(grep "packets reflected" "$TMP/tw.log" | tail -1);"
tap "$diag" "authenticated twping: 50 replies verified, none written at the egress"

# 5: a packet of another socket on the same interface keeps its octets
diag=$(netsim_b "$NETSIM_PY" - <<'PY'
import socket
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("127.0.0.1", 0))
r.settimeout(2)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
msg = bytes(range(1, 41))
s.sendto(msg, r.getsockname())
got = r.recv(100)
print("" if got == msg else "changed: %s" % got.hex())
PY
)
tap "$diag" "a datagram of another socket is not touched"

# 6: owampd sending (owping -f): every packet with its egress time, none lost
diag=""
start ow "$OWAMPD" "$OW_PORT" --egress-stamp "$NETSIM_DEV" || diag="owampd did not start: $(tail -2 "$TMP/ow.log")"
netsim_a "$OWPING" -f -c $COUNT -i 0.002f -L 2 -P "$CLI_PORTS" -M "$NETSIM_B4:$OW_PORT" >"$TMP/owf.out" 2>&1
grep -q "^SENT	$COUNT$" "$TMP/owf.out" && grep -q '^LOST	0$' "$TMP/owf.out" ||
    diag="owping -f: $(grep -E '^(SENT|LOST)' "$TMP/owf.out" | tr '\n' ' ') $(tail -1 "$TMP/owf.out");"
got=$(egress_logged "$TMP/ow.log" sent)
[ "$got" = $COUNT ] || diag="$diag owampd wrote the egress time in $got packets, want $COUNT;"
tap "$diag" "owping -f: $COUNT packets from owampd, each with its egress time, none lost"

# 7: owping -f's one-way delays: at least the relay's 5 ms (the egress time is not late)
diag=$(awk '$1 == "MIN" { if ($2 + 0 < 0.005) print "minimum one-way delay " $2 " s, under the relay'"'"'s 5 ms" }' "$TMP/owf.out")
grep -q '^MIN	' "$TMP/owf.out" || diag="no MIN in owping -M output"
tap "$diag" "owping -f: minimum one-way delay at least the relay's 5 ms"

# 8: a stop removes the daemon's filter, and only its own
diag=""
stop_daemon "$TMP/ow.pid"
[ "$(filters "$NETSIM_DEV" $OW_HANDLE)" = 0 ] || diag="owampd's filter still on $NETSIM_DEV;"
[ "$(filters "$NETSIM_DEV" $TW_HANDLE)" = 1 ] || diag="$diag twampd's filter went with owampd;"
tap "$diag" "owampd's stop removes its filter, twampd's stays"

# 9: a daemon killed outright leaves its filter; the next start replaces it (one, not two)
diag=""
stop_daemon "$TMP/tw.pid" KILL
[ "$(filters "$NETSIM_DEV" $TW_HANDLE)" = 1 ] || diag="no filter left by the killed twampd;"
start tw "$TWAMPD" "$TW_PORT" --egress-stamp all || diag="$diag twampd did not start again: $(tail -2 "$TMP/tw.log")"
[ "$(filters "$NETSIM_DEV" $TW_HANDLE)" = 1 ] || diag="$diag $(filters "$NETSIM_DEV" $TW_HANDLE) filters $TW_HANDLE after the restart;"
netsim_a "$TWPING" -c 50 -i 0.002f -L 2 -P "$CLI_PORTS" -M "$NETSIM_B4:$TW_PORT" >"$TMP/tw2.out" 2>&1
grep -q '^LOST	0$' "$TMP/tw2.out" || diag="$diag twping after the restart: $(grep -E '^LOST' "$TMP/tw2.out")"
stop_daemon "$TMP/tw.pid"
[ "$(filters "$NETSIM_DEV" $TW_HANDLE)" = 0 ] || diag="$diag filter left after the stop;"
tap "$diag" "after kill -9 the next start replaces the filter; its stop removes it"

# 10: a start that cannot attach fails, and says why
diag=""
confdir "$TMP/bad" twamp
netsim_b "$TWAMPD" -Z -c "$TMP/bad" -R "$TMP/bad/var" -S "$NETSIM_B4:$((TW_PORT + 1))" \
    --egress-stamp nosuch0 >"$TMP/bad.log" 2>&1 &
bpid=$!
for ((i = 0; i < 50; i++)); do kill -0 $bpid 2>/dev/null || break; sleep 0.1; done
if kill -0 $bpid 2>/dev/null; then
    diag="twampd --egress-stamp nosuch0 still runs"
    kill $bpid
fi
wait $bpid
rc=$?
[ $rc != 0 ] || diag="$diag exit status 0;"
grep -q "egressstamp nosuch0: attached nowhere (not on nosuch0: No such device)" "$TMP/bad.log" ||
    diag="$diag log: $(tail -1 "$TMP/bad.log")"
tap "$diag" "--egress-stamp on a missing interface: the start fails with the reason"

# 11: a value that names no interface is refused
diag=""
"$TWAMPD" -n -c "$TMP/bad" --egress-stamp 'eth0/1' >"$TMP/bad2.log" 2>&1 && diag="accepted"
grep -q 'invalid egressstamp "eth0/1"' "$TMP/bad2.log" || diag="$diag message: $(tail -1 "$TMP/bad2.log")"
tap "$diag" "--egress-stamp with a bad interface name is refused"

# 12: the light reflector without keys: its replies get the egress time
diag=""
mkdir -p "$TMP/li/var"
printf 'rootfolly\nvardir %s/var\n' "$TMP/li" >"$TMP/li/twamp-server.conf"
printf 'limit root with allow_open_mode=on\nassign default root\n' >"$TMP/li/twamp-server.limits"
start li "$TWAMPD" "$((TW_PORT + 2))" --light ":$LIGHT_PORT" --egress-stamp all ||
    diag="twampd --light did not start: $(tail -2 "$TMP/li.log")"
netsim_a "$TWPING" --light -c $COUNT -i 0.002f -L 2 -P "$CLI_PORTS" --json-packets "$TMP/li.jsonl" \
    "$NETSIM_B4:$LIGHT_PORT" >"$TMP/li.out" 2>&1
d=$(causal "$TMP/li.jsonl")
[ -n "$d" ] && diag="$diag $d;"
tap "$diag" "twping --light: $COUNT replies, none lost, T2 <= T3, T4 - T3 >= 5 ms"

# 13: a reload that brings a key takes the light socket off the list: authenticated STAMP
# replies keep their HMAC; the stop counts the replies of case 12 only. (The program would
# leave them anyway: octets 4-11 of an authenticated reply are MBZ, no time it would replace.)
diag=""
cp "$DATA/alice.pfs" "$TMP/li/twamp-server.pfs"
kill -HUP "$(cat "$TMP/li.pid")"
for ((i = 0; i < 30; i++)); do
    grep -q "reloaded keys and limits" "$TMP/li.log" && break
    sleep 0.1
done
# (another source port: the reflector keeps the rules of case 12's flow for 30 s)
netsim_a "$TWPING" --stamp -A A -u alice -k "$DATA/alice.pfs" -c 50 -i 0.002f -L 2 -P 9180-9199 -M \
    "$NETSIM_B4:$LIGHT_PORT" >"$TMP/listamp.out" 2>&1
grep -q '^SENT	50$' "$TMP/listamp.out" && grep -q '^LOST	0$' "$TMP/listamp.out" ||
    diag="authenticated STAMP: $(grep -E '^(SENT|LOST)' "$TMP/listamp.out" | tr '\n' ' ') $(tail -1 "$TMP/listamp.out");"
stop_daemon "$TMP/li.pid"
got=$(light_logged "$TMP/li.log")
[ "$got" = $COUNT ] || diag="$diag light replies written at the egress: $got, want $COUNT (case 12's);"
tap "$diag" "after a reload with a key, authenticated STAMP replies verify; only the open ones had the egress time"

# 14: started as root with -U nobody: the sockets are listed without privileges; the stop
# cannot detach and says so; the next start replaces the filter and its stop removes it
diag=""
mkdir -p "$TMP/nb/var"
chmod 755 "$TMP" "$TMP/nb" "$TMP/nb/var"
printf 'vardir %s/var\n' "$TMP/nb" >"$TMP/nb/twamp-server.conf"
printf 'limit root with allow_open_mode=on\nassign default root\n' >"$TMP/nb/twamp-server.limits"
start nb "$TWAMPD" "$((TW_PORT + 3))" -U nobody --egress-stamp all ||
    diag="twampd -U nobody did not start: $(tail -2 "$TMP/nb.log")"
netsim_a "$TWPING" -c 50 -i 0.002f -L 2 -P "$CLI_PORTS" -M "$NETSIM_B4:$((TW_PORT + 3))" >"$TMP/nb.out" 2>&1
grep -q '^LOST	0$' "$TMP/nb.out" || diag="$diag twping: $(grep -E '^LOST' "$TMP/nb.out") $(tail -1 "$TMP/nb.out");"
got=$(egress_logged "$TMP/nb.log" reflected)
[ "$got" = 50 ] || diag="$diag written at the egress in $got replies, want 50;"
stop_daemon "$TMP/nb.pid"
grep -q "egress filter left on .*$NETSIM_DEV (Operation not permitted).*tc filter del dev IF egress pref 65520 handle 0x7477[0-9a-f]* bpf removes it" \
    "$TMP/nb.log" || diag="$diag no 'egress filter left' message: $(tail -1 "$TMP/nb.log");"
[ "$(filters "$NETSIM_DEV" $TW_HANDLE)" = 1 ] || diag="$diag $(filters "$NETSIM_DEV" $TW_HANDLE) filters left, want 1;"
start nb "$TWAMPD" "$((TW_PORT + 3))" -f --egress-stamp all || diag="$diag no second start;"
[ "$(filters "$NETSIM_DEV" $TW_HANDLE)" = 1 ] || diag="$diag $(filters "$NETSIM_DEV" $TW_HANDLE) filters after the restart, want 1;"
stop_daemon "$TMP/nb.pid"
[ "$(filters "$NETSIM_DEV" $TW_HANDLE)" = 0 ] || diag="$diag filter left by the root daemon;"
tap "$diag" "twampd -U nobody: stamps without privileges, says the filter stays; the next start replaces it"

# 16: through a VXLAN overlay on the relay's link (198.51.100.0/24, VNI 42): the reply is
# stamped as it leaves vx0, and its outer datagram, still owned by the socket when it leaves
# nsim0, is not touched (another UDP source port): every reply arrives, each written once
diag=""
netsim_a ip link add vx0 type vxlan id 42 remote "$NETSIM_B4" local "$NETSIM_A4" dstport 4789 &&
    netsim_b ip link add vx0 type vxlan id 42 remote "$NETSIM_A4" local "$NETSIM_B4" dstport 4789 &&
    netsim_a ip addr add 198.51.100.1/24 dev vx0 && netsim_b ip addr add 198.51.100.2/24 dev vx0 &&
    netsim_a ip link set vx0 up && netsim_b ip link set vx0 up || diag="no VXLAN link;"
mkdir -p "$TMP/vx/var"
printf 'rootfolly\nvardir %s/var\n' "$TMP/vx" >"$TMP/vx/twamp-server.conf"
printf 'limit root with allow_open_mode=on\nassign default root\n' >"$TMP/vx/twamp-server.limits"
start vx "$TWAMPD" "$((TW_PORT + 4))" --egress-stamp all || diag="$diag twampd did not start: $(tail -2 "$TMP/vx.log");"
grep -q "written at the egress on .*vx0" "$TMP/vx.log" || diag="$diag not attached to vx0;"
netsim_a "$TWPING" -c 100 -i 0.002f -L 2 -P "$CLI_PORTS" -M "198.51.100.2:$((TW_PORT + 4))" >"$TMP/vx.out" 2>&1
grep -q '^SENT	100$' "$TMP/vx.out" && grep -q '^LOST	0$' "$TMP/vx.out" ||
    diag="$diag twping: $(grep -E '^(SENT|LOST)' "$TMP/vx.out" | tr '\n' ' ') $(tail -1 "$TMP/vx.out");"
got=$(egress_logged "$TMP/vx.log" reflected)
[ "$got" = 100 ] || diag="$diag written at the egress in $got replies, want 100;"
grep -q "not written" "$TMP/vx.log" && diag="$diag $(grep -o '[0-9]* not written[^)]*' "$TMP/vx.log");"
stop_daemon "$TMP/vx.pid"
tap "$diag" "through a VXLAN overlay: 100 replies stamped once at vx0, the outer datagrams left alone"

# 15: the daemons' logs hold no report of valgrind (make check-valgrind sets RUN_WRAPPER) or
# of the sanitizers (make check-sanitize builds them in)
if [ -n "${RUN_WRAPPER:-}" ]; then
    # errors, not valgrind's warnings (an ioctl it does not know, say)
    diag=$(grep -lE '^==[0-9]+== (Invalid|Conditional jump|Use of uninitialised|Syscall param|Mismatched|Source and destination|.* definitely lost)' \
        "$TMP"/*.log "$TMP"/tw.log.* 2>/dev/null | tr '\n' ' ')
    tap "${diag:+reports in $diag}" "no valgrind report in the daemons' logs"
elif grep -q "__asan_init" "$TWAMPD" 2>/dev/null; then # built with -fsanitize=address
    diag=$(grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP"/*.log "$TMP"/tw.log.* 2>/dev/null |
        tr '\n' ' ')
    tap "${diag:+reports in $diag}" "no sanitizer report in the daemons' logs"
else
    n=$((n + 1))
    echo "ok $n - no valgrind or sanitizer report in the daemons' logs # SKIP neither in use"
fi
