#!/bin/bash
# 24-owamp-records.sh - a receiving session longer than owampd keeps in memory: its records
# go to an unnamed file in datadir and come back whole, in order, through a Fetch-Session
# reply streamed as the connection drains (encrypted mode, so every block of the reply is
# sealed piecewise). A datadir that cannot hold the file: the records beyond memory count as
# lost and the daemon says why. TAP output.
. "$(dirname "${BASH_SOURCE[0]}")/lib/ping.sh"

echo "1..5"
P=$(free_port tcp 4)
PB=$(free_port tcp 4)
confdir "$TMP/ow" owamp AEO
confdir "$TMP/bad" owamp AEO
sed -i "s|^datadir .*|datadir $TMP/bad/missing|" "$TMP/bad/owamp-server.conf"
start_daemon "$OWAMPD" "$TMP/ow" 127.0.0.1 "$P" "$TMP/ow.log" || exit 1
start_daemon "$OWAMPD" "$TMP/bad" 127.0.0.1 "$PB" "$TMP/bad.log" || exit 1
DPID=${PIDS[0]}

# 20,000 records (640 KB) against the 64 KiB a receiving session keeps in memory
N=20000
out=$TMP/big.out
"$OWPING" -A E "${AUTH[@]}" -t -M -R -c $N -i 0.0001f -L 1 "127.0.0.1:$P" >"$out" 2>&1 &
cpid=$!
spilled=1
for i in $(seq 60); do
    if ls -l /proc/$DPID/fd 2>/dev/null | grep -q "$TMP/ow/data/.*(deleted)"; then
        spilled=0
        break
    fi
    kill -0 $cpid 2>/dev/null || break
    sleep 0.1
done
wait $cpid
rc=$?
tap $spilled "the receiving session's records went to an unnamed file in datadir" "$out"

[ $rc -eq 0 ] && summaries_ok "$out" $N 1
tap $? "mode E, -t, $N packets: $N sent, 0 lost after the streamed fetch" "$out"

python3 - "$out" $N <<'PY'
import sys
n = int(sys.argv[2])
seqs = []
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 8 and all(x.replace('.', '').replace('e-', '').replace('-', '').isdigit() for x in f):
        seqs.append(int(f[0]))
assert len(seqs) == n, len(seqs)
assert sorted(seqs) == list(range(n)), "sequence numbers differ"
PY
tap $? "-R: $N records read back, every sequence number once" "$out"

[ -z "$(ls -A "$TMP/ow/data")" ] && kill -0 "$DPID" 2>/dev/null
tap $? "datadir left empty and owampd still running" "$TMP/ow.log"

out=$TMP/bad.out
"$OWPING" -t -M -c 5000 -i 0.0001f -L 1 "127.0.0.1:$PB" >"$out" 2>&1
lost=$(awk '$1 == "LOST" {print $2}' "$out")
[ "${lost:-0}" -gt 0 ] && grep -q "records could not be stored in $TMP/bad/missing" "$TMP/bad.log"
tap $? "datadir missing: records beyond memory counted lost ($lost), the daemon says why" "$TMP/bad.log"
