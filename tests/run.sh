#!/bin/sh
# Run every test program and script given as arguments. Each prints TAP ("ok N ..." /
# "not ok N ..."; "# SKIP" counts as skipped) with its plan ("1..N"; several plans add up).
# Ends with one summary line and fails if any test failed, a program exited non-zero, or
# ran other than the number of tests it planned (a script that stopped half-way). RUN_WRAPPER (e.g. valgrind) prefixes test
# programs; e2e scripts use it for the daemons they start.
set -u
pass=0 fail=0 skip=0 broken=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$@"; do
    echo "== $t"
    case "$t" in
    *.sh) CMOCKA_MESSAGE_OUTPUT=TAP bash "$t" >"$log" 2>&1 ;;
    *) CMOCKA_MESSAGE_OUTPUT=TAP ${RUN_WRAPPER:-} "./$t" >"$log" 2>&1 ;;
    esac
    rc=$?
    grep -E '^(not )?ok |^#' "$log" | grep -v '^# *$' | sed 's/^/   /'
    p=$(grep -cE '^ok [0-9]+' "$log" | head -1)
    s=$(grep -E '^ok [0-9]+' "$log" | grep -ci '# *skip')
    f=$(grep -cE '^not ok [0-9]+' "$log")
    plan=$(grep -E '^1\.\.[0-9]+' "$log" | sed 's/^1\.\.\([0-9]*\).*/\1/' | awk '{ s += $1 } END { print s + 0 }')
    pass=$((pass + p - s)) skip=$((skip + s)) fail=$((fail + f))
    bad=""
    [ $((p + f)) -ne "$plan" ] && bad="planned $plan tests and ran $((p + f))"
    [ $rc -ne 0 ] && bad="${bad:+$bad, }exited with status $rc"
    [ $((p + f)) -eq 0 ] && bad="${bad:-ran no test}"
    if [ -n "$bad" ]; then
        [ "$f" -eq 0 ] && fail=$((fail + 1))
        broken="$broken $t"
        echo "   $t $bad"; tail -20 "$log" | sed 's/^/   | /'
    fi
done
[ -n "$broken" ] && echo "failing programs:$broken"
echo "check: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] && [ -z "$broken" ]
