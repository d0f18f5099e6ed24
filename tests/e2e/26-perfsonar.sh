#!/bin/bash
# 26-perfsonar.sh - the command lines perfSONAR's pScheduler tool plugins build (owping,
# twping, powstream + owstats), run against our daemons and read the way the plugins read
# them (tests/peers/psched_parse.py): complete results, every packet in. Then owstats on the
# reference's own .owp files (the -R lines byte for byte), our .owp files (round trip and
# layout), Fetch-Session of a running session from a second connection by an independent
# client (tests/peers/owamp_client.py), zero addresses and a third party.
. "$(dirname "$0")/lib/ping.sh"
echo "1..25"
OWSTATS=$BIN_DIR/owstats
POWSTREAM=$BIN_DIR/powstream
PARSE=$ROOT/tests/peers/psched_parse.py
PEER=$ROOT/tests/peers/owamp_client.py
REFOWP=${SHARED:-$ROOT/../shared}/interop/owp

confdir "$TMP/ow" owamp O
confdir "$TMP/tw" twamp O
confdir "$TMP/ow6" owamp O
confdir "$TMP/tw6" twamp O
OP=$(free_port tcp 4)
TP=$(free_port tcp 4)
start_daemon "$OWAMPD" "$TMP/ow" 127.0.0.1 "$OP" "$TMP/owampd.log"
start_daemon "$TWAMPD" "$TMP/tw" 127.0.0.1 "$TP" "$TMP/twampd.log"
OP6=$(free_port tcp 6)
TP6=$(free_port tcp 6)
start_daemon "$OWAMPD" "$TMP/ow6" ::1 "$OP6" "$TMP/owampd6.log"
start_daemon "$TWAMPD" "$TMP/tw6" ::1 "$TP6" "$TMP/twampd6.log"

# complete KIND OUT COUNT: the plugin's reading of OUT has COUNT packets, all received.
complete() {
    python3 "$PARSE" "$1" "$2" >"$2.json" &&
        jq -e --argjson c "$3" '.sent == $c and .received == $c and .bad == 0' "$2.json" >/dev/null
}

# ---- 1-7: the plugins' command lines (default spec: no packet timeout, so -L 0) ----
"$OWPING" -R -c 100 -i 0.01 -L 0 -t "[127.0.0.1]:$OP" >"$TMP/t.out" 2>"$TMP/t.err" &&
    complete owping "$TMP/t.out" 100
tap $? "owping -R -c 100 -i 0.01 -L 0 -t [127.0.0.1]:port: 100 records, none lost" "$TMP/t.err"
"$OWPING" -R -c 100 -i 0.01 -L 0 -f -S 127.0.0.1 "[127.0.0.1]:$OP" >"$TMP/f.out" 2>"$TMP/f.err" &&
    complete owping "$TMP/f.out" 100
tap $? "owping -R ... -L 0 -f -S SRC [SRC]:port (flip): 100 records, none lost" "$TMP/f.err"
"$OWPING" -R -D 32 -s 64 -P 9300-9399 -c 100 -i 0.01 -L 0 -6 -t "[::1]:$OP6" >"$TMP/t6.out" \
    2>"$TMP/t6.err" && complete owping "$TMP/t6.out" 100
tap $? "owping -R -D 32 -s 64 -P LO-HI ... -L 0 -6 -t [::1]:port: 100 records, none lost" "$TMP/t6.err"
"$TWPING" -R -c 100 -i 0.01 -L 0.0 "127.0.0.1:$TP" >"$TMP/tw.out" 2>"$TMP/tw.err" &&
    complete twping "$TMP/tw.out" 100
tap $? "twping -R -c 100 -i 0.01 -L 0.0 host:port: 100 records of 16 fields, none lost" "$TMP/tw.err"
"$TWPING" -R -c 100 -i 0.01 -L 0.0 -Z "127.0.0.1:$TP" >"$TMP/twz.out" 2>"$TMP/twz.err" &&
    complete twping "$TMP/twz.out" 100
tap $? "twping -Z (traverse-nat: zero addresses): 100 records, none lost" "$TMP/twz.err"
"$TWPING" -R -D 32 -s 64 -P 9400-9499 -c 100 -i 0.01 -L 0.0 -6 "[::1]:$TP6" >"$TMP/tw6.out" \
    2>"$TMP/tw6.err" && complete twping "$TMP/tw6.out" 100
tap $? "twping -R -D 32 -s 64 -P LO-HI ... -6 [::1]:port: 100 records, none lost" "$TMP/tw6.err"
"$OWPING" -R -c 100 -i 0.01 -L 0 --zero-addresses "127.0.0.1:$OP" >"$TMP/z.out" 2>"$TMP/z.err" &&
    [ "$(grep -c . "$TMP/z.out")" = 200 ] && python3 "$PARSE" owping "$TMP/z.out" >"$TMP/z.json" &&
    jq -e '.sent == 200 and .lost == 0' "$TMP/z.json" >/dev/null
tap $? "owping --zero-addresses, both directions: 200 records, none lost" "$TMP/z.err"

# ---- 8-10: powstream both ways for 30 s, every file read with owstats -R ----
mkdir -p "$TMP/pt" "$TMP/pf"
"$POWSTREAM" -p -d "$TMP/pt" -c 100 -i 0.05 -t "[127.0.0.1]:$OP" >"$TMP/pt.out" 2>"$TMP/pt.err" &
PT=$!
"$POWSTREAM" -p -d "$TMP/pf" -c 100 -i 0.05 -S 127.0.0.1 "[127.0.0.1]:$OP" >"$TMP/pf.out" \
    2>"$TMP/pf.err" &
PF=$!
mkdir -p "$TMP/pn"
"$POWSTREAM" -p -d "$TMP/pn" -c 100 -i 0.05 -N 25 -n -t "[127.0.0.1]:$OP" >"$TMP/pn.out" \
    2>"$TMP/pn.err" &
PN=$!
sleep 30
t0=$(date +%s%N)
kill -TERM $PT $PF $PN
wait $PT; rct=$?
wait $PF; rcf=$?
wait $PN
exit_ms=$((($(date +%s%N) - t0) / 1000000))
# files DIR OUT: every .owp line of OUT is followed by its .sum; the complete ones (all but
# a last one cut by SIGTERM) read back with owstats -R as 100 records, none lost.
files() {
    local out=$2 n=0 good=0 prev="" f
    while read -r f; do
        case $f in
        *.owp) n=$((n + 1)); prev=$f
            "$OWSTATS" -R "$f" >"$f.R" 2>&1 && complete owping "$f.R" 100 && good=$((good + 1)) ;;
        *.sum) [ "${f%.sum}" = "${prev%.owp}" ] || return 1 ;;
        *) return 1 ;;
        esac
    done <"$out"
    echo "$n files, $good complete"
    [ "$good" -ge 2 ] && [ $((n - good)) -le 1 ] && [ -z "$(ls "$1" | grep '\.i$')" ]
}
r=$(files "$TMP/pt" "$TMP/pt.out")
tap $? "powstream -t (we send) 30 s: complete files read by owstats -R, 100 records, 0 lost ($r)" "$TMP/pt.err"
r=$(files "$TMP/pf" "$TMP/pf.out")
tap $? "powstream (the server sends) 30 s: complete files, 100 records, 0 lost ($r)" "$TMP/pf.err"
# parts PN.OUT: with -N 25 -n each session's four parts come first, each an .owp (fetched on
# a second connection while the session runs) then its .sum, 25 packets none lost; then the
# session's own pair. At least two sessions complete.
parts() {
    python3 - "$1" "$OWSTATS" <<'PY'
import subprocess, sys
names = open(sys.argv[1]).read().split()
sessions = bad = 0
i = 0
while i + 1 < len(names):
    owp, summ = names[i], names[i + 1]
    if not (owp.endswith(".owp") and summ == owp[:-4] + ".sum"):
        bad += 1; break
    m = dict(l.split("\t", 1) for l in open(summ).read().splitlines() if "\t" in l)
    raw = subprocess.run([sys.argv[2], "-R", owp], capture_output=True, text=True).stdout.split("\n")
    got = len([l for l in raw if l.strip() and l.split()[4] != "0" * 20])
    n = int(m.get("SENT", -1))
    last = i + 2 >= len(names)  # the session SIGTERM cut short
    if n == 100 and got == 100 and m.get("LOST") == "0":
        sessions += 1
    elif (n != 25 or got != 25 or m.get("LOST") != "0") and not last:
        bad += 1
    i += 2
print("%d sessions, %d bad" % (sessions, bad))
sys.exit(0 if sessions >= 2 and bad == 0 else 1)
PY
}
r=$(parts "$TMP/pn.out")
tap $? "powstream -t -N 25 -n: four parts of 25 packets per session, fetched while it runs ($r)" "$TMP/pn.err"
[ $rct = 0 ] && [ $rcf = 0 ] && [ "$exit_ms" -lt 500 ]
tap $? "powstream ends on SIGTERM with status 0 in under 0.5 s ($rct $rcf, ${exit_ms} ms)"

# ---- 11-13: the reference's .owp files ----
diag=""
for f in owping-to owping-from owping-auth-to powstream-1 powstream-2; do
    "$OWSTATS" -R "$REFOWP/$f.owp" 2>&1 | cmp -s - "$REFOWP/$f.owstats-R.txt" || diag="$diag $f"
done
[ -z "$diag" ]
tap $? "owstats -R of the reference's .owp files: the reference's lines byte for byte" "${diag:+/dev/null}"
[ -n "$diag" ] && echo "# differ:$diag"
diag=""
keys="SID|FROM_ADDR|FROM_PORT|TO_ADDR|TO_PORT|START_TIME|END_TIME|DSCP|LOSS_TIMEOUT|PACKET_PADDING|SESSION_PACKET_COUNT|SAMPLE_PACKET_COUNT|SESSION_FINISHED|SENT|SYNC|MAXERR|DUPS|LOST|MINTTL|MAXTTL"
for f in owping-to owping-from owping-auth-to powstream-1 powstream-2; do
    diff <("$OWSTATS" -M "$REFOWP/$f.owp" | grep -E "^($keys)	") \
        <(grep -E "^($keys)	" "$REFOWP/$f.owstats-M.txt") >/dev/null || diag="$diag $f"
done
[ -z "$diag" ]
tap $? "owstats -M of the reference's files: the same session, counts and times (not hosts, exact delays)"
[ -n "$diag" ] && echo "# differ:$diag"
# owping's -R lines of the session it sends carry its TX timestamps as STIME; the .owp file
# what the server returned, the time each packet carried (lib/sendtimes.py).
"$OWPING" -R -c 50 -i 0.01f -L 1 -T "$TMP/to.owp" -F "$TMP/from.owp" "127.0.0.1:$OP" >"$TMP/live.R" 2>/dev/null &&
    "$OWSTATS" -R "$TMP/to.owp" "$TMP/from.owp" >"$TMP/read.R" &&
    python3 "$ROOT/tests/e2e/lib/sendtimes.py" R 50 "$TMP/live.R" "$TMP/read.R" >"$TMP/sendtimes.out"
tap $? "owping -T/-F files: owstats -R gives owping's own -R lines (sent ones: STIME its TX timestamp, no earlier)" "$TMP/sendtimes.out"

mkdir -p "$TMP/p"
"$OWSTATS" -p -d "$TMP/p" -M -N 30 "$REFOWP/powstream-1.owp" >"$TMP/p.out" 2>&1 &&
    [ "$(wc -l <"$TMP/p.out")" = 3 ] && [ "$(ls "$TMP/p" | grep -c '^[0-9]\{20\}_[0-9]\{20\}\.sum$')" = 3 ] &&
    grep -q "^$TMP/p/17203797088128964525_17203797093034326717.sum$" "$TMP/p.out" &&
    [ -z "$(ls "$TMP/p" | grep '\.i$')" ]
tap $? "owstats -p -d DIR -M -N 30: one START_END.sum per part and for the session, names printed" "$TMP/p.out"

# ---- 14-15: our .owp layout ----
python3 - "$TMP/to.owp" "$TMP/from.owp" >"$TMP/layout.out" 2>&1 <<'PY'
import struct, sys
def hdr(path):
    b = open(path, "rb").read()
    magic, ver, fin, nxt, nsk, nrec, skoff, daoff = struct.unpack("!4sIIIIIQQ", b[:40])
    nslots = struct.unpack("!I", b[44:48])[0]
    return b, magic, ver, fin, nxt, nsk, nrec, skoff, daoff, nslots
ok = True
for path, fetched in ((sys.argv[1], True), (sys.argv[2], False)):
    b, magic, ver, fin, nxt, nsk, nrec, skoff, daoff, nslots = hdr(path)
    hlen = 40 + 112 + 16 * (nslots + 1)
    want_skip = hlen if fetched else hlen + 25 * nrec
    good = (magic == b"OwA\0" and ver == 3 and fin == 1 and nxt == 50 and nsk == 0 and
            nrec == 50 and daoff == hlen and skoff == want_skip and len(b) == hlen + 25 * nrec
            and b[40] == 1 and b[hlen - 16:hlen] == bytes(16) and b[136:152] == bytes(16))
    print(path, "ok" if good else "BAD", ver, fin, nxt, nsk, nrec, skoff, daoff, len(b))
    ok = ok and good
sys.exit(0 if ok else 1)
PY
tap $? "our .owp files: version 3, the reference's fields and offsets (fetched and receiver layouts)" "$TMP/layout.out"
head -c 1000 "$TMP/to.owp" >"$TMP/cut.owp"
"$OWSTATS" -R "$TMP/cut.owp" >"$TMP/cut.out" 2>&1
[ $? = 2 ] && grep -q "truncated" "$TMP/cut.out"
tap $? "owstats refuses an .owp file cut short (exit 2, says so)" "$TMP/cut.out"

# ---- 16-18: Fetch-Session from another connection while the session runs ----
python3 "$PEER" fetch-running 127.0.0.1 "$OP" >"$TMP/fr.json" 2>&1
jq -e '.part.accept == 0 and .part.finished == 2 and .part.next_seqno == 0 and
       .part.nrecords == 20 and .part.seqs == [range(0;20)] and .part.lost == [5] and
       .part.received == 19 and .part.stored_sender == "7f000001"' "$TMP/fr.json" >/dev/null
tap $? "a range of a running session from a second connection: Finished 2, its records, seq 5 lost" "$TMP/fr.json"
jq -e '.whole.accept == 0 and .whole.finished == 1 and .whole.next_seqno == 100 and
       .whole.nrecords == 100 and .whole.lost == [5, 50] and .whole.received == 98' \
    "$TMP/fr.json" >/dev/null
tap $? "the whole of a running session: answered once it ends, Finished 1, 98 + 2 lost" "$TMP/fr.json"
jq -e '.again == 1' "$TMP/fr.json" >/dev/null
tap $? "delete_on_fetch: gone after the whole was fetched, not after the part (Accept 1 then)" "$TMP/fr.json"
python3 "$PEER" unknown-sid 127.0.0.1 "$OP" >"$TMP/us.json" 2>&1 && jq -e '.accept == 1' "$TMP/us.json" >/dev/null
tap $? "Fetch-Session of an unknown SID: Accept 1" "$TMP/us.json"

# ---- 19-20: third parties ----
python3 "$PEER" third-party 127.0.0.1 "$OP" 127.0.0.2 >"$TMP/tp.json" 2>&1 &&
    jq -e '.accept != 0' "$TMP/tp.json" >/dev/null && grep -q "third party" "$TMP/owampd.log"
tap $? "a request naming another host as the sender (a real third party): refused, logged" "$TMP/tp.json"
# ---- 22-23: powstream retries with back-off until the server comes, logs by -g ----
confdir "$TMP/late" owamp O
LP=$(free_port tcp 4)
mkdir -p "$TMP/pl"
"$POWSTREAM" -p -d "$TMP/pl" -g debug -c 20 -i 0.02 "127.0.0.1:$LP" >"$TMP/pl.out" 2>"$TMP/pl.err" &
PL=$!
"$POWSTREAM" -d "$TMP/pq" -g none -c 20 -i 0.02 "127.0.0.1:$LP" >"$TMP/pq.out" 2>"$TMP/pq.err" &
PQ=$!
sleep 3.5 # attempts at 0, 1 and 3 s
start_daemon "$OWAMPD" "$TMP/late" 127.0.0.1 "$LP" "$TMP/late.log"
for i in $(seq 100); do grep -q '\.sum$' "$TMP/pl.out" && break; sleep 0.1; done
kill -TERM $PL $PQ
wait $PL $PQ
grep -q "next attempt in 1.0 s" "$TMP/pl.err" && grep -q "next attempt in 2.0 s" "$TMP/pl.err" &&
    grep -q "session .* requested" "$TMP/pl.err" && grep -q '\.owp$' "$TMP/pl.out"
tap $? "powstream: no server yet, attempts 1 s then 2 s apart; a session once it is there" "$TMP/pl.err"
[ ! -s "$TMP/pq.err" ] && [ ! -s "$TMP/pq.out" ]
tap $? "powstream -g none, no -p: nothing on stderr or stdout" "$TMP/pq.err"

kill -0 "${PIDS[0]}" && kill -0 "${PIDS[1]}"
tap $? "owampd and twampd still running"
