#!/bin/bash
# owampd enforces its limits file: the disk limit (octets of stored records), test sessions
# per connection and bandwidth, each refusal answered with Accept 4 and logged once.
. "$(dirname "$0")/lib/ping.sh"
echo "1..8"
confdir "$TMP/ow" owamp AEO
cat >"$TMP/ow/owamp-server.limits" <<'LIM'
limit root with allow_open_mode=on
limit small with parent=root, disk=1000, test_sessions=1, bandwidth=100k
assign default small
LIM
printf 'maxsessionduration 1\nmaxcontrolsessionsperaddr 1\n' >>"$TMP/ow/owamp-server.conf"
port=$(free_port tcp 4)
start_daemon "$OWAMPD" "$TMP/ow" 127.0.0.1 "$port" "$TMP/owampd.log"

# 20 records of 25 octets fit in 1000; one session only, so one direction
"$OWPING" -t -M -c 20 -i 0.01f -L 0.5 "127.0.0.1:$port" >"$TMP/ok.out" 2>&1 && summaries_ok "$TMP/ok.out" 20 1
tap $? "within the limits: 20 packets toward the server" "$TMP/ok.out"

count() { grep -c "$1" "$TMP/owampd.log"; }
before=$(count "disk limit")
"$OWPING" -t -c 100 -i 0.01f -L 0.5 "127.0.0.1:$port" >"$TMP/disk.out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "Accept=4" "$TMP/disk.out" && [ "$(count "disk limit")" -eq $((before + 1)) ]
tap $? "100 records (3200 octets) above disk=1000: refused, logged once (exit $rc)" "$TMP/disk.out"

before=$(count "too many test sessions")
"$OWPING" -c 10 -i 0.01f -L 0.5 "127.0.0.1:$port" >"$TMP/sess.out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "Accept=4" "$TMP/sess.out" && [ "$(count "too many test sessions")" -eq $((before + 1)) ]
tap $? "two sessions with test_sessions=1: the second refused, logged once (exit $rc)" "$TMP/sess.out"

before=$(count "bandwidth above")
"$OWPING" -t -c 10 -i 0.0001f -L 0.5 "127.0.0.1:$port" >"$TMP/bw.out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "Accept=4" "$TMP/bw.out" && [ "$(count "bandwidth above")" -eq $((before + 1)) ]
tap $? "10 kpps above bandwidth=100k: refused, logged once (exit $rc)" "$TMP/bw.out"

before=$(count "maxsessionduration")
"$OWPING" -t -c 200 -i 0.01f -L 0.5 "127.0.0.1:$port" >"$TMP/dur.out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "Accept=4" "$TMP/dur.out" && [ "$(count "maxsessionduration")" -eq $((before + 1)) ]
tap $? "a 2 s schedule above maxsessionduration 1: refused, logged once (exit $rc)" "$TMP/dur.out"

# one idle connection from 127.0.0.1 uses up maxcontrolsessionsperaddr 1
python3 -c "
import socket, time
s = socket.create_connection(('127.0.0.1', $port)); s.recv(64); time.sleep(3)" &
idle=$!
sleep 0.5
before=$(count "from that address")
"$OWPING" -t -c 5 -i 0.01f -L 0.5 "127.0.0.1:$port" >"$TMP/per.out" 2>&1
rc=$?
kill $idle 2>/dev/null; wait $idle 2>/dev/null
[ $rc -ne 0 ] && [ "$(count "from that address")" -eq $((before + 1)) ]
tap $? "a second connection from one address with maxcontrolsessionsperaddr 1: refused (exit $rc)" "$TMP/per.out"

# a connection whose client has just closed it holds no slot, even while its end of file
# still waits in the daemon's queue: 200 rounds of connect-close, then connect and greet
python3 - "$port" >"$TMP/reuse.out" 2>&1 <<'PY'
import socket, sys
port, refused = int(sys.argv[1]), 0
for _ in range(200):
    socket.create_connection(("127.0.0.1", port), 2).close()
    s = socket.create_connection(("127.0.0.1", port), 2)
    s.settimeout(5)
    try:
        refused += len(s.recv(64)) == 0
    except OSError:
        refused += 1
    s.close()
print("refused", refused)
sys.exit(refused != 0)
PY
tap $? "a just-closed connection does not hold the per-address slot (200 rounds)" "$TMP/reuse.out"

kill -0 "${PIDS[0]}"
tap $? "owampd still running"
