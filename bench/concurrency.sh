#!/bin/bash
# concurrency.sh - many sessions at once against one daemon: bench/concurrency opens N
# control connections from one process on one event loop, one session each at 10 packets/s
# (-c COUNT -i 0.1), all running together, against a fresh twampd (TWAMP), a fresh owampd
# with the daemon receiving (owamp-t, records fetched at the end) and with the daemon sending
# (owamp-f). Figures: failed sessions, packet loss, daemon RSS idle and with every session
# active (per-session cost = difference / sessions), daemon CPU time while the sessions ran.
#
# Environment: BENCH_SESSIONS (1000), BENCH_CONC_COUNT (50 packets per session),
# BENCH_CONC_MODES (twamp owamp-t owamp-f).
. "$(dirname "$0")/lib.sh"
N=${BENCH_SESSIONS:-1000}
COUNT=${BENCH_CONC_COUNT:-50}
MODES=${BENCH_CONC_MODES:-twamp owamp-t owamp-f}

bench_header "concurrency: $N sessions x $COUNT packets at 10 pkt/s each ($((N * 10)) pkt/s in all)"
# two descriptors per session in the daemon (control + test socket), for every mode
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "# open files limit for the daemons: $(ulimit -n)"

idle_rows=""
echo
echo "| daemon (mode) | sessions ok / failed | packets sent | lost | set-up (s) | daemon RSS idle (KB) | daemon RSS active (KB) | per session (KB) | daemon CPU (s) | client RSS (KB) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for mode in $MODES; do
    daemon=owampd
    [ "$mode" = twamp ] && daemon=twampd
    port=$(free_port tcp)
    start_daemon "$daemon" "$port" "$TMP/$mode.log" || continue
    sleep 0.3
    read -r r sh pr an <<<"$(rss_split "$DAEMON_PID")"
    idle_rows="$idle_rows| $daemon | $r | $sh | $pr | $an |"$'\n'
    line=$("$BIN/concurrency" -m "$mode" -d "127.0.0.1:$port" -n "$N" -c "$COUNT" -i 0.1 \
        -P "$DAEMON_PID" -M $((2 + N / 250)) 2>>"$TMP/concurrency.err")
    stop_pid "$DAEMON_PID"
    if [ -z "$line" ]; then
        echo "| $daemon ($mode) | run failed: $(tail -1 "$TMP/concurrency.err") |"
        continue
    fi
    fails=$(printf '%s\n' "$line" | tr ' ' '\n' | grep '^failed_in_' | tr '\n' ' ')
    lost="$(kv lost "$line") ($(kv loss_pct "$line") %)"
    echo "| $daemon ($mode) | $(kv ok "$line") / $(kv failed "$line")${fails:+ ($fails)} | $(kv sent "$line") | $lost | $(kv setup_s "$line") | $(kv daemon_rss_idle_kb "$line") | $(kv daemon_rss_active_kb "$line") | $(kv per_session_kb "$line") | $(kv daemon_cpu_s "$line") | $(kv client_maxrss_kb "$line") |"
    grep -c "refused\|closing" "$TMP/$mode.log" | awk '$1 > 0 {print "  (daemon log: " $1 " refusals/closures)"}'
done
echo
echo "Idle daemon memory before the run (KB, /proc/PID/smaps_rollup; shared = pages of shared libraries and other mappings also used elsewhere):"
echo
echo "| daemon | RSS | shared | private | anonymous |"
echo "|---|---:|---:|---:|---:|"
printf '%s' "$idle_rows"
echo
echo "Targets: 0 failures and 0 loss; daemon idle RSS <= 2048 KB; <= 64 KB per additional active session."
