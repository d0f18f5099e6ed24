#!/bin/bash
# 30-twamp.sh - twping against twampd on loopback: every mode (O/A/E/M) over IPv4 and IPv6
# (exact SENT/LOST in the -M summary), a wrong pass-phrase and a refused mode, TWAMP Light
# and STAMP (open and authenticated) against twampd --light, JSON output; runs end as soon as
# every reply is in (-L 5, well under 2 s), and a packet whose reply never comes (a reflector
# that drops it) is waited for until the loss timeout and counted lost. TAP output.
. "$(dirname "${BASH_SOURCE[0]}")/lib/ping.sh"

echo "1..19"
P4=$(free_port tcp 4)
P6=$(free_port tcp 6)
PA=$(free_port tcp 4)
PL=$(free_port udp 4)
confdir "$TMP/tw4" twamp AEOM
confdir "$TMP/tw6" twamp AEOM
confdir "$TMP/twa" twamp A
start_daemon "$TWAMPD" "$TMP/tw4" 127.0.0.1 "$P4" "$TMP/tw4.log" --light "127.0.0.1:$PL" || exit 1
start_daemon "$TWAMPD" "$TMP/tw6" ::1 "$P6" "$TMP/tw6.log" || exit 1
start_daemon "$TWAMPD" "$TMP/twa" 127.0.0.1 "$PA" "$TMP/twa.log" || exit 1

for target in "127.0.0.1:$P4" "[::1]:$P6"; do
    for m in O A E M; do
        out=$TMP/run.out
        "$TWPING" -A $m "${AUTH[@]}" -M -c 100 -i 0.01f -L 1 "$target" >"$out" 2>&1 &&
            summaries_ok "$out" 100 1
        tap $? "mode $m to $target: 100 sent, 0 lost" "$out"
    done
done

printf 'alice\t%s\n' "$(printf 'wrong passphrase' | od -An -tx1 | tr -d ' \n')" >"$TMP/wrong.pfs"
out=$TMP/wrong.out
"$TWPING" -A E -u alice -k "$TMP/wrong.pfs" -c 10 "127.0.0.1:$P4" >"$out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "denied access" "$out"
tap $? "wrong pass-phrase: refused with a reason (exit $rc)" "$out"

out=$TMP/mode.out
"$TWPING" -A O -c 10 "127.0.0.1:$PA" >"$out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "no common mode" "$out"
tap $? "open mode refused by a server offering only A (exit $rc)" "$out"

out=$TMP/light.out
"$TWPING" --light -M -c 100 -i 0.01f -L 1 "127.0.0.1:$PL" >"$out" 2>&1 && summaries_ok "$out" 100 1
tap $? "--light: 100 sent, 0 lost" "$out"

out=$TMP/stamp.out
"$TWPING" --stamp -M -c 100 -i 0.01f -L 1 "127.0.0.1:$PL" >"$out" 2>&1 && summaries_ok "$out" 100 1
tap $? "--stamp: 100 sent, 0 lost" "$out"

out=$TMP/stampa.out
"$TWPING" --stamp -A A "${AUTH[@]}" -M -c 100 -i 0.01f -L 1 "127.0.0.1:$PL" >"$out" 2>&1 &&
    summaries_ok "$out" 100 1
tap $? "--stamp -A A with alice's key: 100 sent, 0 lost" "$out"

out=$TMP/stampw.out
"$TWPING" --stamp -A A -u alice -k "$TMP/wrong.pfs" -M -c 10 -i 0.01f -L 0.3 "127.0.0.1:$PL" \
    >"$out" 2>&1
awk '$1 == "LOST" && $2 == 10 { ok = 1 } END { exit !ok }' "$out"
tap $? "--stamp -A A with a wrong key: no reply accepted (10 lost)" "$out"

out=$TMP/lighta.out
"$TWPING" --light -A A "${AUTH[@]}" -c 10 "127.0.0.1:$PL" >"$out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "only open mode" "$out"
tap $? "--light -A A: refused with a reason (exit $rc)" "$out"

out=$TMP/json.out
"$TWPING" --json -c 20 -i 0.01f -L 1 "127.0.0.1:$P4" >"$out" 2>"$TMP/json.err"
python3 - "$out" <<'PY'
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(docs) == 1 and docs[0]["status"] == "ok", docs
objs = docs[0]["sessions"]
assert len(objs) == 1, objs
assert objs[0]["loss"]["sent"] == 20 and objs[0]["loss"]["lost"] == 0, objs[0]
PY
tap $? "--json: one document with one session, 20 sent, 0 lost" "$out"

# -L 5, one packet: the run ends once its reply is in, well before the loss timeout
out=$TMP/early.out
timed "$out" "$TWPING" -M -c 1 -L 5 "127.0.0.1:$P4" && summaries_ok "$out" 1 1 &&
    [ "$WALL_MS" -lt 2000 ]
tap $? "twping -c 1 -L 5: 1 sent, 0 lost, done in $WALL_MS ms (< 2000: no loss timeout)" "$out"
out=$TMP/earlyl.out
timed "$out" "$TWPING" --light -M -c 1 -L 5 "127.0.0.1:$PL" && summaries_ok "$out" 1 1 &&
    [ "$WALL_MS" -lt 2000 ]
tap $? "twping --light -c 1 -L 5: 1 sent, 0 lost, done in $WALL_MS ms (< 2000)" "$out"

# A TWAMP Light reflector (RFC 5357 Appendix I, open mode) that never answers sequence
# number 1: the run waits the loss timeout for it and counts it lost.
python3 - "$TMP/drop.port" <<'PY' &
import os, socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
n = 0
while True:
    d, peer = s.recvfrom(9000)
    seq, ts, err = struct.unpack("!IQH", d[:14])
    if seq == 1:
        continue
    t = time.time() + 2208988800
    now = int(t) << 32 | int(t % 1 * 2**32)
    r = struct.pack("!IQHHQIQHHB", n, now, 1, 0, now, seq, ts, err, 0, 255)
    s.sendto(r + bytes(max(len(d) - len(r), 0)), peer)
    n += 1
PY
PIDS+=($!)
for i in $(seq 50); do [ -s "$TMP/drop.port" ] && break; sleep 0.1; done
out=$TMP/drop.out
timed "$out" "$TWPING" --light -M -c 3 -i 0.01f -L 1 "127.0.0.1:$(cat "$TMP/drop.port")" &&
    grep -qx "SENT	3" "$out" && lost_is "$out" 1 && [ "$WALL_MS" -ge 1000 ]
tap $? "reflector drops seq 1 of 3, -L 1: 1 lost, waited the loss timeout ($WALL_MS ms >= 1000)" "$out"
