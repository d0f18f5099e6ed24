#!/bin/bash
# 60-netsim-owamp.sh - owampd in namespace B, owping in namespace A, joined by the netsim relay
# (tests/netsim). Deterministic patterns give exact loss, duplicate and reordering counts in both
# directions (-M over IPv4, the human summary over IPv4, --json over IPv6), a 5 ms link gives
# a 5 ms one-way delay, and a one-way test with a packet dropped waits the loss timeout for it
# (with every packet in it would end at once). TAP output; skips loudly when not root or
# without TUN/netns.
#
# Each direction carries exactly one UDP stream (a2b: the to-session, b2a: the from-session) and
# the relay is restarted before every session, so netsim's per-direction packet index is the
# OWAMP sequence number; the relay's own counters are checked alongside to prove it.
# Netsim patterns and RUN_WRAPPER are word-split on purpose; netsim_up takes no script args.
# shellcheck disable=SC2086,SC2119
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${OWAMP_TOOLS_BUILD:-$ROOT/build} # where make put what it built
BIN_DIR=$BUILD_DIR/bin
. "$ROOT/tests/netsim/ns.sh"

PLAN=12
if ! netsim_check; then
    echo "# SKIP: 60-netsim-owamp needs root, /dev/net/tun and ip netns ($NETSIM_SKIP)" >&2
    netsim_skip_all "$PLAN"
    exit 0
fi
OWAMPD=$BIN_DIR/owampd
OWPING=$BIN_DIR/owping
echo "1..$PLAN"
for b in "$OWAMPD" "$OWPING"; do
    [ -x "$b" ] || { echo "Bail out! $b not built (run make)"; exit 1; }
done

PORT=8610                  # control port of owampd (TCP: never impaired, --match is UDP)
SRV_PORTS=9100-9149        # owampd's test ports
CLI_PORTS=9150-9199        # owping's test ports
MATCH=udp:9100-9199        # the relay impairs these UDP packets only
COUNT=20
DPIDS=()

# Stop the daemons (SIGTERM, SIGKILL after 3 s), then remove the namespaces. E2E_KEEP=DIR keeps
# a copy of the scratch directory (outputs, daemon and relay logs) for debugging.
cleanup() {
    local p i alive
    for p in "${DPIDS[@]:-}"; do
        [ -n "$p" ] && kill -TERM "$p" 2>/dev/null
    done
    for ((i = 0; i < 30; i++)); do
        alive=0
        for p in "${DPIDS[@]:-}"; do
            [ -n "$p" ] && kill -0 "$p" 2>/dev/null && alive=1
        done
        [ $alive = 1 ] || break
        sleep 0.1
    done
    for p in "${DPIDS[@]:-}"; do
        [ -n "$p" ] && kill -KILL "$p" 2>/dev/null
    done
    if [ -n "${E2E_KEEP:-}" ] && [ -n "$NETSIM_TMP" ]; then
        rm -rf "$E2E_KEEP" && cp -r "$NETSIM_TMP" "$E2E_KEEP"
    fi
    netsim_down
}
trap cleanup EXIT
trap 'exit 1' INT TERM

n=0
# tap DIAG NAME: "ok" when DIAG is empty, else "not ok" with DIAG as a diagnostic.
tap() {
    n=$((n + 1))
    if [ -z "$1" ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        echo "# $1"
    fi
}

skip() {
    n=$((n + 1))
    echo "ok $n - $1 # SKIP $2"
}

# chk LABEL GOT WANT: add a mismatch to $diag.
chk() {
    [ "$2" = "$3" ] || diag="$diag $1='$2' (want '$3');"
}

# between X LO HI: LO <= X <= HI, decimals.
between() {
    [ -n "$1" ] && awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'
}

# relay_chk DIR KEY=VALUE...: the last relay's counters for DIR, into $diag as "relay ...".
relay_chk() {
    local dir=$1 kv
    shift
    for kv in "$@"; do
        chk "relay $dir ${kv%%=*}" "$(netsim_stat "$dir" "${kv%%=*}")" "${kv#*=}"
    done
}

# mget FILE FROM KEY...: values of KEYs in the -M summary whose FROM_ADDR is FROM ("-" if absent).
mget() {
    local f=$1 from=$2
    shift 2
    awk -v from="$from" -v keys="$*" '
        BEGIN { nk = split(keys, k, " ") }
        $1 == "SUMMARY" { cur = "" }
        $1 == "FROM_ADDR" { cur = $2 }
        cur == from && !($1 in v) { v[$1] = $2 }
        END { for (i = 1; i <= nk; i++) printf "%s%s", (i > 1 ? " " : ""), ((k[i] in v) ? v[k[i]] : "-"); print "" }' "$f"
}

# mreord FILE FROM: the <NREORDERING> block of that summary as "n=count ..." pairs.
mreord() {
    awk -v from="$2" '
        $1 == "SUMMARY" { cur = "" }
        $1 == "FROM_ADDR" { cur = $2 }
        $1 == "<NREORDERING>" { inb = 1; next }
        $1 == "</NREORDERING>" { inb = 0 }
        inb && cur == from { printf "%s%s=%s", (s++ ? " " : ""), $1, $2 }
        END { print "" }' "$1"
}

# hblock FILE FROM: the human summary whose header says "statistics from [FROM]".
hblock() {
    awk -v from="[$2]:" '
        /^--- owping statistics from / { cur = index($0, "from " from) > 0 }
        cur' "$1"
}

# hhas BLOCKFILE LINE...: each LINE is a whole line of the block, into $diag.
hhas() {
    local f=$1 l
    shift
    for l in "$@"; do
        grep -qxF -- "$l" "$f" || diag="$diag missing '$l';"
    done
}

# jget FILE FROM KEY.PATH...: values from the --json session summary whose from.addr is FROM.
# Reads both layouts: one summary per line, or one document per run with the summaries in
# "sessions".
jget() {
    "$NETSIM_PY" -c '
import json, sys
sessions = []
for line in open(sys.argv[1]):
    if line.startswith("{"):
        doc = json.loads(line)
        sessions += doc.get("sessions", [doc])
for o in sessions:
    if o.get("from", {}).get("addr") != sys.argv[2]:
        continue
    out = []
    for path in sys.argv[3:]:
        v = o
        for k in path.split("."):
            v = v.get(k) if isinstance(v, dict) else None
        out.append(json.dumps(v, separators=(",", ":")))
    print(" ".join(out))
    break
' "$@"
}

# listening PORT: owampd accepts connections on PORT in namespace B (waits up to 30 s).
listening() {
    local i
    for ((i = 0; i < 300; i++)); do
        [ -n "$(ip netns exec "$NETSIM_NS_B" ss -Hltn "sport = :$1" 2>/dev/null)" ] && return 0
        sleep 0.1
    done
    return 1
}

# start_owampd NAME LISTEN: owampd in B (under RUN_WRAPPER if set), its pid appended to DPIDS.
# The pid is the daemon's own: ip netns exec runs it in place (netsim_b would add a subshell).
start_owampd() {
    mkdir -p "$CONF/$1"
    ip netns exec "$NETSIM_NS_B" ${RUN_WRAPPER:-} "$OWAMPD" -Z -f -c "$CONF" -S "$2" \
        -P "$SRV_PORTS" -R "$CONF/$1" >"$NETSIM_TMP/$1.log" 2>&1 &
    DPIDS+=($!)
}

# ping NAME TARGET ARGS...: owping in A; stdout in $NETSIM_TMP/NAME.out, stderr in NAME.err.
ping() {
    local name=$1 target=$2
    shift 2
    ip netns exec "$NETSIM_NS_A" timeout 30 "$OWPING" -c "$COUNT" -i 0.01f -L 1 -P "$CLI_PORTS" \
        "$@" "$target" >"$NETSIM_TMP/$name.out" 2>"$NETSIM_TMP/$name.err"
    local rc=$?
    [ $rc -eq 0 ] || diag="$diag owping exited $rc: $(tail -2 "$NETSIM_TMP/$name.err" | tr '\n' ' ');"
}

# ---- 1: owampd in B on IPv4 and IPv6 ----
netsim_up || { echo "Bail out! netsim did not start"; exit 1; }
CONF=$NETSIM_TMP/conf
mkdir -p "$CONF/data"
cat >"$CONF/owamp-server.conf" <<EOF
vardir $CONF
datadir $CONF/data
EOF
cat >"$CONF/owamp-server.limits" <<EOF
limit root with disk=0, bandwidth=0, delete_on_fetch=on, allow_open_mode=on
assign default root
EOF
start_owampd v4 "$NETSIM_B4:$PORT"
start_owampd v6 "[$NETSIM_B6]:$((PORT + 1))"
diag=""
listening "$PORT" || diag="$diag no IPv4 listener: $(tail -3 "$NETSIM_TMP/v4.log");"
listening "$((PORT + 1))" || diag="$diag no IPv6 listener: $(tail -3 "$NETSIM_TMP/v6.log");"
tap "$diag" "owampd listens in namespace B on $NETSIM_B4:$PORT and [$NETSIM_B6]:$((PORT + 1))"
V4=$NETSIM_B4:$PORT
V6=[$NETSIM_B6]:$((PORT + 1))

# ---- 2-3: IPv4, -M: drop 3,7 and swap 10 toward B; duplicate 5 toward A ----
PAT="--drop a2b=3,7 --swap a2b=10 --dup-at b2a=5"
diag=""
netsim_restart --match "$MATCH" $PAT
ping m4 "$V4" -M
netsim_stop
out=$NETSIM_TMP/m4.out
to_diag=$diag from_diag=$diag
diag=$to_diag
relay_chk a2b matched=$COUNT drop_pattern=2 swapped=1 dup=0
chk "SENT LOST DUPS" "$(mget "$out" "$NETSIM_A4" SENT LOST DUPS)" "$COUNT 2 0"
chk "NREORDERING" "$(mreord "$out" "$NETSIM_A4")" "1=1"
tap "$diag" "IPv4 -M, to-session ($PAT): SENT $COUNT, LOST 2, DUPS 0, 1-reordering 1"
diag=$from_diag
relay_chk b2a matched=$COUNT drop_pattern=0 swapped=0 dup=1
chk "SENT LOST DUPS" "$(mget "$out" "$NETSIM_B4" SENT LOST DUPS)" "$COUNT 0 1"
chk "NREORDERING" "$(mreord "$out" "$NETSIM_B4")" "1=0"
tap "$diag" "IPv4 -M, from-session: SENT $COUNT, LOST 0, DUPS 1, no reordering"

# ---- 4-5: IPv4, human summary, same pattern ----
diag=""
netsim_restart --match "$MATCH" $PAT
ping h4 "$V4"
netsim_stop
out=$NETSIM_TMP/h4.out
hblock "$out" "$NETSIM_A4" >"$NETSIM_TMP/h4.to"
hblock "$out" "$NETSIM_B4" >"$NETSIM_TMP/h4.from"
to_diag=$diag from_diag=$diag
diag=$to_diag
relay_chk a2b matched=$COUNT drop_pattern=2 swapped=1
# RFC 4737: 1 of the 18 packets received is 1-reordered: 1/18 = 5.555556 %.
hhas "$NETSIM_TMP/h4.to" "$COUNT sent, 2 lost (10.000%), 0 duplicates" \
    "1-reordering = 5.555556%" "no 2-reordering"
tap "$diag" "IPv4 summary, to-session: 2 lost (10.000%), 0 duplicates, 1-reordering = 1/18"
diag=$from_diag
relay_chk b2a matched=$COUNT dup=1
hhas "$NETSIM_TMP/h4.from" "$COUNT sent, 0 lost (0.000%), 1 duplicates" "no reordering"
tap "$diag" "IPv4 summary, from-session: 0 lost, 1 duplicates, no reordering"

# ---- 6-7: IPv6, --json, the mirror image: duplicate toward B; drop and swap toward A ----
PAT="--dup-at a2b=4 --drop b2a=2,9 --swap b2a=12"
diag=""
netsim_restart --match "$MATCH" $PAT
ping j6 "$V6" --json
netsim_stop
out=$NETSIM_TMP/j6.out
to_diag=$diag from_diag=$diag
diag=$to_diag
relay_chk a2b matched=$COUNT drop_pattern=0 swapped=0 dup=1
chk "loss dups reordering" "$(jget "$out" "$NETSIM_A6" loss.sent loss.lost duplicates.count \
    reordering.evaluated reordering.reordered)" "$COUNT 0 1 $COUNT 0"
tap "$diag" "IPv6 --json, to-session ($PAT): lost 0, duplicates 1, no reordering"
diag=$from_diag
relay_chk b2a matched=$COUNT drop_pattern=2 swapped=1 dup=0
chk "loss dups reordering" "$(jget "$out" "$NETSIM_B6" loss.sent loss.lost duplicates.count \
    reordering.evaluated reordering.reordered reordering.n_reordering)" "$COUNT 2 0 18 1 [1]"
# owping receives this stream itself, with kernel receive timestamps.
chk "kernel stamps" "$(jget "$out" "$NETSIM_B6" timestamp_sources.kernel)" 18
tap "$diag" "IPv6 --json, from-session: lost 2, duplicates 0, n_reordering [1] of 18, kernel stamps"

# ---- 8-9: 5 ms each way: one-way delay median in [5, 6] ms ----
# Clocks are one host's, so one-way delays are exact up to the relay's release error: 5.001-5.01
# ms typically. MIN gets 0.1 ms of slack below 5 ms because the relay can release a packet a few
# us early (twice in 20,000, see tests/netsim/README.md); MAX is not asserted (this VM stalls
# processes for 1-5 ms at times). When other jobs load the machine the relay itself runs late;
# so a session out of bounds is retried (3 tries), and when the relay was late by more than
# LATE_US on average in the last try the case is skipped rather than failed.
LATE_US=300

# ms SECONDS: milliseconds with 4 decimals ("-" stays "-").
ms() {
    awk -v s="$1" 'BEGIN { if (s == "-" || s == "") print "-"; else printf "%.4f", s * 1000 }'
}

# relay_late_us: the last relay's mean release lateness, the larger direction, in us.
relay_late_us() {
    awk -v a="$(netsim_stat a2b late_avg_ns)" -v b="$(netsim_stat b2a late_avg_ns)" \
        'BEGIN { printf "%d", (a > b ? a : b) / 1000 }'
}

# ow_delay FROM: check the one-way delays of that summary in d4.out, into $diag; figures in $fig.
ow_delay() {
    local sent lost mn med mx
    read -r sent lost mn med mx < <(mget "$NETSIM_TMP/d4.out" "$1" SENT LOST MIN MEDIAN MAX)
    mn=$(ms "$mn") med=$(ms "$med") mx=$(ms "$mx")
    fig="$mn/$med/$mx"
    chk "SENT LOST" "$sent $lost" "100 0"
    between "$mn" 4.9 6.0 || diag="$diag MIN $mn ms not in [4.9, 6.0];"
    between "$med" 5.0 6.0 || diag="$diag MEDIAN $med ms not in [5.0, 6.0];"
}

# timing_tap DIAG NAME: tap, except that a failure while the relay ran late is a skip.
timing_tap() {
    if [ -n "$1" ] && [ "$late" -gt "$LATE_US" ]; then
        skip "$2" "relay late by $late us on average (machine overloaded):$1"
    else
        tap "$1" "$2"
    fi
}

if [ -n "${RUN_WRAPPER:-}" ]; then
    skip "to-session one-way delay through 5 ms" "timing not meaningful under RUN_WRAPPER"
    skip "from-session one-way delay through 5 ms" "timing not meaningful under RUN_WRAPPER"
else
    for try in 1 2 3; do
        diag=""
        netsim_restart --delay 5ms
        COUNT=100 ping d4 "$V4" -M -i 0.005f
        netsim_stop
        late=$(relay_late_us)
        run_diag=$diag
        ow_delay "$NETSIM_A4"
        to_diag=$diag to_fig=$fig diag=$run_diag
        ow_delay "$NETSIM_B4"
        from_diag=$diag from_fig=$fig
        [ -z "$to_diag$from_diag" ] && break
        echo "# try $try out of bounds (relay late by $late us on average): to:$to_diag from:$from_diag"
    done
    timing_tap "$to_diag" "IPv4 to-session through 5 ms: one-way min/median/max = $to_fig ms"
    timing_tap "$from_diag" "IPv4 from-session through 5 ms: one-way min/median/max = $from_fig ms"
fi

# ---- 10-11: -t, then -f, with packet 1 of 3 dropped: owampd (-t) and owping (-f) do not end
# the test early, the loss timeout (-L 2) is waited for and the packet counted lost ----
for dir in t f; do
    diag=""
    from=$NETSIM_A4 pat="--drop a2b=1"
    [ $dir = f ] && from=$NETSIM_B4 pat="--drop b2a=1"
    netsim_restart --match "$MATCH" $pat
    t0=$(date +%s%N)
    COUNT=3 ping w$dir "$V4" -M -$dir -L 2
    wall=$((($(date +%s%N) - t0) / 1000000))
    netsim_stop
    chk "SENT LOST" "$(mget "$NETSIM_TMP/w$dir.out" "$from" SENT LOST)" "3 1"
    [ "$wall" -ge 2000 ] || diag="$diag ended after $wall ms, within the 2 s loss timeout;"
    tap "$diag" "-$dir, packet 1 of 3 dropped ($pat), -L 2: LOST 1, waited the loss timeout ($wall ms)"
done

# ---- 12: both daemons stop cleanly on SIGTERM ----
diag=""
names=(v4 v6)
for i in 0 1; do
    kill -TERM "${DPIDS[$i]}" 2>/dev/null
    for ((t = 0; t < 100; t++)); do
        kill -0 "${DPIDS[$i]}" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "${DPIDS[$i]}" 2>/dev/null && diag="$diag owampd ${names[$i]} ignored SIGTERM for 10 s;"
    wait "${DPIDS[$i]}"
    rc=$?
    [ $rc -eq 0 ] || diag="$diag owampd ${names[$i]} exited $rc: $(tail -3 "$NETSIM_TMP/${names[$i]}.log" | tr '\n' ' ');"
done
DPIDS=()
tap "$diag" "owampd (IPv4 and IPv6) exits 0 on SIGTERM"
