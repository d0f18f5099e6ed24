#!/bin/bash
# reflector.sh - reflection capacity on loopback: bench/loadgen at rising fixed rates against
# the raw recvmmsg/sendmmsg reflector (the machine's limit), twampd --light (STAMP packets),
# twampd full TWAMP (loadgen after a TWAMP-Control set-up: the daemon alone), and twping
# against twampd (client and daemon together). 44-octet UDP payloads everywhere. The raw
# reflector runs twice: with the kernel's default receive buffer, and with 4 MiB, the size
# the daemons' test sockets ask for (SOCK_BUF_BYTES in libprotocol/sock.h): the ratios are
# against the latter, so that both sides have the same room for bursts.
#
# Loss-free rate: the highest tested rate whose median loss over the repeats is below 0.1 %
# and at which the sender reached at least 98 % of the rate (otherwise the generator, not
# the reflector, was the limit).
#
# Environment: BENCH_RATES (packets/s list), BENCH_REPEATS (3), BENCH_SECS (2).
. "$(dirname "$0")/lib.sh"
RATES=${BENCH_RATES:-50000 100000 150000 200000 250000 300000}
REPEATS=${BENCH_REPEATS:-3}
SECS=${BENCH_SECS:-2}

bench_header "reflector: loss at fixed rates, ${SECS} s per run, median of $REPEATS runs"

RAW_PORT=$(free_port udp)
RAWBIG_PORT=$(free_port udp)
LIGHT_PORT=$(free_port udp)
CTL_PORT=$(free_port tcp)
"$BIN/raw_reflector" -p "$RAW_PORT" -t 900 >"$TMP/raw.log" 2>&1 &
RAW_PID=$!
BENCH_PIDS+=("$RAW_PID")
"$BIN/raw_reflector" -p "$RAWBIG_PORT" -b 4194304 -t 900 >"$TMP/rawbig.log" 2>&1 &
RAWBIG_PID=$!
BENCH_PIDS+=("$RAWBIG_PID")
start_daemon twampd "$CTL_PORT" "$TMP/twampd.log" --light "127.0.0.1:$LIGHT_PORT" || exit 1
TW_PID=$DAEMON_PID
sleep 0.2

# per_pkt_us PID CPU0_NS PACKETS: CPU time of PID since CPU0_NS per packet, in us.
per_pkt_us() {
    awk -v a="$2" -v b="$(cpu_ns "$1")" -v n="$3" 'BEGIN {if (n > 0) printf "%.2f", (b - a) / n / 1e3}'
}

# loadgen_cell MODE PORT RATE PID: medians of "loss% achieved_pps rtt_p50_us cpu_us_per_pkt"
# (PID: the reflector's process, whose CPU time is charged to the packets it received).
loadgen_cell() {
    local losses=() ach=() rtt=() cpu=() i line c0
    for i in $(seq "$REPEATS"); do
        c0=$(cpu_ns "$4")
        line=$("$BIN/loadgen" -m "$1" -d "127.0.0.1:$2" -r "$3" -t "$SECS" 2>>"$TMP/loadgen.err")
        [ -z "$line" ] && continue
        losses+=("$(kv loss_pct "$line")") ach+=("$(kv achieved_pps "$line")")
        rtt+=("$(kv rtt_p50_us "$line")")
        cpu+=("$(per_pkt_us "$4" "$c0" "$(kv sent "$line")")")
    done
    echo "$(median "${losses[@]:-}") $(median "${ach[@]:-}") $(median "${rtt[@]:-}") $(median "${cpu[@]:-}")"
}

# twping_cell RATE: medians of "loss% achieved_pps cpu_us_per_pkt" of
# twping -c RATE*SECS -i 1/RATE f (CPU: twampd's).
twping_cell() {
    local losses=() ach=() cpu=() i n c0 sent lost first last
    n=$(awk -v r="$1" -v s="$SECS" 'BEGIN {printf "%d", r * s}')
    for i in $(seq "$REPEATS"); do
        c0=$(cpu_ns "$TW_PID")
        "$TWPING" -c "$n" -i "$(interval "$1")" -L 1 --json "127.0.0.1:$CTL_PORT" \
            >"$TMP/tw.json" 2>>"$TMP/twping.err"
        read -r sent lost first last <<<"$(json_loss "$TMP/tw.json")"
        [ -z "${sent:-}" ] && continue
        losses+=("$(awk -v s="$sent" -v l="$lost" 'BEGIN {printf "%.4f", (s ? 100 * l / s : 100)}')")
        ach+=("$(awk -v n="$sent" -v l="$lost" -v a="$first" -v b="$last" 'BEGIN {printf "%.0f", (b > a ? (n - l - 1) * 1e9 / (b - a) : 0)}')")
        cpu+=("$(per_pkt_us "$TW_PID" "$c0" "$sent")")
    done
    echo "$(median "${losses[@]:-}") $(median "${ach[@]:-}") $(median "${cpu[@]:-}")"
}

# ok RATE LOSS ACHIEVED: true when the run counts as loss-free.
ok() {
    awk -v r="$1" -v l="$2" -v a="$3" 'BEGIN {exit !(l != "-" && l < 0.1 && a >= 0.98 * r)}'
}

declare -A best=([raw]=0 [rawbig]=0 [light]=0 [full]=0 [twping]=0)
echo
echo "Each cell: median loss · reflector CPU time per packet · median round trip (loadgen's clock)."
echo "\"sent N/s\": the sender reached less than 98 % of the rate."
echo
echo "| rate (pkt/s) | raw, default SO_RCVBUF | raw, 4 MiB SO_RCVBUF | twampd --light | twampd full (loadgen) | twampd full (twping) |"
echo "|---:|---:|---:|---:|---:|---:|"
# behind RATE ACHIEVED: " (sent N/s)" when the sender fell more than 2 % short.
behind() {
    awk -v r="$1" -v a="$2" 'BEGIN {if (a != "-" && a < 0.98 * r) printf " (sent %s/s)", a}'
}
twping_behind="" # a rate at which twping could not keep its schedule: higher ones are skipped
for rate in $RATES; do
    row="| $rate |"
    for t in raw rawbig light full; do
        case $t in
        raw) set -- $(loadgen_cell echo "$RAW_PORT" "$rate" "$RAW_PID") ;;
        rawbig) set -- $(loadgen_cell echo "$RAWBIG_PORT" "$rate" "$RAWBIG_PID") ;;
        light) set -- $(loadgen_cell stamp "$LIGHT_PORT" "$rate" "$TW_PID") ;;
        full) set -- $(loadgen_cell twamp "$CTL_PORT" "$rate" "$TW_PID") ;;
        esac
        ok "$rate" "$1" "$2" && best[$t]=$rate
        row="$row $1 % · ${4:-?} us · ${3:-?} us$(behind "$rate" "$2") |"
    done
    if [ -n "$twping_behind" ]; then
        echo "$row not run (twping fell behind at $twping_behind) |"
        continue
    fi
    set -- $(twping_cell "$rate")
    ok "$rate" "$1" "$2" && best[twping]=$rate
    [ -n "$(behind "$rate" "$2")" ] && twping_behind=$rate
    echo "$row $1 % · ${3:-?} us$(behind "$rate" "$2") |"
done
echo
echo "Loss-free rate (median loss < 0.1 %, sender at >= 98 % of the rate); target: twampd light and full >= 80 % of raw (4 MiB)"
echo
echo "| reflector | loss-free rate (pkt/s) | vs raw | target |"
echo "|---|---:|---:|---|"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.0f %%", 100 * a / b; else print "-"}'; }
echo "| raw recvmmsg/sendmmsg, default SO_RCVBUF | ${best[raw]} | $(ratio "${best[raw]}" "${best[rawbig]}") | - |"
echo "| raw recvmmsg/sendmmsg, 4 MiB SO_RCVBUF | ${best[rawbig]} | 100 % | - |"
echo "| twampd --light (STAMP) | ${best[light]} | $(ratio "${best[light]}" "${best[rawbig]}") | >= 80 % |"
echo "| twampd full TWAMP (loadgen) | ${best[full]} | $(ratio "${best[full]}" "${best[rawbig]}") | >= 80 % |"
echo "| twampd full TWAMP (twping) | ${best[twping]} | $(ratio "${best[twping]}" "${best[rawbig]}") | >= 80 % |"
echo
echo "(0 means no tested rate was loss-free; rates tested: $RATES)"
