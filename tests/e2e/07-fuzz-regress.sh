#!/bin/bash
# 07-fuzz-regress.sh - replay every fuzz harness's seed corpus and saved crash inputs
# (tests/fuzz/corpus/<target>, tests/fuzz/crashes/<target>) through its regression driver
# (build/fuzz/regress/<target>: the harness + tests/fuzz/driver.c, normal build, made
# by `make check`). One TAP test per harness; it fails if any input crashes or trips a check.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${OWAMP_TOOLS_BUILD:-$ROOT/build} # where make put what it built
BIN_DIR=$BUILD_DIR/bin
cd "$ROOT" || exit 1

targets=()
for src in tests/fuzz/fuzz_*.c; do
    [ -e "$src" ] || continue
    t=${src#tests/fuzz/fuzz_}
    targets+=("${t%.c}")
done
echo "1..${#targets[@]}"
n=0
for t in "${targets[@]}"; do
    n=$((n + 1))
    bin=$BUILD_DIR/fuzz/regress/$t
    if [ ! -x "$bin" ]; then
        echo "not ok $n - fuzz regression $t"
        echo "# $bin not built (make fuzz-regress)"
        continue
    fi
    dirs=()
    for d in tests/fuzz/corpus/$t tests/fuzz/crashes/$t; do
        [ -d "$d" ] && dirs+=("$d")
    done
    log=$(mktemp)
    ${RUN_WRAPPER:-} "$bin" "${dirs[@]}" >"$log" 2>&1
    rc=$?
    count=$(sed -n 's/.*: \([0-9]*\) inputs replayed$/\1/p' "$log")
    if [ $rc -eq 0 ] && [ -n "$count" ]; then
        echo "ok $n - fuzz regression $t ($count inputs)"
    else
        echo "not ok $n - fuzz regression $t (exit $rc)"
        tail -5 "$log" | sed 's/^/# /'
    fi
    rm -f "$log"
done
