#!/bin/bash
# noise.sh - how much our own send and receive paths add to one-way delays: on loopback the
# path itself adds next to nothing, so the spread of the delays (p99 - min) is the noise of
# the timestamps. Runs, idle and with two CPU hogs, BENCH_REPEATS times each:
#
#   owping -t -R -c COUNT -i 0.001f -L 1    our sender, owampd receives (send time: our TX
#                                           timestamp when there is one)
#   owping -f -R -c COUNT -i 0.001f -L 1    owampd sends (the timestamp it writes), we receive
#   twping -c COUNT -i 0.001f -L 1 --json-packets FILE
#                                           forward T2 - T1 (T1: our TX timestamp) and
#                                           reverse T4 - T3 (T3: twampd's written stamp)
#
# and prints min / median / p99 / max / p99 - min of each run's delays (us), the median of
# the runs' p99 - min, and the daemons' own stamp-to-wire gaps (their verbose log: the
# written timestamp against the kernel TX timestamp of the same packet). Last, the floor
# under any written timestamp on this machine (bench/send_floor: clock read to kernel TX
# timestamp of a bare send, with and without the MSG_PROBE walk the senders do first).
# Figures, never pass/fail; the targets are printed beside them.
#
# As root it runs in a network namespace of its own (its loopback only) and starts the daemons
# with --egress-stamp lo, so owping -f and twping's reverse measure the send times written at
# the egress (see owampd(8)); NOISE_EGRESS=0, or not root: the stamps written before the send.
#
# Environment: NOISE_COUNT (3000), BENCH_REPEATS (3), NOISE_HOGS=0 skips the loaded runs,
# NOISE_EGRESS (1).
if [ "${NOISE_EGRESS:-1}" = 1 ] && [ -z "${NOISE_NS:-}" ] && [ "$(id -u)" = 0 ] &&
    ip netns add "noise_$$" 2>/dev/null; then
    ip -n "noise_$$" link set lo up
    NOISE_NS=noise_$$ ip netns exec "noise_$$" bash "$0" "$@"
    rc=$?
    for p in $(ip netns pids "noise_$$" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "noise_$$"
    exit $rc
fi
. "$(dirname "$0")/lib.sh"
COUNT=${NOISE_COUNT:-3000}
REPEATS=${BENCH_REPEATS:-3}
USE_HOGS=${NOISE_HOGS:-1}
HOGS=()

bench_header "noise: spread of one-way delays on loopback, -c $COUNT -i 0.001f, $REPEATS runs"

OW_PORT=$(free_port tcp)
TW_PORT=$(free_port tcp)
EGRESS=()
[ -n "${NOISE_NS:-}" ] && EGRESS=(--egress-stamp lo)
echo "# daemons: ${EGRESS[*]:-send times written before the send system call}${NOISE_NS:+ (in namespace $NOISE_NS)}"
start_daemon owampd "$OW_PORT" "$TMP/owampd.log" -v "${EGRESS[@]}" || exit 1
start_daemon twampd "$TW_PORT" "$TMP/twampd.log" -v "${EGRESS[@]}" || exit 1

# delays_raw FILE: one-way delays in ns of an owping -R output (lost packets left out), in
# integers: the 64-bit NTP times do not fit a double's 53 bits.
delays_raw() {
    python3 - "$1" <<'PY'
import sys
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 8 and f[4] != "0":
        print((int(f[4]) - int(f[1])) * 1000000000 >> 32)
PY
}

# delays_tw KEY FILE: the KEY delay (forward_ns, reverse_ns) of each twping record.
delays_tw() {
    python3 - "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[2]):
    r = json.loads(line)
    if not r.get("lost") and r.get(sys.argv[1]) is not None:
        print(r[sys.argv[1]])
PY
}

# spread: "min median p99 max p99-min" (us) of the ns values on stdin; "-" when none.
spread() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "- - - - -"; exit }
        p50 = v[int((NR + 1) / 2)]; i = int(0.99 * NR + 0.999999); if (i < 1) i = 1
        printf "%.1f %.1f %.1f %.1f %.1f\n", v[1] / 1e3, p50 / 1e3, v[i] / 1e3, v[NR] / 1e3,
            (v[i] - v[1]) / 1e3 }'
}

declare -A SPREADS=()

# row LOAD NAME FIGURES: one table row; keeps p99 - min for the summary.
row() {
    local f
    read -r -a f <<<"$3"
    echo "| $1 | $2 | ${f[0]} | ${f[1]} | ${f[2]} | ${f[3]} | ${f[4]} |"
    SPREADS["$1|$2"]+="${f[4]} "
}

# measure LOAD: every run of one load, REPEATS times.
measure() {
    local i out
    echo "# $1: load average $(cut -d' ' -f1-3 /proc/loadavg)," \
        "cpu pressure $(head -1 /proc/pressure/cpu 2>/dev/null | cut -d' ' -f2-3)"
    for i in $(seq "$REPEATS"); do
        out=$TMP/ow_t_$i
        "$OWPING" -t -R -c "$COUNT" -i 0.001f -L 1 "127.0.0.1:$OW_PORT" >"$out" 2>>"$TMP/client.err"
        row "$1" "owping -t" "$(delays_raw "$out" | spread)"
        out=$TMP/ow_f_$i
        "$OWPING" -f -R -c "$COUNT" -i 0.001f -L 1 "127.0.0.1:$OW_PORT" >"$out" 2>>"$TMP/client.err"
        row "$1" "owping -f" "$(delays_raw "$out" | spread)"
        out=$TMP/tw_$i
        "$TWPING" -c "$COUNT" -i 0.001f -L 1 --json --json-packets "$out.jsonl" \
            "127.0.0.1:$TW_PORT" >"$out" 2>>"$TMP/client.err"
        row "$1" "twping forward" "$(delays_tw forward_ns "$out.jsonl" | spread)"
        row "$1" "twping reverse" "$(delays_tw reverse_ns "$out.jsonl" | spread)"
    done
}

hogs_start() {
    local i
    for i in 1 2; do
        sh -c 'while :; do :; done' &
        HOGS+=($!)
        BENCH_PIDS+=($!)
    done
}

hogs_stop() {
    local p
    for p in "${HOGS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    HOGS=()
}

echo
echo "One-way delays on 127.0.0.1, us (min / median / p99 / max, and p99 - min), one row a run:"
echo
echo "| load | run | min | median | p99 | max | p99 - min |"
echo "|---|---|---:|---:|---:|---:|---:|"
measure idle
if [ "$USE_HOGS" = 1 ]; then
    hogs_start
    measure "2 hogs"
    hogs_stop
fi

echo
echo "p99 - min of each run and their median (us). Targets: owping -t <= 3 idle, <= 25 with"
echo "two hogs; owping -f (owampd's stamps) <= 8 idle."
echo
echo "| load | run | runs | median |"
echo "|---|---|---|---:|"
for key in "idle|owping -t" "idle|owping -f" "idle|twping forward" "idle|twping reverse" \
    "2 hogs|owping -t" "2 hogs|owping -f" "2 hogs|twping forward" "2 hogs|twping reverse"; do
    [ -n "${SPREADS[$key]:-}" ] || continue
    # shellcheck disable=SC2086
    echo "| ${key%%|*} | ${key#*|} | ${SPREADS[$key]% } | $(median ${SPREADS[$key]}) |"
done

# The daemons' per-session stamp-to-wire gap (logged with -v when a session ends).
echo
echo "Daemons' stamp-to-wire gap (written timestamp to kernel TX timestamp), per session, from"
echo "their verbose logs:"
echo
gaps=$(grep -h "stamp-to-wire\|written at the egress in" "$TMP/owampd.log" "$TMP/twampd.log" 2>/dev/null)
[ -n "$gaps" ] && printf '%s\n' "$gaps" | sed 's/^/    /' ||
    echo "    (none logged: this revision does not report it)"

# The kernel's own floor, idle (the hogs are gone by now).
FLOOR=$BIN/send_floor
[ -x "$FLOOR" ] || make -s -C "$ROOT" bench-build >/dev/null 2>&1
if [ -x "$FLOOR" ]; then
    echo
    echo "The floor: clock read to the kernel TX timestamp of a bare 14-octet send to 127.0.0.1,"
    echo "$COUNT sends 1 ms apart (bench/send_floor), us:"
    echo
    echo "| send | min | median | p99 | max | p99 - min |"
    echo "|---|---:|---:|---:|---:|---:|"
    for m in plain warm; do
        read -r a b c d <<<"$("$FLOOR" "$m" 1000000 "$COUNT")"
        [ -n "${d:-}" ] && awk -v m="$m" -v a="$a" -v b="$b" -v c="$c" -v d="$d" 'BEGIN {
            name = m == "warm" ? "after a MSG_PROBE walk" : "as it is"
            printf "| %s | %.1f | %.1f | %.1f | %.1f | %.1f |\n", name, a / 1e3, b / 1e3,
                c / 1e3, d / 1e3, (c - a) / 1e3 }'
    done
fi
