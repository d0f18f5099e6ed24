#!/bin/bash
# session.sh - one test session at a time: the highest loss-free rate of owping -t, owping -f
# and twping (full TWAMP), and the peak memory of client and daemon as the rate and the
# packet count grow.
#
# Loss-free rate: the highest tested rate whose median loss over the repeats is below 0.1 %
# (-c COUNT -i <1/rate>f -L 1) and at which the sender kept its schedule: the achieved rate
# (from the first and last send stamps of the records) is shown when it fell more than 2 %
# behind, and higher rates are then not tried for that client.
#
# Environment: BENCH_SESSION_RATES (10000 20000 50000 100000), BENCH_REPEATS (3),
# BENCH_SESSION_COUNT (20000), BENCH_RSS_RUNS ("RATE:COUNT ..." for the memory table).
. "$(dirname "$0")/lib.sh"
RATES=${BENCH_SESSION_RATES:-10000 20000 50000 100000}
REPEATS=${BENCH_REPEATS:-3}
COUNT=${BENCH_SESSION_COUNT:-20000}
RSS_RUNS=${BENCH_RSS_RUNS:-10000:20000 100000:20000 100000:1000000}

bench_header "session: one session, -c $COUNT -i <1/rate>f -L 1, median of $REPEATS runs"

OW_PORT=$(free_port tcp)
TW_PORT=$(free_port tcp)
start_daemon owampd "$OW_PORT" "$TMP/owampd.log" || exit 1
start_daemon twampd "$TW_PORT" "$TMP/twampd.log" || exit 1

# client_cmd KIND: the client and its direction option.
client_cmd() {
    case $1 in
    owping-t) echo "$OWPING -t" ;;
    owping-f) echo "$OWPING -f" ;;
    twping) echo "$TWPING" ;;
    esac
}

# one_run KIND PORT RATE COUNT OUT: run the client, "loss% achieved_pps" on stdout.
one_run() {
    local sent lost first last
    $(client_cmd "$1") -c "$4" -i "$(interval "$3")" -L 1 --json "127.0.0.1:$2" >"$5" 2>>"$TMP/client.err"
    read -r sent lost first last <<<"$(json_loss "$5")"
    [ -z "${sent:-}" ] && return 0
    awk -v s="$sent" -v l="$lost" -v a="$first" -v b="$last" 'BEGIN {
        printf "%.4f %.0f\n", (s ? 100 * l / s : 100), (b > a ? (s - l - 1) * 1e9 / (b - a) : 0) }'
}

port_of() { [ "$1" = twping ] && echo "$TW_PORT" || echo "$OW_PORT"; }

declare -A best=([owping-t]=0 [owping-f]=0 [twping]=0) behind=()
# behind[KIND]: a rate at which the client could not keep its schedule (higher ones skipped)
echo
echo "| rate (pkt/s) | owping -t loss | owping -f loss | twping loss |"
echo "|---:|---:|---:|---:|"
for rate in $RATES; do
    row="| $rate |"
    for kind in owping-t owping-f twping; do
        if [ -n "${behind[$kind]:-}" ]; then
            row="$row not run (fell behind at ${behind[$kind]}) |"
            continue
        fi
        losses=() ach=()
        for i in $(seq "$REPEATS"); do
            set -- $(one_run "$kind" "$(port_of "$kind")" "$rate" "$COUNT" "$TMP/out.json")
            [ $# -eq 2 ] && losses+=("$1") ach+=("$2")
        done
        l=$(median "${losses[@]:-}") a=$(median "${ach[@]:-}")
        if [ "$l" = - ]; then
            row="$row failed (see stderr below) |"
            continue
        fi
        late=$(awk -v r="$rate" -v a="$a" 'BEGIN {if (a < 0.98 * r) printf " (sent %s/s)", a}')
        [ -n "$late" ] && behind[$kind]=$rate
        awk -v l="$l" 'BEGIN {exit !(l < 0.1)}' && [ -z "$late" ] && best[$kind]=$rate
        row="$row $l %$late |"
    done
    echo "$row"
done
echo
echo "Loss-free rate of one session (target: >= 100000 pkt/s):"
echo
echo "| client | loss-free rate (pkt/s) | target |"
echo "|---|---:|---|"
for kind in owping-t owping-f twping; do
    echo "| $(client_cmd "$kind" | sed "s|$ROOT/owping/||") | ${best[$kind]} | >= 100000 |"
done

# Memory: a fresh daemon per run, so its VmHWM belongs to that run alone.
echo
echo "Peak RSS (client: /usr/bin/time %M; daemon: VmHWM of a fresh daemon; idle = VmRSS before the run)"
echo
echo "| client | rate (pkt/s) | packets | loss | client peak RSS (KB) | daemon idle RSS (KB) | daemon peak RSS (KB) | wall (s) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
declare -A client_rss
for kind in owping-t owping-f twping; do
    for run in $RSS_RUNS; do
        rate=${run%%:*} count=${run##*:}
        port=$(free_port tcp)
        daemon=owampd
        [ "$kind" = twping ] && daemon=twampd
        start_daemon "$daemon" "$port" "$TMP/rss-daemon.log" || continue
        idle=$(proc_kb "$DAEMON_PID" VmRSS)
        t0=$(date +%s%N)
        /usr/bin/time -f "%M" -o "$TMP/time.out" $(client_cmd "$kind") -c "$count" \
            -i "$(interval "$rate")" -L 1 --json "127.0.0.1:$port" >"$TMP/rss.json" 2>>"$TMP/client.err"
        t1=$(date +%s%N)
        hwm=$(proc_kb "$DAEMON_PID" VmHWM)
        stop_pid "$DAEMON_PID"
        crss=$(tail -1 "$TMP/time.out")
        client_rss[$kind:$rate:$count]=$crss
        read -r sent lost _ _ <<<"$(json_loss "$TMP/rss.json")"
        loss=$(awk -v s="${sent:-0}" -v l="${lost:-0}" 'BEGIN {if (s) printf "%.2f %%", 100 * l / s; else print "failed"}')
        echo "| $(client_cmd "$kind" | sed "s|$ROOT/owping/||") | $rate | $count | $loss | $crss | $idle | $hwm | $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) / 1e9}') |"
    done
done
echo
echo "Client peak RSS growth when the packet count grows 50x (20000 -> 1000000 at 100000 pkt/s; target: flat):"
for kind in owping-t owping-f twping; do
    a=${client_rss[$kind:100000:20000]:-} b=${client_rss[$kind:100000:1000000]:-}
    [ -n "$a" ] && [ -n "$b" ] && echo "  $(client_cmd "$kind" | sed "s|$ROOT/owping/||"): $a KB -> $b KB ($(awk -v a="$a" -v b="$b" 'BEGIN {printf "x%.1f", b / a}'))"
done
if grep -qv "not synchronised" "$TMP/client.err" 2>/dev/null; then
    echo
    echo "Client messages (distinct):"
    grep -v "not synchronised" "$TMP/client.err" | sort | uniq -c | sort -rn | head -8 | sed 's/^/  /'
fi
