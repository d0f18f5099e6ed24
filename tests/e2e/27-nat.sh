#!/bin/bash
# 27-nat.sh - clients behind a NAT, in three network namespaces of their own: the clients
# (192.0.2.2, a private side), a router that masquerades them behind 198.51.100.2 and rewrites
# the source port of every UDP flow into 40000-40999, and the daemons (198.51.100.1). The
# router also forwards 203.0.113.1 to the daemons (a port forward: the clients know them by
# an address they do not have). A client that names its own private address in a request is
# a third party to the daemons and is refused; with zero addresses (twping -Z, owping
# --zero-addresses, RFC 4656/5357 section 3.5) the daemons use the control connection's
# addresses and twampd answers each test packet where it came from (the rewritten port).
# The daemons' own address field (the forwarded address) is no reason to refuse. TAP output;
# skips loudly when not root or without nft.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/e2e/lib/ping.sh"
PLAN=6
NS_S=nat_s_$$
NS_R=nat_r_$$
NS_C=nat_c_$$
SRV=198.51.100.1
PUB=198.51.100.2
CLI=192.0.2.2
GW=192.0.2.1
FWD=203.0.113.1

skip_all() {
    echo "1..$PLAN"
    echo "# SKIP $1"
    for ((i = 1; i <= PLAN; i++)); do echo "ok $i - NAT # SKIP $1"; done
    exit 0
}
[ "$(id -u)" = 0 ] || skip_all "not root"
command -v nft >/dev/null || skip_all "nft not installed (package nftables)"
ip netns list >/dev/null 2>&1 || skip_all "'ip netns' unavailable"

# The daemons run under "ip netns exec" started from a shell function: the PIDs the cleanup
# kills are those of subshells, so whatever still runs in a namespace is stopped by its pid
# (ip netns pids) before the namespace goes.
down() {
    local ns p
    for ns in "$NS_S" "$NS_R" "$NS_C"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
    done
    sleep 0.2
    for ns in "$NS_S" "$NS_R" "$NS_C"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
}
trap 'cleanup; down' EXIT
S() { ip netns exec "$NS_S" "$@"; }
R() { ip netns exec "$NS_R" "$@"; }
C() { ip netns exec "$NS_C" "$@"; }
ip netns add "$NS_S" && ip netns add "$NS_R" && ip netns add "$NS_C" &&
    ip link add nat0 netns "$NS_C" type veth peer name lan0 netns "$NS_R" &&
    ip link add nat0 netns "$NS_S" type veth peer name wan0 netns "$NS_R" &&
    ip -n "$NS_C" addr add "$CLI/24" dev nat0 && ip -n "$NS_R" addr add "$GW/24" dev lan0 &&
    ip -n "$NS_R" addr add "$PUB/24" dev wan0 && ip -n "$NS_S" addr add "$SRV/24" dev nat0 &&
    for ns in "$NS_S" "$NS_R" "$NS_C"; do ip -n "$ns" link set lo up; done &&
    ip -n "$NS_C" link set nat0 up && ip -n "$NS_S" link set nat0 up &&
    ip -n "$NS_R" link set lan0 up && ip -n "$NS_R" link set wan0 up &&
    ip -n "$NS_C" route add default via "$GW" &&
    R sysctl -qw net.ipv4.ip_forward=1 || skip_all "cannot create the namespaces"
R nft -f - <<NFT || skip_all "nft cannot load the NAT rules"
table ip nat {
    chain pre {
        type nat hook prerouting priority -100; policy accept;
        ip daddr $FWD counter dnat to $SRV
    }
    chain post {
        type nat hook postrouting priority 100; policy accept;
        oifname "wan0" meta l4proto udp counter snat to $PUB:40000-40999
        oifname "wan0" counter snat to $PUB
    }
}
NFT
echo "1..$PLAN"

confdir "$TMP/ow" owamp O
confdir "$TMP/tw" twamp O
S "$OWAMPD" -Z -f -c "$TMP/ow" -R "$TMP/ow/var" -S "$SRV:8610" >"$TMP/owampd.log" 2>&1 &
PIDS+=($!)
S "$TWAMPD" -Z -f -c "$TMP/tw" -R "$TMP/tw/var" -S "$SRV:8620" >"$TMP/twampd.log" 2>&1 &
PIDS+=($!)
for i in $(seq 50); do
    C python3 -c "import socket
for p in (8610, 8620): socket.create_connection(('$SRV', p), 0.2).close()" 2>/dev/null && break
    sleep 0.1
done
FAST=(-c 50 -i 0.01f -L 1 -P 9000-9099 -M)
# rewritten CHAIN: flows the router's nft CHAIN (pre: forward, post: masquerade) rewrote.
rewritten() { R nft list chain ip nat "$1" | grep -oE 'counter packets [0-9]+' | awk '{s += $3} END {print s + 0}'; }

C "$TWPING" "${FAST[@]}" "$SRV:8620" >"$TMP/tw.out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "Accept=" "$TMP/tw.out" && grep -q "third party" "$TMP/twampd.log"
tap $? "twping behind the NAT naming its private address: a third party, refused (exit $rc)" "$TMP/tw.out"
before=$(rewritten post)
C "$TWPING" "${FAST[@]}" -Z "$SRV:8620" >"$TMP/twz.out" 2>&1 && lost_is "$TMP/twz.out" 0 &&
    [ "$(rewritten post)" -gt "$before" ]
tap $? "twping -Z behind the NAT: answered at the rewritten address and port, none lost" "$TMP/twz.out"
C "$OWPING" "${FAST[@]}" -t --zero-addresses "$SRV:8610" >"$TMP/ow.out" 2>&1 &&
    lost_is "$TMP/ow.out" 0
tap $? "owping -t --zero-addresses behind the NAT: none lost" "$TMP/ow.out"
before=$(rewritten pre)
C "$TWPING" "${FAST[@]}" -Z "$FWD:8620" >"$TMP/fwd.out" 2>&1 && lost_is "$TMP/fwd.out" 0 &&
    [ "$(rewritten pre)" -gt "$before" ]
tap $? "twping -Z to a forwarded address the daemon does not have: accepted, none lost" "$TMP/fwd.out"
C "$OWPING" "${FAST[@]}" -t --zero-addresses "$FWD:8610" >"$TMP/owfwd.out" 2>&1 &&
    lost_is "$TMP/owfwd.out" 0
tap $? "owping -t --zero-addresses to the forwarded address: accepted, none lost" "$TMP/owfwd.out"
kill -0 "${PIDS[0]}" && kill -0 "${PIDS[1]}"
tap $? "owampd and twampd still running"
