#!/bin/bash
# setup.sh - wall time of a minimal test, connection set-up to report: owping -c 1 -L 0.1
# and twping -c 1 -L 0.1 against daemons on loopback (median of BENCH_SETUP_RUNS runs,
# default 20; hyperfine when installed, else a loop over date +%s%N). The diagnostic rows
# take out, one by one, the fixed waits that make up most of that time.
. "$(dirname "$0")/lib.sh"
RUNS=${BENCH_SETUP_RUNS:-20}

bench_header "setup: wall time of one-packet tests, median of $RUNS runs"
OW_PORT=$(free_port tcp)
TW_PORT=$(free_port tcp)
start_daemon owampd "$OW_PORT" "$TMP/owampd.log" || exit 1
start_daemon twampd "$TW_PORT" "$TMP/twampd.log" || exit 1

# wall_ms CMD...: "median min max failed" in ms over RUNS runs (failed: runs that exited
# non-zero; their times are left out).
wall_ms() {
    local t=() i t0 t1 failed=0
    if command -v hyperfine >/dev/null; then
        hyperfine -N -w 1 -r "$RUNS" --export-json "$TMP/hf.json" "$*" >/dev/null 2>&1 || failed=$RUNS
        python3 -c "import json;r=json.load(open('$TMP/hf.json'))['results'][0]['times'];r.sort()
print('%.1f %.1f %.1f' % (1e3*r[len(r)//2] if len(r)%2 else 500*(r[len(r)//2-1]+r[len(r)//2]), 1e3*r[0], 1e3*r[-1]), $failed)"
        return
    fi
    for i in $(seq "$RUNS"); do
        t0=$(date +%s%N)
        if "$@" >/dev/null 2>&1; then
            t1=$(date +%s%N)
            t+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) / 1e6}')")
        else
            failed=$((failed + 1))
        fi
    done
    echo "$(median "${t[@]:-}") $(printf '%s\n' "${t[@]:-}" | sort -g | head -1) $(printf '%s\n' "${t[@]:-}" | sort -g | tail -1) $failed"
}

echo
echo "| command | median (ms) | min (ms) | max (ms) | target |"
echo "|---|---:|---:|---:|---|"
row() { # label target cmd...
    local label=$1 target=$2
    shift 2
    set -- $(wall_ms "$@")
    echo "| \`$label\` | $1 | $2 | $3 | $target$([ "${4:-0}" != 0 ] && echo " ($4 of $RUNS runs failed)") |"
}
row "owping -c 1 -L 0.1 127.0.0.1:PORT" "< 300 ms" "$OWPING" -c 1 -L 0.1 "127.0.0.1:$OW_PORT"
row "twping -c 1 -L 0.1 127.0.0.1:PORT" "< 300 ms" "$TWPING" -c 1 -L 0.1 "127.0.0.1:$TW_PORT"
# diagnostics: the default schedule (-i 0.1e) draws the first send time from an exponential
# of mean 0.1 s (owping waits for the later of its two directions' draws); owping's -t half
# ends when owampd stops the session once it has every packet, or after the loss timeout
# plus the end delay (-E, 0.02 s)
row "owping -c 1 -L 0.1 -i 0.001f 127.0.0.1:PORT" "(diagnostic)" "$OWPING" -c 1 -L 0.1 -i 0.001f "127.0.0.1:$OW_PORT"
row "owping -c 1 -L 0.1 -i 0.001f -E 0 127.0.0.1:PORT" "(diagnostic)" "$OWPING" -c 1 -L 0.1 -i 0.001f -E 0 "127.0.0.1:$OW_PORT"
row "owping -t -c 1 -L 0.1 -i 0.001f 127.0.0.1:PORT" "(diagnostic)" "$OWPING" -t -c 1 -L 0.1 -i 0.001f "127.0.0.1:$OW_PORT"
row "owping -f -c 1 -L 0.1 -i 0.001f 127.0.0.1:PORT" "(diagnostic)" "$OWPING" -f -c 1 -L 0.1 -i 0.001f "127.0.0.1:$OW_PORT"
row "twping -c 1 -L 0.1 -i 0.001f 127.0.0.1:PORT" "(diagnostic)" "$TWPING" -c 1 -L 0.1 -i 0.001f "127.0.0.1:$TW_PORT"
row "twping -c 1 -L 0 -i 0.001f 127.0.0.1:PORT" "(diagnostic)" "$TWPING" -c 1 -L 0 -i 0.001f "127.0.0.1:$TW_PORT"
row "owping --help (process start-up and exit only)" "(diagnostic)" "$OWPING" --help
echo
echo "Shared libraries loaded by owping: $(ldd "$OWPING" | grep -c '=>')"
