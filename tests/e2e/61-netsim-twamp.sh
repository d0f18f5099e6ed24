#!/bin/bash
# 61-netsim-twamp.sh - twampd in namespace B, twping in namespace A, joined by the netsim relay
# (tests/netsim). Deterministic patterns give exact loss counts split by direction (forward =
# a2b, reverse = b2a), exact send and reflect duplicates and reordering (human summary and -M
# over IPv4, --json and -R over IPv6), 5 ms each way gives a 10 ms round trip, and a reply that
# never comes is waited for until the loss timeout (with every reply in, twping ends at once).
# TAP output; skips loudly when not root or without TUN/netns.
#
# a2b carries only the test packets and b2a only the replies, and the relay is restarted before
# every session, so netsim's a2b index is the sender's sequence number and its b2a index is the
# reflector's reply number (equal to the sequence number while nothing is lost or duplicated on
# the way out). The relay's own counters are checked alongside.
# Netsim patterns and RUN_WRAPPER are word-split on purpose; netsim_up takes no script args.
# shellcheck disable=SC2086,SC2119
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${OWAMP_TOOLS_BUILD:-$ROOT/build} # where make put what it built
BIN_DIR=$BUILD_DIR/bin
. "$ROOT/tests/netsim/ns.sh"

PLAN=11
if ! netsim_check; then
    echo "# SKIP: 61-netsim-twamp needs root, /dev/net/tun and ip netns ($NETSIM_SKIP)" >&2
    netsim_skip_all "$PLAN"
    exit 0
fi
DAEMON=$BIN_DIR/twampd
CLIENT=$BIN_DIR/twping
echo "1..$PLAN"
for b in "$DAEMON" "$CLIENT"; do
    [ -x "$b" ] || { echo "Bail out! $b not built (run make)"; exit 1; }
done

PORT=8620                  # control port of twampd (TCP: never impaired, --match is UDP)
SRV_PORTS=9100-9149        # twampd's test ports
CLI_PORTS=9150-9199        # twping's test ports
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

# hhas FILE LINE...: each LINE is a whole line of FILE, into $diag.
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

# listening PORT: twampd accepts connections on PORT in namespace B (waits up to 30 s).
listening() {
    local i
    for ((i = 0; i < 300; i++)); do
        [ -n "$(ip netns exec "$NETSIM_NS_B" ss -Hltn "sport = :$1" 2>/dev/null)" ] && return 0
        sleep 0.1
    done
    return 1
}

# start_daemon NAME LISTEN: twampd in B (under RUN_WRAPPER if set), its pid appended to DPIDS.
# The pid is the daemon's own: ip netns exec runs it in place (netsim_b would add a subshell).
start_daemon() {
    mkdir -p "$CONF/$1"
    ip netns exec "$NETSIM_NS_B" ${RUN_WRAPPER:-} "$DAEMON" -Z -f -c "$CONF" -S "$2" \
        -P "$SRV_PORTS" -R "$CONF/$1" >"$NETSIM_TMP/$1.log" 2>&1 &
    DPIDS+=($!)
}

# ping NAME TARGET ARGS...: twping in A; stdout in $NETSIM_TMP/NAME.out, stderr in NAME.err.
ping() {
    local name=$1 target=$2
    shift 2
    ip netns exec "$NETSIM_NS_A" timeout 30 "$CLIENT" -c "$COUNT" -i 0.01f -L 1 -P "$CLI_PORTS" \
        "$@" "$target" >"$NETSIM_TMP/$name.out" 2>"$NETSIM_TMP/$name.err"
    local rc=$?
    [ $rc -eq 0 ] || diag="$diag twping exited $rc: $(tail -2 "$NETSIM_TMP/$name.err" | tr '\n' ' ');"
}

# session NAME TARGET PATTERN ARGS...: one twping session through a fresh relay with PATTERN.
session() {
    local name=$1 target=$2 pat=$3
    shift 3
    diag=""
    netsim_restart --match "$MATCH" $pat
    ping "$name" "$target" "$@"
    netsim_stop
    out=$NETSIM_TMP/$name.out
}

# ---- 1: twampd in B on IPv4 and IPv6 ----
netsim_up || { echo "Bail out! netsim did not start"; exit 1; }
CONF=$NETSIM_TMP/conf
mkdir -p "$CONF/data"
cat >"$CONF/twamp-server.conf" <<END
vardir $CONF
datadir $CONF/data
END
cat >"$CONF/twamp-server.limits" <<END
limit root with disk=0, bandwidth=0, delete_on_fetch=on, allow_open_mode=on
assign default root
END
start_daemon v4 "$NETSIM_B4:$PORT"
start_daemon v6 "[$NETSIM_B6]:$((PORT + 1))"
diag=""
listening "$PORT" || diag="$diag no IPv4 listener: $(tail -3 "$NETSIM_TMP/v4.log");"
listening "$((PORT + 1))" || diag="$diag no IPv6 listener: $(tail -3 "$NETSIM_TMP/v6.log");"
tap "$diag" "twampd listens in namespace B on $NETSIM_B4:$PORT and [$NETSIM_B6]:$((PORT + 1))"
V4=$NETSIM_B4:$PORT
V6=[$NETSIM_B6]:$((PORT + 1))

# ---- 2: forward loss only (IPv4, human summary) ----
PAT="--drop a2b=3,7"
session h4 "$V4" "$PAT"
relay_chk a2b matched=$COUNT drop_pattern=2
relay_chk b2a matched=18 drop_pattern=0
hhas "$out" "$COUNT sent, 2 lost (10.000%), 0 send duplicates, 0 reflect duplicates" \
    "lost by direction: 2 forward, 0 reverse"
tap "$diag" "IPv4 summary ($PAT): 2 lost (10.000%), lost by direction: 2 forward, 0 reverse"

# ---- 3: reverse loss only (IPv4, --json) ----
PAT="--drop b2a=4,9"
session j4 "$V4" "$PAT" --json
relay_chk a2b matched=$COUNT drop_pattern=0
relay_chk b2a matched=$COUNT drop_pattern=2
chk "loss sent/lost/forward/reverse, dups" "$(jget "$out" "$NETSIM_A4" loss.sent loss.lost \
    loss.forward loss.reverse duplicates.send duplicates.reflect)" "$COUNT 2 0 2 0 0"
tap "$diag" "IPv4 --json ($PAT): lost 2, forward 0, reverse 2"

# ---- 4-5: both ways (IPv6, --json then -R) ----
# The reflector receives 18 packets (3 and 7 lost) and numbers its replies 0-17: reply 5 answers
# seq 6 and reply 12 answers seq 14, so the lost seqs are 3 6 7 14.
PAT="--drop a2b=3,7 --drop b2a=5,12"
session j6 "$V6" "$PAT" --json
relay_chk a2b matched=$COUNT drop_pattern=2
relay_chk b2a matched=18 drop_pattern=2
chk "loss sent/lost/forward/reverse" "$(jget "$out" "$NETSIM_A6" loss.sent loss.lost \
    loss.forward loss.reverse)" "$COUNT 4 2 2"
tap "$diag" "IPv6 --json ($PAT): lost 4, forward 2, reverse 2"
session r6 "$V6" "$PAT" -R
relay_chk b2a matched=18 drop_pattern=2
# -R lines: SEQ T1 S ERR T2 S ERR TTL RSEQ T3 S ERR T4 S ERR TTL, T4 0 for a lost packet. Lost
# packets are the seqs below COUNT without a line that has a T4 (twping currently prints no
# line at all for them).
chk "lost seqs" "$(awk -v c="$COUNT" '$13 != 0 { got[$1] = 1 }
    END { for (i = 0; i < c; i++) if (!(i in got)) printf "%s%d", (n++ ? " " : ""), i }' "$out")" \
    "3 6 7 14"
chk "missing reply numbers" "$(awk '$13 != 0 { seen[$9] = 1 }
    END { for (i = 0; i < 18; i++) if (!(i in seen)) printf "%s%d", (n++ ? " " : ""), i }' "$out")" \
    "5 12"
tap "$diag" "IPv6 -R ($PAT): lost seqs 3 6 7 14, reflector replies 5 and 12 missing"

# ---- 6-7: duplicates (IPv4, -M) ----
PAT="--dup-at a2b=5"
session m4a "$V4" "$PAT" -M
relay_chk a2b matched=$COUNT dup=1
relay_chk b2a matched=$((COUNT + 1)) dup=0
chk "SENT LOST DUPS_FWD DUPS_BCK" "$(mget "$out" "$NETSIM_A4" SENT LOST DUPS_FWD DUPS_BCK)" \
    "$COUNT 0 1 0"
tap "$diag" "IPv4 -M ($PAT): LOST 0, DUPS_FWD 1 (send duplicate), DUPS_BCK 0"
PAT="--dup-at b2a=5"
session m4b "$V4" "$PAT" -M
relay_chk a2b matched=$COUNT dup=0
relay_chk b2a matched=$COUNT dup=1
chk "SENT LOST DUPS_FWD DUPS_BCK" "$(mget "$out" "$NETSIM_A4" SENT LOST DUPS_FWD DUPS_BCK)" \
    "$COUNT 0 0 1"
tap "$diag" "IPv4 -M ($PAT): LOST 0, DUPS_FWD 0, DUPS_BCK 1 (reflect duplicate)"

# ---- 8: reordering on the way out (IPv6, --json) ----
PAT="--swap a2b=10"
session s6 "$V6" "$PAT" --json
relay_chk a2b matched=$COUNT swapped=1
chk "lost, reordering" "$(jget "$out" "$NETSIM_A6" loss.lost reordering.evaluated \
    reordering.reordered reordering.n_reordering)" "0 $COUNT 1 [1]"
tap "$diag" "IPv6 --json ($PAT): lost 0, 1 of $COUNT reordered, n_reordering [1]"

# ---- 9: 5 ms each way: round trip median in [10, 11.5] ms ----
# One host's clocks, so the one-way halves are meaningful too. twping takes T1 from the kernel
# TX timestamp, which the TUN driver stamps after the packet taps, the relay's among them: by
# ~4 us typically, up to ~100 us in 1,800 packets measured, so a forward (and round-trip) delay
# may come out that much below the relay's 5 ms. Hence only the round-trip median has the exact
# lower bound and MIN is a sanity bound; MAX is not asserted (this VM stalls processes for 1-5 ms
# at times). When other jobs load the machine the relay itself runs late; so a session out of
# bounds is retried (3 tries), and when the relay was late by more than LATE_US on average in
# the last try the case is skipped rather than failed.
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

if [ -n "${RUN_WRAPPER:-}" ]; then
    skip "round trip through 5 ms each way" "timing not meaningful under RUN_WRAPPER"
else
    for try in 1 2 3; do
        diag=""
        netsim_restart --delay 5ms
        COUNT=100 ping d4 "$V4" -M -i 0.005f
        netsim_stop
        late=$(relay_late_us)
        read -r sent lost mn med mx medf medb < <(mget "$NETSIM_TMP/d4.out" "$NETSIM_A4" SENT LOST \
            MIN MEDIAN MAX MEDIAN_FWD MEDIAN_BCK)
        mn=$(ms "$mn") med=$(ms "$med") mx=$(ms "$mx") medf=$(ms "$medf") medb=$(ms "$medb")
        chk "SENT LOST" "$sent $lost" "100 0"
        between "$med" 10.0 11.5 || diag="$diag MEDIAN $med ms not in [10.0, 11.5];"
        between "$mn" 9.0 11.5 || diag="$diag MIN $mn ms not in [9.0, 11.5];"
        between "$medf" 4.9 6.0 || diag="$diag MEDIAN_FWD $medf ms not in [4.9, 6.0];"
        between "$medb" 4.9 6.0 || diag="$diag MEDIAN_BCK $medb ms not in [4.9, 6.0];"
        [ -z "$diag" ] && break
        echo "# try $try out of bounds (relay late by $late us on average):$diag"
    done
    name="IPv4 through 5 ms each way: round trip min/median/max = $mn/$med/$mx ms, median forward $medf ms, reverse $medb ms"
    if [ -n "$diag" ] && [ "$late" -gt "$LATE_US" ]; then
        skip "$name" "relay late by $late us on average (machine overloaded):$diag"
    else
        tap "$diag" "$name"
    fi
fi

# ---- 10: reply 1 of 3 dropped: twping does not end early, it waits the loss timeout (-L 2) ----
PAT="--drop b2a=1"
t0=$(date +%s%N)
COUNT=3 session w4 "$V4" "$PAT" -M -L 2
wall=$((($(date +%s%N) - t0) / 1000000))
chk "SENT LOST" "$(mget "$out" "$NETSIM_A4" SENT LOST)" "3 1"
[ "$wall" -ge 2000 ] || diag="$diag ended after $wall ms, within the 2 s loss timeout;"
tap "$diag" "IPv4 -M ($PAT), -L 2: LOST 1, waited the loss timeout ($wall ms)"

# ---- 11: both daemons stop cleanly on SIGTERM ----
diag=""
names=(v4 v6)
for i in 0 1; do
    kill -TERM "${DPIDS[$i]}" 2>/dev/null
    for ((t = 0; t < 100; t++)); do
        kill -0 "${DPIDS[$i]}" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "${DPIDS[$i]}" 2>/dev/null && diag="$diag twampd ${names[$i]} ignored SIGTERM for 10 s;"
    wait "${DPIDS[$i]}"
    rc=$?
    [ $rc -eq 0 ] || diag="$diag twampd ${names[$i]} exited $rc: $(tail -3 "$NETSIM_TMP/${names[$i]}.log" | tr '\n' ' ');"
done
DPIDS=()
tap "$diag" "twampd (IPv4 and IPv6) exits 0 on SIGTERM"
