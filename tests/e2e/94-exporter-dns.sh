#!/bin/bash
# 94-exporter-dns.sh - ippm_exporter with a DNS server that never answers: in a network
# namespace of its own (loopback only) whose resolv.conf names a silent server on 127.0.0.1
# (a Python socket that counts the queries and drops them) and whose hosts file names the
# reflector. Targets: twampd --light by address, by a name from the hosts file, and by a
# name only the silent server could answer. While its lookups hang, every scrape is answered
# at once and the other targets go on measuring; the name then fails with its reason; a
# stop during a hanging lookup is prompt. Everything started in the namespace is stopped by
# its own pid, and whatever is left there goes with the namespace. TAP output.
. "$(dirname "${BASH_SOURCE[0]}")/lib/ping.sh"
. "$(dirname "${BASH_SOURCE[0]}")/lib/exporter.sh"

N=6
skip_all() {
    echo "1..$N"
    for i in $(seq $N); do echo "ok $i # SKIP $1"; done
    exit 0
}
[ "$(id -u)" = 0 ] || skip_all "not root (a network namespace with its own resolv.conf)"
ip netns list >/dev/null 2>&1 || skip_all "'ip netns' unavailable"
command -v curl >/dev/null || skip_all "curl not installed (Debian: curl)"

NS=ippm_dns_$$
NSETC=/etc/netns/$NS
ns_down() { # whatever still runs in the namespace goes with it
    local sig
    for sig in TERM KILL; do
        ip netns pids "$NS" 2>/dev/null | xargs -r kill -s $sig 2>/dev/null
        sleep 0.2
    done
    ip netns del "$NS" 2>/dev/null
    rm -rf "$NSETC"
}
trap 'cleanup; ns_down' EXIT
in_ns() { ip netns exec "$NS" "$@"; }
# ns_bg PIDFILE CMD...: CMD in the namespace, in the background, its own pid into PIDFILE
# (ip netns exec forks: $! would be ip's); ns_pid PIDFILE waits for it (5 s at most).
ns_bg() {
    local f=$1
    shift
    in_ns sh -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$f" "$@" &
}
ns_pid() {
    local i
    for i in $(seq 50); do
        [ -s "$1" ] && { cat "$1"; return 0; }
        sleep 0.1
    done
    return 1
}
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

mkdir -p "$NSETC" || skip_all "cannot write $NSETC"
ip netns add "$NS" || skip_all "cannot create a network namespace"
in_ns ip link set lo up
printf 'nameserver 127.0.0.1\noptions timeout:3 attempts:2\n' >"$NSETC/resolv.conf"
printf '127.0.0.1 localhost\n127.0.0.1 reflector.example\n' >"$NSETC/hosts"
echo "1..$N"

# the silent DNS server: counts what it is asked, answers nothing (bounded: 120 s)
QUERIES=$TMP/queries
cat >"$TMP/silent_dns.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
s.settimeout(1)
n, end = 0, time.monotonic() + 120
while time.monotonic() < end:
    try:
        s.recvfrom(512)
    except socket.timeout:
        continue
    n += 1
    with open(sys.argv[1], "w") as f:
        f.write(f"{n}\n")
PY
ns_bg "$TMP/dns.pid" python3 "$TMP/silent_dns.py" "$QUERIES" 2>/dev/null
PIDS+=("$(ns_pid "$TMP/dns.pid")")

PL=8620
PE=9420
confdir "$TMP/tw" twamp O
ns_bg "$TMP/tw.pid" "$TWAMPD" -Z -f -c "$TMP/tw" -R "$TMP/tw/var" -S 127.0.0.1:8621 \
    --light "127.0.0.1:$PL" >"$TMP/tw.log" 2>&1
PIDS+=("$(ns_pid "$TMP/tw.pid")")

CFG=$TMP/exporter.yml
cat >"$CFG" <<YML
modules:
  light: {protocol: twamp-light, count: 5, interval: 0.01}
targets:
  - {target: "127.0.0.1:$PL", module: light, every: 1s}
  - {target: "reflector.example:$PL", module: light, every: 1s}
  - {target: "silent.example:$PL", module: light, every: 1s}
YML
URL=http://127.0.0.1:$PE
ns_bg "$TMP/exporter.pid" "$EXPORTER" --config.file "$CFG" --web.listen-address "127.0.0.1:$PE" \
    >"$TMP/exporter.log" 2>&1
EXPORTER_PID=$(ns_pid "$TMP/exporter.pid")
PIDS+=("$EXPORTER_PID")
M=$TMP/metrics.txt
scrape() { in_ns curl -sf -m 20 -o "$M" -w '%{time_total}\n' "$URL/metrics"; }
wait_for 10 scrape >/dev/null || { echo "# the exporter did not answer"; tail -3 "$TMP/exporter.log"; }

successes() { # TARGET: its successful sessions so far
    sample "$M" "ippm_sessions_total{target=\"$1\",module=\"light\",result=\"success\"}"
}
measured() { scrape >/dev/null && [ "$(successes "127.0.0.1:$PL")" -ge 1 ] 2>/dev/null; }
wait_for 10 measured
first=$(successes "127.0.0.1:$PL")

# 8 s of scrapes while the lookups of silent.example hang (6 s each)
times=$TMP/times
: >"$times"
for i in $(seq 32); do
    scrape >>"$times" || echo 99 >>"$times"
    sleep 0.25
done
worst=$(sort -g "$times" | tail -1)
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 1.0 else 1)' "$worst"
tap $? "a silent DNS server: each of 32 scrapes answered within 1 s (slowest $worst s)" "$times"

last=$(successes "127.0.0.1:$PL")
[ "${first:-0}" -ge 1 ] && [ $((${last:-0} - ${first:-0})) -ge 5 ]
tap $? "the target by address goes on measuring meanwhile (${first:-?} -> ${last:-?} sessions)" "$M"

named=$(successes "reflector.example:$PL")
[ "${named:-0}" -ge 5 ] && ! grep -q 'target="reflector.example.*result="failure"} [1-9]' "$M"
tap $? "a name from the hosts file is resolved off the loop and measured (${named:-0} sessions)" "$M"

failed() {
    scrape >/dev/null &&
        grep -q "^ippm_sessions_total{target=\"silent.example:$PL\",module=\"light\",result=\"failure\"} [1-9]" "$M"
}
wait_for 20 failed && grep -q "cannot resolve silent.example" "$TMP/exporter.log" &&
    [ "$(cat "$QUERIES" 2>/dev/null || echo 0)" -ge 1 ]
tap $? "the unanswered name fails with its reason ($(cat "$QUERIES" 2>/dev/null || echo 0) queries seen)" \
    "$TMP/exporter.log"

# the next lookup of the silent name has reached the server (its query counted): a stop waits
# for it 1 s at most (the resolver's grace to let go of the request's memory), not 6
queries() { cat "$QUERIES" 2>/dev/null || echo 0; }
q0=$(queries)
asked() { [ "$(queries)" -gt "$q0" ]; }
wait_for 10 asked
t0=$(date +%s%N)
kill -TERM "$EXPORTER_PID"
stopped() { ! alive "$EXPORTER_PID"; }
wait_for 10 stopped
ms=$((($(date +%s%N) - t0) / 1000000))
[ -n "$EXPORTER_PID" ] && stopped && [ "$ms" -lt 3000 ] && grep -q "stopping (signal 15)" "$TMP/exporter.log"
tap $? "SIGTERM during a hanging lookup: the exporter stopped in $ms ms (< 3000)" "$TMP/exporter.log"

! grep -qiE "sanitizer|runtime error|leak" "$TMP/exporter.log"
tap $? "no sanitizer report in the exporter's log" "$TMP/exporter.log"
