#!/bin/bash
# 20-owamp.sh - owping against owampd on loopback: every mode over IPv4 and IPv6 with both
# directions at once (exact SENT/LOST in the -M summaries), one direction only, a wrong
# pass-phrase and a refused mode (non-zero exit with a reason), JSON output, the start delay
# derived from the RTT, a one-way test that ends as soon as every packet is in (not after the
# loss timeout; a lost packet is waited for in 60-netsim-owamp), and 2 and 20 clients at once.
# TAP output.
. "$(dirname "${BASH_SOURCE[0]}")/lib/ping.sh"

echo "1..18"
P4=$(free_port tcp 4)
P6=$(free_port tcp 6)
PA=$(free_port tcp 4)
confdir "$TMP/ow4" owamp AEO
confdir "$TMP/ow6" owamp AEO
confdir "$TMP/owa" owamp A
start_daemon "$OWAMPD" "$TMP/ow4" 127.0.0.1 "$P4" "$TMP/ow4.log" || exit 1
start_daemon "$OWAMPD" "$TMP/ow6" ::1 "$P6" "$TMP/ow6.log" || exit 1
start_daemon "$OWAMPD" "$TMP/owa" 127.0.0.1 "$PA" "$TMP/owa.log" || exit 1

# owping -c 100 -i 0.01f -L 1 -M in every mode, both directions: 2 summaries of 100 sent, 0 lost.
for target in "127.0.0.1:$P4" "[::1]:$P6"; do
    for m in O A E; do
        out=$TMP/run.out
        "$OWPING" -A $m "${AUTH[@]}" -M -c 100 -i 0.01f -L 1 "$target" >"$out" 2>&1
        rc=$?
        [ $rc -eq 0 ] && summaries_ok "$out" 100 2
        tap $? "mode $m to $target: both directions, 100 sent, 0 lost" "$out"
    done
done

out=$TMP/t.out
"$OWPING" -t -M -c 50 -i 0.01f -L 1 "127.0.0.1:$P4" >"$out" 2>&1 && summaries_ok "$out" 50 1
tap $? "-t: one session toward the server" "$out"

out=$TMP/f.out
"$OWPING" -f -M -c 50 -i 0.01f -L 1 "127.0.0.1:$P4" >"$out" 2>&1 && summaries_ok "$out" 50 1
tap $? "-f: one session from the server" "$out"

printf 'alice\t%s\n' "$(printf 'wrong passphrase' | od -An -tx1 | tr -d ' \n')" >"$TMP/wrong.pfs"
out=$TMP/wrong.out
"$OWPING" -A A -u alice -k "$TMP/wrong.pfs" -c 10 "127.0.0.1:$P4" >"$out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "denied access" "$out"
tap $? "wrong pass-phrase: refused with a reason (exit $rc)" "$out"

out=$TMP/mode.out
"$OWPING" -A O -c 10 "127.0.0.1:$PA" >"$out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "no common mode" "$out"
tap $? "open mode refused by a server offering only A (exit $rc)" "$out"

out=$TMP/refused.out
"$OWPING" -c 10 "127.0.0.1:$(free_port tcp 4)" >"$out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "cannot connect" "$out"
tap $? "no server: exit 2 with a reason" "$out"

out=$TMP/json.out
"$OWPING" --json -c 20 -i 0.01f -L 1 "127.0.0.1:$P4" >"$out" 2>"$TMP/json.err"
python3 - "$out" <<'PY'
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(docs) == 1 and docs[0]["status"] == "ok", docs
objs = docs[0]["sessions"]
assert [o["direction"] for o in objs] == ["to", "from"], objs
for o in objs:
    assert o["loss"]["sent"] == 20 and o["loss"]["lost"] == 0, o["loss"]
PY
tap $? "--json: one document, a session per direction, 20 sent, 0 lost" "$out"

# -c 1 -L 0.1 with a zero interval and no end delay (its wall time is in bench/setup)
out=$TMP/fast.out
"$OWPING" -M -c 1 -i 0f -L 0.1 -E 0 "127.0.0.1:$P4" >"$out" 2>&1 && summaries_ok "$out" 1 2
tap $? "owping -c 1 -i 0f -L 0.1 -E 0: one packet each way" "$out"

# -L 5, one packet: each direction alone ends once the packet is in, well before the loss
# timeout: -t on owampd's own Stop-Sessions (it has every packet), -f on ours (we have it)
for dir in t f; do
    out=$TMP/early$dir.out
    timed "$out" "$OWPING" -$dir -M -c 1 -L 5 "127.0.0.1:$P4" && summaries_ok "$out" 1 1 &&
        [ "$WALL_MS" -lt 2000 ]
    tap $? "owping -$dir -c 1 -L 5: 1 sent, 0 lost, done in $WALL_MS ms (< 2000: no loss timeout)" "$out"
done

# several clients at once against one owampd
for clients in 2 20; do
    pids=()
    for i in $(seq $clients); do
        "$OWPING" -M -c 100 -i 0.01f -L 1 "127.0.0.1:$P4" >"$TMP/c$i.out" 2>&1 &
        pids+=($!)
    done
    bad=0
    for i in $(seq $clients); do
        wait "${pids[$((i - 1))]}" && summaries_ok "$TMP/c$i.out" 100 2 || bad=$i
    done
    [ $bad -eq 0 ]
    tap $? "$clients clients at once: all 100 sent, 0 lost both ways" "$TMP/c$bad.out"
done
kill -0 "${PIDS[0]}" 2>/dev/null
tap $? "owampd still running" "$TMP/ow4.log"
