#!/bin/bash
# 80-faults.sh - faults around running sessions, on loopback (and through netsim namespaces):
#   1. a client killed (SIGKILL) mid-session: the daemon keeps serving a concurrent client
#      (which loses nothing) and frees the dead client's sessions (its fd count drops back);
#   2. a client interrupted (SIGINT): partial results marked unfinished, exit 2;
#   3. the server killed (SIGKILL) or stopped (SIGTERM) mid-session: clients fail with one clear
#      line in bounded time; SIGTERM: exit 0 and the pid file removed;
#   4. the path black-holed for part of a session (netsim, root): the losses are one run whose
#      length matches the black-hole window, and the control connection survives;
#   5. the disk full while saving records (-T/-F to an 8 KiB tmpfs, root): summary printed,
#      write error reported, exit 2, no partial file that --read takes for a session;
#   6. the wall clock stepped during a session, in the daemon or the client only (an LD_PRELOAD
#      shim built here; the machine's clock is never touched): sessions complete on time and
#      the step shows in the affected packets' delays.
# Exit statuses as owping/main.c documents them: 0 all well, 2 a measurement failed.
# TAP output. Root-only cases skip loudly. RUN_WRAPPER (valgrind) wraps the daemons of cases
# 1-5 with looser time bounds; case 6 is skipped under it (LD_PRELOAD and timing).
. "$(dirname "${BASH_SOURCE[0]}")/lib/ping.sh"

PLAN=31
FAIL=2 # owping/twping's exit status when a measurement failed or was cut short (owping/main.c)
echo "1..$PLAN"
for b in "$OWAMPD" "$TWAMPD" "$OWPING" "$TWPING"; do
    [ -x "$b" ] || { echo "Bail out! $b not built (run make)"; exit 1; }
done
read -ra WRAP <<<"${RUN_WRAPPER:-}"
SLOW=1
[ ${#WRAP[@]} -gt 0 ] && SLOW=4
IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1
MNT=
NETSIM_USED=0

faults_cleanup() {
    if [ -n "${FAULTS_KEEP:-}" ]; then # a copy of the outputs and logs, for debugging
        rm -rf "$FAULTS_KEEP" && cp -r "$TMP" "$FAULTS_KEEP" 2>/dev/null
    fi
    if [ -n "$MNT" ] && mountpoint -q "$MNT" 2>/dev/null; then
        umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
    fi
    [ $NETSIM_USED = 1 ] && netsim_down
    cleanup # lib/ping.sh: daemons by pid, then the scratch directory
}
trap faults_cleanup EXIT

# ok DIAG NAME: "ok" when DIAG is empty, else "not ok" with DIAG as a diagnostic.
ok() {
    n=$((n + 1))
    if [ -z "$1" ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        echo "# ${1# }" | cut -c 1-2000
    fi
}

skip() {
    n=$((n + 1))
    echo "ok $n - $1 # SKIP $2"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# alive PID: running and not a zombie.
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

nfds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# nfds_when PID WANT: PID's fd count once it is WANT, or what it is after 5 s. A daemon
# closes a connection's descriptors when its loop next sees the peer gone: a client that has
# exited (or was killed) does not mean the daemon has looked yet.
nfds_when() {
    local i got
    for ((i = 0; i < 100 * SLOW; i++)); do
        got=$(nfds "$1")
        [ "$got" = "$2" ] && break
        sleep 0.05
    done
    echo "$got"
}

# listen_port PID: the TCP port PID listens on, once it does (empty if it died or 10 s passed).
# Daemons bind port 0, so no free-port probing (and no race) is needed.
listen_port() {
    local i p
    for ((i = 0; i < 200 * SLOW; i++)); do
        p=$(ss -Hltnp 2>/dev/null | awk -v k="pid=$1," 'index($0, k) { n = split($4, a, ":"); print a[n]; exit }')
        [ -n "$p" ] && { echo "$p"; return 0; }
        alive "$1" || return 1
        sleep 0.05
    done
    return 1
}

# daemon NAME BIN PROTO [ENV=VALUE...]: a daemon on a loopback port of the kernel's choice with
# its own config directory $TMP/NAME (pid file in $TMP/NAME/var); sets DPID and DPORT.
daemon() {
    local name=$1 bin=$2 proto=$3
    shift 3
    confdir "$TMP/$name" "$proto" AEO
    env "$@" "${WRAP[@]}" "$bin" -Z -f -c "$TMP/$name" -R "$TMP/$name/var" \
        -S "127.0.0.1:0" >"$TMP/$name.log" 2>&1 &
    DPID=$!
    PIDS+=("$DPID")
    DPORT=$(listen_port "$DPID") || { echo "Bail out! $bin did not start: $(tail -2 "$TMP/$name.log")"; exit 1; }
}

# stop_wait PID SIGNAL TICKS: send SIGNAL, wait up to TICKS x 50 ms; the exit status, or 124.
stop_wait() {
    local i
    kill "-$2" "$1" 2>/dev/null
    for ((i = 0; i < $3; i++)); do
        alive "$1" || break
        sleep 0.05
    done
    if alive "$1"; then
        kill -KILL "$1" 2>/dev/null
        wait "$1" 2>/dev/null
        return 124
    fi
    wait "$1" 2>/dev/null
}

# serves PROG PORT: a fresh short session against the daemon completes (exit 0, nothing lost).
serves() {
    local out=$TMP/serves.out
    "$1" -M -c 10 -i 0.01f -L 0.5 -E 0 "127.0.0.1:$2" >"$out" 2>&1 &&
        awk '$1 == "LOST" && $2 != 0 { bad = 1 } $1 == "SENT" { s++ }
             END { exit !(s > 0 && !bad) }' "$out"
}

# msum FILE IDX KEY...: values of KEYs in the IDX-th -M summary of FILE ("-" if absent).
msum() {
    local f=$1 idx=$2
    shift 2
    awk -v idx="$idx" -v keys="$*" '
        BEGIN { nk = split(keys, k, " ") }
        $1 == "SUMMARY" { cur++ }
        cur == idx && !($1 in v) { v[$1] = $2 }
        END { for (i = 1; i <= nk; i++) printf "%s%s", (i > 1 ? " " : ""), ((k[i] in v) ? v[k[i]] : "-"); print "" }' "$f"
}

nsum() { grep -c '^SUMMARY' "$1"; }

# lost_run FILE IDX: "COUNT FIRST LAST SHAPE" of the sequence numbers in [0, COUNT) that have
# no received-packet line (-v: "seq_no=N delay=..." or "seq_no=N rtt=...") before the IDX-th -M
# summary; SHAPE is "contiguous" or "scattered". (Both mark lost packets "seq_no=N *LOST*";
# the complement of the received ones does not depend on that.)
lost_run() {
    awk -v idx="$2" -v count="$COUNT" '
        $1 == "SUMMARY" { cur++ }
        cur == idx - 1 && /^seq_no=[0-9]+ (delay|rtt)=/ { split($1, a, "="); got[a[2] + 0] = 1 }
        END {
            c = 0
            for (q = 0; q < count; q++) if (!(q in got)) { if (!c) lo = q; hi = q; c++ }
            if (c == 0) { print "0 - - contiguous"; exit }
            print c, lo, hi, (hi - lo + 1 == c ? "contiguous" : "scattered")
        }' "$1"
}

# between X LO HI: LO <= X <= HI (decimals).
between() {
    [ -n "$1" ] && [ "$1" != - ] && awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x + 0 >= lo && x + 0 <= hi) }'
}

chk() { [ "$2" = "$3" ] || diag="$diag $1='$2' (want '$3');"; }

# bgrun NAME [ENV=VALUE...] -- CMD...: run CMD in the background (stdout/stderr in
# $TMP/NAME.out/.err); "STATUS START_MS END_MS" goes to $TMP/NAME.rc. Appends to BGPIDS.
BGPIDS=()
bgrun() {
    local name=$1 e=()
    shift
    while [ "$1" != -- ]; do e+=("$1"); shift; done
    shift
    (
        t=$(now_ms)
        env "${e[@]}" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
        echo "$? $t $(now_ms)" >"$TMP/$name.rc"
    ) &
    BGPIDS+=($!)
}

# errlines FILE: stderr without the clock notice.
errlines() { grep -v 'local clock is not synchronised' "$1"; }

T_START=$(now_ms)
TIMES=""
# section N: record the time elapsed when case N ends (printed at the end).
section() { TIMES="$TIMES $1:$((($(now_ms) - T_START) / 1000))s"; }

COUNT=300 # 3 s sessions: -c 300 -i 0.01f
SESS=(-c "$COUNT" -i 0.01f -L 1)

# ============================================================ 1. client killed mid-session
# Per protocol (ow, tw): the daemon's pid and port, the client, the summaries of a full run.
declare -A DP PORT PROG NSUMS IDLE BUSY AFTER END KEEP DEAD RC
daemon ow1 "$OWAMPD" owamp
DP[ow]=$DPID PORT[ow]=$DPORT PROG[ow]=$OWPING NSUMS[ow]=2
daemon tw1 "$TWAMPD" twamp
DP[tw]=$DPID PORT[tw]=$DPORT PROG[tw]=$TWPING NSUMS[tw]=1
sleep 0.2
for d in ow tw; do
    IDLE[$d]=$(nfds "${DP[$d]}")
    "${PROG[$d]}" -M "${SESS[@]}" "127.0.0.1:${PORT[$d]}" >"$TMP/1$d-keep.out" 2>&1 &
    KEEP[$d]=$!
    "${PROG[$d]}" -M "${SESS[@]}" "127.0.0.1:${PORT[$d]}" >"$TMP/1$d-dead.out" 2>&1 &
    DEAD[$d]=$!
done
sleep 1.2
for d in ow tw; do BUSY[$d]=$(nfds "${DP[$d]}"); done
disown "${DEAD[ow]}" "${DEAD[tw]}" # no "Killed" job notices on stderr
kill -KILL "${DEAD[ow]}" "${DEAD[tw]}"
for d in ow tw; do AFTER[$d]=$(nfds_when "${DP[$d]}" $(((BUSY[$d] + IDLE[$d]) / 2))); done
for d in ow tw; do
    wait "${KEEP[$d]}"
    RC[$d]=$?
done
for d in ow tw; do END[$d]=$(nfds_when "${DP[$d]}" "${IDLE[$d]}"); done
for d in ow tw; do
    p=${PROG[$d]##*/} idle=${IDLE[$d]} busy=${BUSY[$d]} after=${AFTER[$d]} end=${END[$d]}
    diag=""
    chk "concurrent client's exit status" "${RC[$d]}" 0
    summaries_ok "$TMP/1$d-keep.out" $COUNT "${NSUMS[$d]}" ||
        diag="$diag concurrent client: not ${NSUMS[$d]} summaries of SENT $COUNT LOST 0: $(grep -E '^(SENT|LOST|SESSION_FINISHED)' "$TMP/1$d-keep.out" | tr '\n\t' '  ');"
    ok "$diag" "$p killed (SIGKILL) mid-session: a concurrent $p to the same daemon completes, ${NSUMS[$d]} x SENT $COUNT LOST 0"
    diag=""
    # the two clients hold the same number of the daemon's fds (control + test sockets)
    [ "$busy" -gt "$idle" ] || diag="$diag no fds for the sessions while busy ($busy, idle $idle);"
    chk "fds after the kill (idle $idle, busy $busy)" "$after" $(((busy + idle) / 2))
    chk "fds after both clients" "$end" "$idle"
    alive "${DP[$d]}" || diag="$diag daemon died;"
    serves "${PROG[$d]}" "${PORT[$d]}" || diag="$diag a fresh session failed: $(tail -2 "$TMP/serves.out" | tr '\n' ' ');"
    ok "$diag" "$p: the daemon drops the dead client's sessions (fds $idle -> $busy -> $after -> $end) and still serves"
done

section 1
# ============================================================ 2. client interrupted (SIGINT)
declare -A CPID RC2
for d in ow tw; do
    for fmt in M H J; do
        case $fmt in M) args=(-M) ;; H) args=() ;; J) args=(--json) ;; esac
        "${PROG[$d]}" "${args[@]}" "${SESS[@]}" "127.0.0.1:${PORT[$d]}" >"$TMP/2$d$fmt.out" 2>"$TMP/2$d$fmt.err" &
        CPID[$d$fmt]=$!
    done
done
sleep 1.5
kill -INT "${CPID[@]}"
t0=$(now_ms)
for k in "${!CPID[@]}"; do
    wait "${CPID[$k]}"
    RC2[$k]=$?
done
el=$(($(now_ms) - t0))
for d in ow tw; do
    p=${PROG[$d]##*/}
    diag=""
    chk "exit status" "${RC2[${d}M]}" $FAIL
    out=$TMP/2${d}M.out
    [ "$(nsum "$out")" -ge 1 ] || diag="$diag no -M summary;"
    read -r fin sent < <(msum "$out" 1 SESSION_FINISHED SENT)
    chk SESSION_FINISHED "$fin" 0
    between "$sent" 1 $((COUNT - 1)) || diag="$diag SENT '$sent' not in [1, $((COUNT - 1))];"
    grep -q "partial results" "$TMP/2${d}M.err" || diag="$diag stderr does not say 'partial results';"
    [ "$el" -le $((1500 * SLOW)) ] || diag="$diag the clients took $el ms to exit after SIGINT;"
    ok "$diag" "$p interrupted (SIGINT) mid-session: exit $FAIL within $el ms, -M summary SESSION_FINISHED 0, SENT $sent"
    diag=""
    out=$TMP/2${d}J.out
    chk "exit status" "${RC2[${d}J]}" $FAIL
    grep -q '"status":"interrupted"' "$out" || diag="$diag no \"status\":\"interrupted\";"
    chk "values of finished" "$(grep -o '"finished":[a-z]*' "$out" | sort -u | tr '\n' ' ')" '"finished":false '
    ok "$diag" "$p --json interrupted: status interrupted, the session says finished false"
    diag=""
    out=$TMP/2${d}H.out
    chk "exit status" "${RC2[${d}H]}" $FAIL
    grep -q 'statistics from' "$out" || diag="$diag no summary printed;"
    grep -qiE 'partial|unfinished|interrupted|not finished' "$out" ||
        diag="$diag nothing in the summary (stdout) says the session is partial (only stderr does);"
    ok "$diag" "$p human summary interrupted: the summary itself says the session is partial"
done

section 2
# ============================================================ 3. server killed / stopped
daemon ow3k "$OWAMPD" owamp
OW3K=$DPID OW3KP=$DPORT
daemon tw3k "$TWAMPD" twamp
TW3K=$DPID TW3KP=$DPORT
daemon ow3t "$OWAMPD" owamp
OW3T=$DPID OW3TP=$DPORT
daemon tw3t "$TWAMPD" twamp
TW3T=$DPID TW3TP=$DPORT
pidf_diag=""
[ "$(cat "$TMP/ow3t/var/owampd.pid" 2>/dev/null)" = "$OW3T" ] || pidf_diag="$pidf_diag no owampd pid file at start-up;"
[ "$(cat "$TMP/tw3t/var/twampd.pid" 2>/dev/null)" = "$TW3T" ] || pidf_diag="$pidf_diag no twampd pid file at start-up;"
bgrun 3ok -- "$OWPING" -M "${SESS[@]}" "127.0.0.1:$OW3KP"
bgrun 3tk -- "$TWPING" -M "${SESS[@]}" "127.0.0.1:$TW3KP"
bgrun 3ot -- "$OWPING" -M "${SESS[@]}" "127.0.0.1:$OW3TP"
bgrun 3tt -- "$TWPING" -M "${SESS[@]}" "127.0.0.1:$TW3TP"
sleep 1.5
t0=$(now_ms)
disown "$OW3K" "$TW3K"
kill -KILL "$OW3K" "$TW3K"
stop_wait "$OW3T" TERM $((40 * SLOW))
rc_ow3t=$?
stop_wait "$TW3T" TERM $((40 * SLOW))
rc_tw3t=$?
wait "${BGPIDS[@]}"
declare -A RC3 EL3
for c in ok tk ot tt; do
    read -r rc _ end <"$TMP/3$c.rc"
    RC3[$c]=$rc EL3[$c]=$((end - t0))
done
# The rest of the schedule (1.5 s) + the loss timeout (1 s) + a few seconds.
BOUND=$((5000 * SLOW))
for c in ok tk; do
    p=owping
    [ $c = tk ] && p=twping
    rc=${RC3[$c]} el=${EL3[$c]}
    diag=""
    chk "exit status" "$rc" $FAIL
    [ "$el" -le $BOUND ] || diag="$diag took $el ms (bound $BOUND);"
    chk "lines about the control connection on stderr" "$(grep -c 'control connection' "$TMP/3$c.err")" 1
    ok "$diag" "server killed (SIGKILL) mid-session: $p exits $FAIL (status $rc) in $el ms with one line about the control connection"
    diag=""
    out=$TMP/3$c.out
    idx=$(nsum "$out")
    [ "$idx" -ge 1 ] || diag="$diag no -M summary of what arrived before the kill;"
    if [ "$idx" -ge 1 ]; then
        read -r fin sent < <(msum "$out" "$idx" SESSION_FINISHED SENT)
        chk SESSION_FINISHED "$fin" 0
    fi
    ok "$diag" "server killed: $p prints the packets received before the kill, marked partial (SESSION_FINISHED 0)"
done
diag=$pidf_diag
chk "owampd exit status on SIGTERM" "$rc_ow3t" 0
chk "twampd exit status on SIGTERM" "$rc_tw3t" 0
[ ! -e "$TMP/ow3t/var/owampd.pid" ] || diag="$diag owampd left its pid file;"
[ ! -e "$TMP/tw3t/var/twampd.pid" ] || diag="$diag twampd left its pid file;"
ok "$diag" "owampd and twampd stopped (SIGTERM) mid-session: exit 0 within $((2 * SLOW)) s, pid files removed"
diag=""
chk "owping exit status" "${RC3[ot]}" $FAIL
chk "twping exit status" "${RC3[tt]}" $FAIL
[ "${EL3[ot]}" -le $BOUND ] || diag="$diag owping took ${EL3[ot]} ms;"
[ "${EL3[tt]}" -le $BOUND ] || diag="$diag twping took ${EL3[tt]} ms;"
for c in ot tt; do
    [ "$(grep -c 'control connection' "$TMP/3$c.err")" = 1 ] ||
        diag="$diag $c: not one line about the control connection: $(errlines "$TMP/3$c.err" | tr '\n' ' ');"
done
ok "$diag" "server stopped (SIGTERM): owping (status ${RC3[ot]}, ${EL3[ot]} ms) and twping (status ${RC3[tt]}, ${EL3[tt]} ms) fail cleanly"

section 3
# ============================================================ 4. path black-holed (netsim)
NS_TESTS=3
[ $IS_ROOT = 1 ] && . "$ROOT/tests/netsim/ns.sh" # its set-up runs python3 once: root only
if [ $IS_ROOT = 0 ] || ! netsim_check 2>/dev/null; then
    reason=${NETSIM_SKIP:-not root}
    [ $IS_ROOT = 0 ] && reason="not root"
    echo "# SKIP black-hole cases: $reason" >&2
    for ((i = 0; i < NS_TESTS; i++)); do skip "path black-holed mid-session (netsim)" "$reason"; done
else
    NETSIM_USED=1
    NSDELAY=5ms
    netsim_up --delay $NSDELAY || { echo "Bail out! netsim did not start"; exit 1; }
    NC=$NETSIM_TMP/conf
    confdir "$NC" owamp AEO
    confdir "$NC" twamp AEO
    # ip netns exec runs the daemon in place: $! is the daemon's pid
    ip netns exec "$NETSIM_NS_B" "${WRAP[@]}" "$OWAMPD" -Z -f -c "$NC" -R "$NC/var" \
        -S "$NETSIM_B4:8610" >"$NETSIM_TMP/owampd.log" 2>&1 &
    NS_OW=$!
    ip netns exec "$NETSIM_NS_B" "${WRAP[@]}" "$TWAMPD" -Z -f -c "$NC" -R "$NC/var" \
        -S "$NETSIM_B4:8620" >"$NETSIM_TMP/twampd.log" 2>&1 &
    NS_TW=$!
    for port in 8610 8620; do
        for ((i = 0; i < 100 * SLOW; i++)); do
            [ -n "$(ip netns exec "$NETSIM_NS_B" ss -Hltn "sport = :$port" 2>/dev/null)" ] && break
            sleep 0.05
        done
    done
    # blackhole PROG PORT: one session; from 1 s in, ~0.8 s of 100% UDP loss (plus the two relay
    # restarts, during which nothing passes either). Sets BH_RC, BH_WIN (window in packets,
    # rounded up, +2 for the boundaries), BH_A2B/BH_B2A (the black-hole relay's own drops).
    blackhole() {
        local ta td name=${1##*/}
        ip netns exec "$NETSIM_NS_A" timeout 20 "$1" -M -v "${SESS[@]}" "$NETSIM_B4:$2" \
            >"$TMP/4$name.out" 2>"$TMP/4$name.err" &
        local c=$! give_up=$(($(now_ms) + 5000 * SLOW))
        # the session starts ~3 RTT + 20 ms after the client opens its first test socket
        while [ "$(now_ms)" -lt $give_up ]; do
            ip netns exec "$NETSIM_NS_A" ss -Hunap 2>/dev/null | grep -q "\"$name\"" && break
            sleep 0.05
        done
        sleep 1
        ta=$(now_ms)
        netsim_restart --loss 100% --match udp
        sleep 0.8
        netsim_restart --delay $NSDELAY
        td=$(now_ms)
        BH_A2B=$(netsim_stat a2b lost) BH_B2A=$(netsim_stat b2a lost)
        BH_MS=$((td - ta))
        BH_WIN=$(((td - ta + 9) / 10 + 2))
        wait $c
        BH_RC=$?
    }
    # runchk FILE IDX LO HI: the IDX-th session's losses are one run inside the session of
    # LO..HI packets and its -M LOST agrees; into $diag.
    runchk() {
        local cnt first last shape lost fin
        read -r cnt first last shape < <(lost_run "$1" "$2")
        read -r lost fin < <(msum "$1" "$2" LOST SESSION_FINISHED)
        chk "session $2 LOST vs seq_no lines missing" "$lost" "$cnt"
        chk "session $2 SESSION_FINISHED" "$fin" 1
        chk "session $2 losses" "$shape" contiguous
        # 0.8 s of 100% loss at 10 ms: the black hole itself must have caught ~80 packets
        [ "$3" -ge 40 ] || diag="$diag the black-hole relay dropped only $3 packets: missed the session?;"
        between "$cnt" "$3" "$4" || diag="$diag session $2: $cnt lost, not in [$3, $4];"
        [ "$cnt" = 0 ] || { [ "$first" -gt 0 ] && [ "$last" -lt $((COUNT - 1)) ]; } ||
            diag="$diag session $2: lost run $first-$last touches the session's ends;"
        RUN="$cnt lost (seq $first-$last)"
    }
    blackhole "$OWPING" 8610
    diag=""
    chk "owping exit status" "$BH_RC" 0
    chk "-M summaries" "$(nsum "$TMP/4owping.out")" 2
    chk "to-session FROM_ADDR" "$(msum "$TMP/4owping.out" 1 FROM_ADDR)" "$NETSIM_A4"
    errs=$diag
    runchk "$TMP/4owping.out" 1 "$BH_A2B" "$BH_WIN"
    ok "$diag" "owping, UDP black-holed for $BH_MS ms: to-session $RUN, relay dropped $BH_A2B, window <= $BH_WIN; control survives"
    diag=$errs
    runchk "$TMP/4owping.out" 2 "$BH_B2A" "$BH_WIN"
    ok "$diag" "owping, UDP black-holed: from-session $RUN, relay dropped $BH_B2A, window <= $BH_WIN"
    blackhole "$TWPING" 8620
    diag=""
    chk "twping exit status" "$BH_RC" 0
    chk "-M summaries" "$(nsum "$TMP/4twping.out")" 1
    runchk "$TMP/4twping.out" 1 $((BH_A2B + BH_B2A)) "$BH_WIN"
    stop_wait $NS_OW TERM $((40 * SLOW)) || diag="$diag owampd in B did not exit 0 on SIGTERM;"
    stop_wait $NS_TW TERM $((40 * SLOW)) || diag="$diag twampd in B did not exit 0 on SIGTERM;"
    ok "$diag" "twping, UDP black-holed for $BH_MS ms: $RUN, relay dropped $BH_A2B out + $BH_B2A back, window <= $BH_WIN; control survives"
    netsim_down
    NETSIM_USED=0
fi

section 4
# ============================================================ 5. disk full
FULL_TESTS=4
daemon ow5 "$OWAMPD" owamp
OW5P=$DPORT
daemon tw5 "$TWAMPD" twamp
TW5P=$DPORT
FAST=(-c 500 -i 0.001f -L 0.5)
# readback PROG FILE: "STATUS SESSION_FINISHED SENT LOST" of PROG --read FILE -M.
readback() {
    local out=$TMP/readback.out
    "$1" --read "$2" -M >"$out" 2>&1
    echo "$? $(msum "$out" 1 SESSION_FINISHED SENT LOST)"
}
mkdir -p "$TMP/disk"
diag=""
"$OWPING" "${FAST[@]}" -T "$TMP/disk/to.raw" -F "$TMP/disk/from.raw" "127.0.0.1:$OW5P" \
    >"$TMP/5base.out" 2>&1 || diag="$diag owping failed;"
"$TWPING" "${FAST[@]}" -F "$TMP/disk/tw.raw" "127.0.0.1:$TW5P" >"$TMP/5basetw.out" 2>&1 ||
    diag="$diag twping failed;"
chk "owping --read to.raw" "$(readback "$OWPING" "$TMP/disk/to.raw")" "0 1 500 0"
chk "owping --read from.raw" "$(readback "$OWPING" "$TMP/disk/from.raw")" "0 1 500 0"
chk "twping --read tw.raw" "$(readback "$TWPING" "$TMP/disk/tw.raw")" "0 1 500 0"
ok "$diag" "baseline: owping -T/-F and twping -F files read back (--read) as 500 sent, 0 lost, finished"
# What a full disk may leave behind: the file cut anywhere (an .owp session file between two
# records, a twping records file at a line end too).
diag=""
head -c $((184 + 100 * 25)) "$TMP/disk/to.raw" >"$TMP/disk/cut.raw"
head -n 100 "$TMP/disk/tw.raw" >"$TMP/disk/cuttw.raw"
: >"$TMP/disk/empty.raw"
read -r rc fin sent lost < <(readback "$OWPING" "$TMP/disk/cut.raw")
[ "$rc" != 0 ] || [ "$fin" = 0 ] ||
    diag="$diag an .owp file cut between records reads back as a finished session (status $rc, SESSION_FINISHED $fin, SENT $sent, LOST $lost);"
read -r rc fin sent lost < <(readback "$TWPING" "$TMP/disk/cuttw.raw")
[ "$rc" != 0 ] || [ "$fin" = 0 ] ||
    diag="$diag a twping file cut at a line end reads back as a finished session (status $rc, SESSION_FINISHED $fin, SENT $sent, LOST $lost);"
read -r rc fin sent lost < <(readback "$OWPING" "$TMP/disk/empty.raw")
[ "$rc" != 0 ] || [ "$fin" = 0 ] ||
    diag="$diag an empty file reads back as a finished session (status $rc, SESSION_FINISHED $fin);"
ok "$diag" "--read refuses (or marks unfinished) a saved file cut short at a line end, and an empty one"
MNT=$TMP/full
mkdir -p "$MNT"
if [ $IS_ROOT = 0 ]; then
    reason="not root (tmpfs mount)"
elif ! mount -t tmpfs -o size=8k tmpfs "$MNT" 2>"$TMP/mount.err"; then
    reason="cannot mount a tmpfs: $(head -1 "$TMP/mount.err")"
else
    reason=""
fi
# leftover FILE PROG: into $diag when FILE exists and PROG --read takes it for a finished
# session ("STATUS SESSION_FINISHED SENT LOST" = "0 1 ...").
leftover() {
    [ -e "$1" ] || return 0
    local rc fin sent lost
    read -r rc fin sent lost < <(readback "$2" "$1")
    [ "$rc" != 0 ] || [ "$fin" = 0 ] ||
        diag="$diag $(basename "$1") left behind ($(wc -c <"$1") bytes) and --read takes it for a finished session (SENT $sent, LOST $lost);"
    LEFT="$LEFT $(basename "$1"): $(wc -c <"$1") bytes, --read status $rc;"
}
if [ -n "$reason" ]; then
    echo "# SKIP disk-full cases: $reason" >&2
    for ((i = 0; i < FULL_TESTS; i++)); do skip "disk full while saving records" "$reason"; done
else
    "$OWPING" "${FAST[@]}" -T "$MNT/to.raw" -F "$MNT/from.raw" "127.0.0.1:$OW5P" \
        >"$TMP/5ow.out" 2>"$TMP/5ow.err"
    rc=$?
    diag=""
    chk "summaries printed" "$(grep -c 'statistics from' "$TMP/5ow.out")" 2
    for f in to from; do
        grep "$MNT/$f.raw" "$TMP/5ow.err" | grep -q "No space left on device" ||
            diag="$diag no 'No space left on device' line naming $f.raw (stderr: $(errlines "$TMP/5ow.err" | tr '\n' ' '));"
    done
    ok "$diag" "owping -T/-F on a full disk: both summaries printed, the write error named with its reason"
    diag=""
    chk "exit status" "$rc" $FAIL
    ok "$diag" "owping -T/-F on a full disk: exit $FAIL (status $rc)"
    diag="" LEFT=""
    leftover "$MNT/to.raw" "$OWPING"
    leftover "$MNT/from.raw" "$OWPING"
    ok "$diag" "owping -T/-F on a full disk: no file left that --read takes for a finished session (${LEFT:- none left})"
    rm -f "$MNT"/*
    "$TWPING" "${FAST[@]}" -F "$MNT/tw.raw" "127.0.0.1:$TW5P" >"$TMP/5tw.out" 2>"$TMP/5tw.err"
    rc=$?
    diag=""
    chk "exit status" "$rc" $FAIL
    chk "summaries printed" "$(grep -c 'statistics from' "$TMP/5tw.out")" 1
    grep "$MNT/tw.raw" "$TMP/5tw.err" | grep -q "No space left on device" ||
        diag="$diag no 'No space left on device' line naming tw.raw;"
    LEFT=""
    leftover "$MNT/tw.raw" "$TWPING"
    ok "$diag" "twping -F on a full disk: summary printed, error with its reason, exit $FAIL (status $rc), no readable leftover"
    umount "$MNT" && MNT=
fi

section 5
# ============================================================ 6. clock stepped
SHIM_TESTS=6
SHIM=$TMP/clockstep.so
cat >"$TMP/clockstep.c" <<'EOF'
/* The process sees CLOCK_REALTIME (and _COARSE, TAI) stepped by STEP_NS ns (default +1 s) from
 * the moment the file STEP_FILE exists (checked at most once a millisecond). Wraps
 * clock_gettime, gettimeofday, time, and absolute wall-clock clock_nanosleep so that a sleep
 * until a stepped instant ends when it would after a real step. Kernel packet timestamps
 * (SO_TIMESTAMPING) are not affected. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*gettime_fn)(clockid_t, struct timespec *);
typedef int (*sleep_fn)(clockid_t, int, const struct timespec *, struct timespec *);
static gettime_fn real_gettime;
static sleep_fn real_sleep;
static int64_t step_ns = 1000000000, checked_ns;
static const char *step_file;
static int stepped;

static int64_t ts_ns(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec; }
static struct timespec ns_ts(int64_t ns) { return (struct timespec){ns / 1000000000, ns % 1000000000}; }
static int is_wall(clockid_t c) { return c == CLOCK_REALTIME || c == CLOCK_REALTIME_COARSE || c == CLOCK_TAI; }

__attribute__((constructor)) static void init(void)
{
    real_gettime = (gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    real_sleep = (sleep_fn)dlsym(RTLD_NEXT, "clock_nanosleep");
    step_file = getenv("STEP_FILE");
    if (getenv("STEP_NS")) {
        step_ns = atoll(getenv("STEP_NS"));
    }
}

static int64_t offset(void)
{
    struct timespec t;
    if (!stepped && step_file) {
        real_gettime(CLOCK_MONOTONIC, &t);
        if (ts_ns(&t) - checked_ns >= 1000000) {
            checked_ns = ts_ns(&t);
            stepped = access(step_file, F_OK) == 0;
        }
    }
    return stepped ? step_ns : 0;
}

int clock_gettime(clockid_t c, struct timespec *tp)
{
    int rc = real_gettime(c, tp);
    if (rc == 0 && is_wall(c)) {
        *tp = ns_ts(ts_ns(tp) + offset());
    }
    return rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    struct timespec t;
    (void)tz;
    clock_gettime(CLOCK_REALTIME, &t);
    tv->tv_sec = t.tv_sec;
    tv->tv_usec = t.tv_nsec / 1000;
    return 0;
}

time_t time(time_t *out)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    if (out) {
        *out = t.tv_sec;
    }
    return t.tv_sec;
}

int clock_nanosleep(clockid_t c, int flags, const struct timespec *req, struct timespec *rem)
{
    if (is_wall(c) && (flags & TIMER_ABSTIME)) {
        struct timespec real = ns_ts(ts_ns(req) - offset());
        return real_sleep(c, flags, &real, rem);
    }
    return real_sleep(c, flags, req, rem);
}
EOF
reason=""
if [ ${#WRAP[@]} -gt 0 ]; then
    reason="under RUN_WRAPPER (LD_PRELOAD shim and timing)"
elif ! ${CC:-cc} -O2 -Wall -shared -fPIC -o "$SHIM" "$TMP/clockstep.c" -ldl 2>"$TMP/shim.err"; then
    reason="cannot build the LD_PRELOAD shim: $(head -1 "$TMP/shim.err")"
fi
if [ -n "$reason" ]; then
    echo "# SKIP clock-step cases: $reason" >&2
    for ((i = 0; i < SHIM_TESTS; i++)); do skip "clock stepped during a session" "$reason"; done
    section 6
    echo "# elapsed by the end of each case:$TIMES"
    exit 0
fi
# An ASan build wants its runtime first; the shim does not need ASan.
SHIM_ENV=(LD_PRELOAD="$SHIM" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0")
daemon ow6 "$OWAMPD" owamp "${SHIM_ENV[@]}" STEP_FILE="$TMP/step-ow6"
OW6=$DPID OW6P=$DPORT
daemon tw6 "$TWAMPD" twamp "${SHIM_ENV[@]}" STEP_FILE="$TMP/step-tw6"
TW6=$DPID TW6P=$DPORT
daemon ow6c "$OWAMPD" owamp
OW6CP=$DPORT
daemon tw6c "$TWAMPD" twamp
TW6CP=$DPORT
BGPIDS=()
bgrun 6ow_d -- "$OWPING" -M "${SESS[@]}" "127.0.0.1:$OW6P"
bgrun 6tw_d -- "$TWPING" -M "${SESS[@]}" "127.0.0.1:$TW6P"
bgrun 6ow_c "${SHIM_ENV[@]}" STEP_FILE="$TMP/step-owc" -- "$OWPING" -M "${SESS[@]}" "127.0.0.1:$OW6CP"
bgrun 6tw_c "${SHIM_ENV[@]}" STEP_FILE="$TMP/step-twc" -- "$TWPING" -M "${SESS[@]}" "127.0.0.1:$TW6CP"
sleep 1.2 # about 1 s into the sessions
touch "$TMP/step-ow6" "$TMP/step-tw6" "$TMP/step-owc" "$TMP/step-twc"
wait "${BGPIDS[@]}"
# A run takes the schedule (3 s) + the loss timeout (1 s) + set-up, about 4.2 s; 6.5 s leaves
# room for a loaded machine (four senders spin at once here) and is far from one extra second
# per packet.
RUN_BOUND=6500
# runchk6 NAME NSUMS: exit 0 in bound, NSUMS summaries of SENT 300 LOST 0; into $diag.
runchk6() {
    local rc t0 t1 el
    read -r rc t0 t1 <"$TMP/6$1.rc"
    el=$((t1 - t0))
    chk "$1 exit status" "$rc" 0
    [ "$el" -le $RUN_BOUND ] || diag="$diag $1 took $el ms (bound $RUN_BOUND);"
    summaries_ok "$TMP/6$1.out" $COUNT "$2" ||
        diag="$diag $1: not $2 x SENT $COUNT LOST 0: $(grep -E '^(SENT|LOST)' "$TMP/6$1.out" | tr '\n\t' '  ');"
    EL=$el
}
# stepped/normal FILE IDX KEY: the value is about -1 s (the step) / within [0, 0.5] s.
stepped() { between "$(msum "$1" "$2" "$3")" -1.05 -0.95 || diag="$diag $3 of summary $2 = $(msum "$1" "$2" "$3") (want about -1 s);"; }
normal() { between "$(msum "$1" "$2" "$3")" 0 0.5 || diag="$diag $3 of summary $2 = $(msum "$1" "$2" "$3") (want 0..0.5 s);"; }

diag=""
runchk6 ow_d 2
normal "$TMP/6ow_d.out" 1 MIN
normal "$TMP/6ow_d.out" 1 MAX
alive "$OW6" || diag="$diag owampd died;"
serves "$OWPING" "$OW6P" || diag="$diag owampd no longer serves;"
ok "$diag" "owampd's clock stepped +1 s mid-session: owping completes in $EL ms, nothing lost, to-session delays unaffected, daemon serves"
diag=""
stepped "$TMP/6ow_d.out" 2 MIN
normal "$TMP/6ow_d.out" 2 MAX
ok "$diag" "owampd stepped: the from-session (owampd sends) shows the step on the packets after it only: MIN $(msum "$TMP/6ow_d.out" 2 MIN), MAX $(msum "$TMP/6ow_d.out" 2 MAX) s"
diag=""
runchk6 tw_d 1
normal "$TMP/6tw_d.out" 1 MIN_FWD
stepped "$TMP/6tw_d.out" 1 MIN_BCK
normal "$TMP/6tw_d.out" 1 MAX_BCK
between "$(msum "$TMP/6tw_d.out" 1 MAX_PROC)" 0.95 1.5 || diag="$diag MAX_PROC $(msum "$TMP/6tw_d.out" 1 MAX_PROC) (want about 1 s);"
alive "$TW6" || diag="$diag twampd died;"
serves "$TWPING" "$TW6P" || diag="$diag twampd no longer serves;"
ok "$diag" "twampd stepped +1 s: twping completes in $EL ms; kernel T2 vs stepped T3 shows as PROC ~1 s, BCK and RTT ~-1 s (MIN $(msum "$TMP/6tw_d.out" 1 MIN) s)"
diag=""
# The shim steps owping's own clock reads only: the times it writes into its packets move,
# the kernel's TX timestamps, which its to-session results use as send times, do not.
runchk6 ow_c 2
normal "$TMP/6ow_c.out" 1 MIN
normal "$TMP/6ow_c.out" 1 MAX
normal "$TMP/6ow_c.out" 2 MIN
normal "$TMP/6ow_c.out" 2 MAX
ok "$diag" "owping's clock stepped +1 s: completes in $EL ms; to-session unaffected (send times are kernel TX stamps: MIN $(msum "$TMP/6ow_c.out" 1 MIN) s), from-session unaffected (kernel receive stamps)"
diag=""
runchk6 tw_c 1
for k in MIN MAX MIN_FWD MIN_BCK; do normal "$TMP/6tw_c.out" 1 $k; done
ok "$diag" "twping's clock stepped +1 s: completes in $EL ms, every delay unaffected (T1 and T4 are kernel TX/RX stamps)"

# A backward step on the sending daemon: its absolute schedule waits the second once.
daemon ow6b "$OWAMPD" owamp "${SHIM_ENV[@]}" STEP_FILE="$TMP/step-ow6b" STEP_NS=-1000000000
OW6B=$DPID OW6BP=$DPORT
BGPIDS=()
bgrun 6ow_b -- "$OWPING" -M -f -c $COUNT -i 0.01f -L 2 "127.0.0.1:$OW6BP"
sleep 1.2
touch "$TMP/step-ow6b"
wait "${BGPIDS[@]}"
diag=""
RUN_BOUND=7500
runchk6 ow_b 1
normal "$TMP/6ow_b.out" 1 MIN
between "$(msum "$TMP/6ow_b.out" 1 MAX)" 0.95 1.1 || diag="$diag MAX $(msum "$TMP/6ow_b.out" 1 MAX) (want about 1 s);"
alive "$OW6B" || diag="$diag owampd died;"
ok "$diag" "owampd stepped -1 s while sending (-f -L 2): completes in $EL ms, nothing lost, MAX $(msum "$TMP/6ow_b.out" 1 MAX) s on the packets after the step"
section 6
echo "# elapsed by the end of each case:$TIMES"
