#!/bin/bash
# exporter.sh - ippm_exporter at scale: N targets (default 1,000) measured continuously with
# TWAMP Light at 10 packets/s each (sessions of COUNT packets 0.1 s apart, back to back),
# against one twampd --light on loopback, from one exporter process. twampd's light
# reflector listens on the wildcard address so that each target can be a loopback address of
# its own (127.1.x.y: every packet goes to and comes from 127.0.0.0/8). After a warm-up, for
# WINDOW seconds: the exporter's CPU time (share of one core), its RSS, and a /metrics scrape
# every 5 s with its wall time; then the sessions, packets and losses it counted.
#
# Environment: BENCH_EXP_TARGETS (1000), BENCH_EXP_COUNT (100 packets per session),
# BENCH_EXP_WINDOW (60 s), BENCH_EXP_WARMUP (15 s).
. "$(dirname "$0")/lib.sh"
N=${BENCH_EXP_TARGETS:-1000}
COUNT=${BENCH_EXP_COUNT:-100}
WINDOW=${BENCH_EXP_WINDOW:-60}
WARMUP=${BENCH_EXP_WARMUP:-15}
EXPORTER=$BIN_DIR/ippm_exporter

bench_header "exporter: $N targets x 10 pkt/s continuous, TWAMP Light ($((N * 10)) pkt/s in all)"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
PC=$(free_port tcp)
PL=$(free_port udp)
PE=$(free_port tcp)
start_daemon twampd "$PC" "$TMP/twampd.log" --light "0.0.0.0:$PL" || exit 1
TWAMPD_PID=$DAEMON_PID
{
    echo "modules:"
    echo "  l: {protocol: twamp-light, count: $COUNT, interval: 0.1f, loss_timeout: 1s}"
    echo "targets:"
    for i in $(seq 0 $((N - 1))); do
        echo "  - {target: \"127.1.$((i / 250)).$((i % 250 + 1)):$PL\", module: l, every: 0s}"
    done
} >"$TMP/exporter.yml"
"$EXPORTER" --config.file "$TMP/exporter.yml" --web.listen-address "127.0.0.1:$PE" \
    >"$TMP/exporter.log" 2>&1 &
EXP_PID=$!
BENCH_PIDS+=("$EXP_PID")
sleep "$WARMUP"
if ! kill -0 "$EXP_PID" 2>/dev/null; then
    echo "# the exporter did not run:"; tail -3 "$TMP/exporter.log" | sed 's/^/#   /'
    exit 1
fi

c0=$(cpu_ns "$EXP_PID")
d0=$(cpu_ns "$TWAMPD_PID")
t0=$(date +%s%N)
times=()
rss=()
end=$((t0 + WINDOW * 1000000000))
while [ "$(date +%s%N)" -lt "$end" ]; do
    t=$(curl -s -o "$TMP/metrics.txt" -w '%{time_total}' "http://127.0.0.1:$PE/metrics")
    times+=("$(awk -v t="$t" 'BEGIN {printf "%.1f", t * 1000}')")
    rss+=("$(proc_kb "$EXP_PID" VmRSS)")
    sleep 5
done
t1=$(date +%s%N)
c1=$(cpu_ns "$EXP_PID")
d1=$(cpu_ns "$TWAMPD_PID")
hwm=$(proc_kb "$EXP_PID" VmHWM)
read -r r sh pr an <<<"$(rss_split "$EXP_PID")"

wall_ns=$((t1 - t0))
cpu_pct=$(awk -v c=$((c1 - c0)) -v w=$wall_ns 'BEGIN {printf "%.1f", 100 * c / w}')
twampd_pct=$(awk -v c=$((d1 - d0)) -v w=$wall_ns 'BEGIN {printf "%.1f", 100 * c / w}')
sum() { awk -v p="$1" 'index($0, p) == 1 {s += $NF} END {printf "%d", s}' "$TMP/metrics.txt"; }
ok=$(grep '^ippm_sessions_total{' "$TMP/metrics.txt" | grep 'result="success"' | awk '{s += $NF} END {print s + 0}')
failed=$(grep '^ippm_sessions_total{' "$TMP/metrics.txt" | grep 'result="failure"' | awk '{s += $NF} END {print s + 0}')
sent=$(grep '^ippm_packets_sent_total{' "$TMP/metrics.txt" | grep 'round_trip' | awk '{s += $NF} END {print s + 0}')
lost=$(grep '^ippm_packets_lost_total{' "$TMP/metrics.txt" | grep 'round_trip' | awk '{s += $NF} END {print s + 0}')
lines=$(wc -l <"$TMP/metrics.txt")
bytes=$(wc -c <"$TMP/metrics.txt")
max_ms=$(printf '%s\n' "${times[@]}" | sort -g | tail -1)

echo
echo "| targets | window (s) | exporter CPU (% of one core) | exporter RSS (KB) now / peak | private / anonymous (KB) | scrapes | scrape median / max (ms) | scrape size | sessions ok / failed | packets sent (round trip) | lost | twampd CPU (%) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
echo "| $N | $((wall_ns / 1000000000)) | $cpu_pct | $r / $hwm | $pr / $an | ${#times[@]} | $(median "${times[@]}") / $max_ms | $lines lines, $((bytes / 1024)) KB | $ok / $failed | $sent | $lost ($(awk -v l="$lost" -v s="$sent" 'BEGIN {printf "%.4f", s ? 100 * l / s : 0}') %) | $twampd_pct |"
echo
echo "# scrape wall times (ms): ${times[*]}"
echo "# exporter RSS over the window (KB): ${rss[*]}"
echo "# targets: <= 20 % of one core, <= 64 MB, every scrape under 100 ms"
grep -c 'warn\|error' "$TMP/exporter.log" | sed 's/^/# exporter log lines at warn or error: /'
