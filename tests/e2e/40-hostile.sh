#!/bin/bash
# 40-hostile.sh - owampd and twampd against hostile control traffic. One daemon of each runs
# with a short SERVWAIT (controltimeout 2) and a limits file with restricted identities (bob:
# test_sessions=1, carol: bandwidth=1000; dave: test_sessions=1, delete_on_fetch off).
# tests/helpers/hostile does a real handshake (open, authenticated, encrypted, mixed) and
# then sends one crafted message per case (or runs rounds of sessions on one connection). For
# every case the script checks:
#   - what the daemon answered (connection closed, Server-Start or Accept-Session value);
#   - that the daemon logged exactly one line naming the peer when it refused or closed (0 when
#     it accepted; 0 or 1 when the peer itself hung up mid-message);
#   - that the daemon is still alive (a crash is restarted so the next cases still run);
#   - that the owping/twping loop running meanwhile in the background (-c 300 -i 0.01f -R -M,
#     over and over) lost nothing: a run that lost packets is charged to the case running when
#     its first lost packet was sent (from the raw records).
# TAP output, printed once every case is done (the two tables run in parallel). About 25 s on
# an idle 2-CPU machine. RUN_WRAPPER (valgrind) prefixes the daemons.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${OWAMP_TOOLS_BUILD:-$ROOT/build} # where make put what it built
BIN_DIR=$BUILD_DIR/bin
OWAMPD=$BIN_DIR/owampd
TWAMPD=$BIN_DIR/twampd
OWPING=$BIN_DIR/owping
TWPING=$BIN_DIR/twping
HOSTILE=$BUILD_DIR/tests/helpers/hostile
TMP=$(mktemp -d -t e2e-hostile.XXXXXX)
BG_PIDS=()
LATE_MS=${RUN_WRAPPER:+5000}
LATE_MS=${LATE_MS:-500}

cleanup() {
    local f
    touch "$TMP/stop"
    for f in "$TMP"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
    for f in "${BG_PIDS[@]:-}"; do [ -n "$f" ] && kill "$f" 2>/dev/null; done
    sleep 0.2
    for f in "$TMP"/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
    [ -n "${KEEP_TMP:-}" ] && echo "# kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ -x "$HOSTILE" ] || make -s -C "$ROOT" "${HOSTILE#"$ROOT"/}" >/dev/null 2>&1
for b in "$OWAMPD" "$TWAMPD" "$OWPING" "$HOSTILE"; do
    if [ ! -x "$b" ]; then
        echo "1..0 # SKIP $b not built (run make check)"
        exit 0
    fi
done

now() { echo "$EPOCHREALTIME"; }

free_port() {
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

hexof() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }

# confdir DIR owamp|twamp MODES TESTPORTS: config, limits and pass-phrases (alice, bob, carol,
# dave).
confdir() {
    mkdir -p "$1/var"
    cat >"$1/$2-server.conf" <<CONF
rootfolly
authmode $3
vardir $1/var
testports $4
controltimeout 2
CONF
    cat >"$1/$2-server.limits" <<LIM
limit root with disk=0, bandwidth=0, delete_on_fetch=on, allow_open_mode=on
limit one with parent=root, test_sessions=1
limit slow with parent=root, bandwidth=1000
limit keep with parent=root, test_sessions=1, delete_on_fetch=off
assign default root
assign user alice root
assign user bob one
assign user carol slow
assign user dave keep
LIM
    cp "$PFS" "$1/$2-server.pfs"
}

# start_daemon ow|tw: start (or restart) the daemon of that name; its pid in $TMP/NAME.pid.
start_daemon() {
    local name=$1 bin=$OWAMPD port=$OW_PORT i
    [ "$name" = tw ] && bin=$TWAMPD port=$TW_PORT
    ${RUN_WRAPPER:-} "$bin" -Z -f -c "$TMP/$name" -R "$TMP/$name/var" -S "127.0.0.1:$port" \
        >>"$TMP/$name.log" 2>&1 &
    echo $! >"$TMP/$name.pid"
    for i in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# background ow|tw: run the client again and again until $TMP/stop exists; one line per run
# in $TMP/bg.NAME: "start end ok when", ok = exit 0 and every summary SENT 300 LOST 0, when
# (failed runs) = the send time of the first packet lost, from the raw records (-R).
background() {
    local name=$1 client=$OWPING port=$OW_PORT want=2 t0 rc out=$TMP/bg.$1.out
    [ "$name" = tw ] && client=$TWPING port=$TW_PORT want=1
    while [ ! -e "$TMP/stop" ]; do
        t0=$(now)
        timeout 30 "$client" -c 300 -i 0.01f -L 1 -R -M "127.0.0.1:$port" >"$out" 2>&1
        rc=$?
        awk -v want=$want -v rc=$rc -v t0="$t0" -v t1="$(now)" '
            function unix(ntp) { return ntp / 4294967296 - 2208988800 }
            $1 ~ /^[0-9]+$/ && NF >= 8 {
                t = unix($2)
                if ($1 + 0 < expect) { expect = 0 }
                if ($1 + 0 > expect && (!first || t - ($1 - expect) * 0.01 < first)) {
                    first = t - ($1 - expect) * 0.01
                }
                if ($5 == 0 && (!first || t < first)) { first = t }
                expect = $1 + 1; last = t
            }
            $1 == "SUMMARY" { n++ } $1 == "SENT" { s++; if ($2 != 300) bad = 1 }
            $1 == "LOST" && $2 != 0 { bad = 1 }
            END {
                ok = rc == 0 && n == want && s == want && !bad
                if (!first) { first = last ? last + 0.01 : t0 }
                printf "%s %s %d %.3f\n", t0, t1, ok, ok ? 0 : first
            }' "$out" >>"$TMP/bg.$name"
        tail -1 "$TMP/bg.$name" | grep -q ' 1 [0-9.]*$' ||
            grep -E '^(SENT|LOST)|ping:' "$out" | tail -4 >"$TMP/bg.$name.fail.$t0"
    done
}

# hc ow|tw DESCRIPTION RESULT_RE LINES_RE [hostile options and case]: run one case; append
# "t0 t1 ok lines result^_description^_detail^_log lines" to $TMP/cases.NAME (^_ = \037).
# LINES_RE "auto" expects 1 log line naming the peer when the result shows a refusal or a
# close by the daemon, else 0.
hc() {
    local name=$1 desc=$2 want=$3 lines_re=$4 proto=owamp port=$OW_PORT
    shift 4
    [ "$name" = tw ] && proto=twamp port=$TW_PORT
    local log=$TMP/$name.log off t0=$EPOCHREALTIME line res="" peer="" logs lines=0 ok=1 detail=""
    off=$(stat -c %s "$log")
    while read -r line; do
        case $line in
        "local "*) peer=${line#local } ;;
        "result "*) res=${line#result } ;;
        esac
    done < <("$HOSTILE" -p "$proto" -a "127.0.0.1:$port" -w 5 -L "$LATE_MS" "$@" \
        2>>"$TMP/hostile.err")
    sleep 0.05
    logs=$(tail -c +$((off + 1)) "$log" | grep -E "${peer//./\\.}([^0-9]|$)")
    [ -n "$logs" ] && lines=$(($(tr -cd '\n' <<<"$logs" | wc -c)))
    if [ "$lines_re" = auto ]; then
        lines_re=0
        [[ $res =~ accept\ [1-9]|n-ack\ [1-9]|setup-refused|closed ]] && lines_re=1
    fi
    [[ $res =~ $want ]] || ok=0 detail="result '$res', expected /$want/"
    [[ $lines =~ ^($lines_re)$ ]] ||
        ok=0 detail="$detail; $lines log lines for $peer, expected $lines_re"
    if ! kill -0 "$(<"$TMP/$name.pid")" 2>/dev/null; then
        ok=0 detail="$detail; DAEMON DIED (restarted)"
        (
            flock 9
            kill -0 "$(<"$TMP/$name.pid")" 2>/dev/null || start_daemon "$name"
        ) 9>"$TMP/$name.lock"
    fi
    logs=${logs//$'\n'/~~}
    printf '%s %s %s %s %s\037%s\037%s\037%s\n' "$t0" "$EPOCHREALTIME" "$ok" "$lines" "$res" "$desc" \
        "${detail#; }" "${logs:+log: ${logs//~~/~~log: }}" >>"$TMP/cases.$name"
}

# The cases. A: authenticated as alice; E: encrypted; M: mixed (TWAMP).
owamp_cases() {
    local A=(-m A -u alice -k "$PFS") E=(-m E -u alice -k "$PFS")
    hc ow "stall in the middle of Set-Up-Response: closed by SERVWAIT" '^closed$' 1 -w 6 setup-stall:80 &
    hc ow "stall in the middle of Request-Session: closed by SERVWAIT" '^closed$' 1 -w 6 req-stall:64 &
    wait
    hc ow "Set-Up-Response cut at 100 of 164 octets, then close" '^closed$' '[01]' setup-cut:100
    hc ow "Set-Up-Response cut at 4 octets, then close" '^closed$' '[01]' setup-cut:4
    hc ow "mode not offered (Open + IKEv2 bit): Server-Start Accept 1" '^setup-refused 1 closed$' auto -M 0x81 setup
    hc ow "mode invalid for OWAMP (Mixed)" '^(setup-refused [1-5] )?closed$' auto -M 8 setup
    hc ow "unknown identity: Server-Start Accept 1" '^setup-refused 1 closed$' auto -m A -u mallory -k "$PFS" setup
    hc ow "wrong pass-phrase: Server-Start Accept 1" '^setup-refused 1 closed$' auto -m E -u alice -k "$WRONG" setup
    hc ow "octets sent after a refused set-up are ignored" '^setup-refused 1 closed$' auto -m A -u mallory -k "$PFS" after-close
    local cut
    for cut in 1 16 111 112 128 143; do
        hc ow "Request-Session cut at $cut of 144 octets, then close" '^closed$' '[01]' req-cut:$cut
    done
    hc ow "encrypted Request-Session cut at 120 octets, then close" '^closed$' '[01]' "${E[@]}" req-cut:120
    hc ow "Number of Schedule Slots 2^31" '^closed$' auto req-set:4:4:0x80000000
    hc ow "1100 schedule slots (more than the 1024 accepted)" '^closed$' auto req-slots:1100
    hc ow "Number of Packets 2^32-1: Accept 4" '^accept 4 open$' auto req-set:8:4:0xffffffff
    hc ow "2^24 packets on 1 exponential slot, daemon sends: answered within ${LATE_MS} ms" '^accept [04] (open|closed)$' '[01]' -s -e req-set:8:4:0x1000000
    hc ow "Padding Length 2^32-1 on a session the daemon sends: refused" '^accept [1-5] open$' auto -s req-set:64:4:0xffffffff
    hc ow "MBZ octet set in Request-Session" '^closed$' auto req-set:90:1:1
    hc ow "MBZ octet set in Start-Sessions" '^closed$' auto start-mbz:5
    hc ow "Stop-Sessions with Number of Sessions 2^31-1" '^closed$' auto stop-count:0x7fffffff
    local cmd
    for cmd in 0 5 6 7 11 255; do
        hc ow "command number $cmd (not an OWAMP client command)" '^closed$' auto cmd:$cmd
    done
    hc ow "authenticated Request-Session with one HMAC bit flipped" '^closed$' auto "${A[@]}" bad-hmac
    hc ow "encrypted Request-Session with one HMAC bit flipped" '^closed$' auto "${E[@]}" bad-hmac
    hc ow "authenticated Request-Session replayed: HMAC chain breaks" '^accept 0 closed$' auto "${A[@]}" replay
    hc ow "encrypted Request-Session replayed: HMAC chain breaks" '^accept 0 closed$' auto "${E[@]}" replay
    hc ow "third party: sender 127.0.0.2 is not the control peer" '^accept [1-5] open$' auto req-set:16:4:0x7f000002
    hc ow "third party: receiver 10.1.2.3 is not the control peer" '^accept [1-5] open$' auto -s req-set:32:4:0x0a010203
    hc ow "IPv6 session requested on an IPv4 control connection" '^accept [1-5] open$' auto req-set:1:1:6
    hc ow "limits: test_sessions=1, second request: Accept 4" '^accept 0 accept 4 open$' auto -m A -u bob -k "$PFS" req:2
    hc ow "limits: bandwidth=1000 bit/s, 100 packets/s asked: Accept 4" '^accept 4 open$' auto -m A -u carol -k "$PFS" req:1
    hc ow "70 rounds of request, start, stop, fetch on one connection (as powstream)" '^rounds 70$' 0 "${E[@]}" rounds:70
    hc ow "70 rounds with test_sessions=1 and records kept: finished sessions do not count" '^rounds 70$' 0 -m E -u dave -k "$PFS" rounds:70
}

twamp_cases() {
    local A=(-m A -u alice -k "$PFS") E=(-m E -u alice -k "$PFS") M=(-m M -u alice -k "$PFS")
    hc tw "stall in the middle of Set-Up-Response: closed by SERVWAIT" '^closed$' 1 -w 6 setup-stall:80 &
    hc tw "stall in the middle of Request-TW-Session: closed by SERVWAIT" '^closed$' 1 -w 6 req-stall:50 &
    wait
    hc tw "Set-Up-Response cut at 100 of 164 octets, then close" '^closed$' '[01]' setup-cut:100
    hc tw "mode not offered (Open + IKEv2 bit): Server-Start Accept 1" '^setup-refused 1 closed$' auto -M 0x81 setup
    hc tw "mode invalid (two security bits)" '^(setup-refused [1-5] )?closed$' auto -M 3 setup
    hc tw "unknown identity: Server-Start Accept 1" '^setup-refused 1 closed$' auto -m M -u mallory -k "$PFS" setup
    hc tw "wrong pass-phrase: Server-Start Accept 1" '^setup-refused 1 closed$' auto -m A -u alice -k "$WRONG" setup
    hc tw "octets sent after a refused set-up are ignored" '^setup-refused 1 closed$' auto -m A -u mallory -k "$PFS" after-close
    local cut
    for cut in 1 16 111; do
        hc tw "Request-TW-Session cut at $cut of 112 octets, then close" '^closed$' '[01]' req-cut:$cut
    done
    hc tw "encrypted Request-TW-Session cut at 100 octets, then close" '^closed$' '[01]' "${E[@]}" req-cut:100
    hc tw "Number of Schedule Slots 1 (unused in TWAMP)" '^(accept [0-5] open|closed)$' auto req-set:4:4:1
    hc tw "Number of Schedule Slots 2^31 (unused in TWAMP)" '^(accept [0-5] open|closed)$' auto req-set:4:4:0x80000000
    hc tw "Number of Packets 2^32-1 (unused in TWAMP)" '^(accept [0-5] open|closed)$' auto req-set:8:4:0xffffffff
    hc tw "MBZ octet set in Request-TW-Session" '^closed$' auto req-set:93:1:1
    hc tw "MBZ octet set in Start-Sessions" '^closed$' auto start-mbz:5
    hc tw "Start-N-Sessions with 2^31 SIDs" '^closed$' auto startn:0x80000000
    hc tw "Start-N-Sessions with 1025 SIDs" '^closed$' auto startn:1025
    hc tw "Start-N-Sessions with 65 unknown SIDs (more than 64 per connection)" '^closed$' auto startn:65
    hc tw "Start-N-Sessions with 2 unknown SIDs: Start-N-Ack Accept != 0" '^n-ack [1-5] open$' '[01]' startn:2
    hc tw "Stop-Sessions with Number of Sessions 2^31-1" '^(closed|open)$' auto stop-count:0x7fffffff
    local cmd
    for cmd in 0 1 4 6 8 11 255; do
        hc tw "command number $cmd (not a TWAMP client command)" '^closed$' auto cmd:$cmd
    done
    hc tw "authenticated Request-TW-Session with one HMAC bit flipped" '^closed$' auto "${A[@]}" bad-hmac
    hc tw "encrypted Request-TW-Session with one HMAC bit flipped" '^closed$' auto "${E[@]}" bad-hmac
    hc tw "mixed-mode Request-TW-Session with one HMAC bit flipped" '^closed$' auto "${M[@]}" bad-hmac
    hc tw "authenticated Request-TW-Session replayed: HMAC chain breaks" '^accept 0 closed$' auto "${A[@]}" replay
    hc tw "encrypted Request-TW-Session replayed: HMAC chain breaks" '^accept 0 closed$' auto "${E[@]}" replay
    hc tw "third party: sender 127.0.0.2 is not the control peer" '^accept [1-5] open$' auto req-set:16:4:0x7f000002
    hc tw "limits: test_sessions=1, second request: Accept 4" '^accept 0 accept 4 open$' auto -m A -u bob -k "$PFS" req:2
}

# charged NAME: the indexes (1-based) of the cases of NAME charged with a background loss: the
# case running when the first packet of a failed run was lost, else the one before it.
charged() {
    awk 'NR == FNR { if (!$3) lost[++nl] = $4; next }
         { c0[FNR] = $1; c1[FNR] = $2; nc = FNR }
         END {
             for (i = 1; i <= nl; i++) {
                 hit = 0
                 for (k = 1; k <= nc; k++) {
                     if (c0[k] <= lost[i] && lost[i] <= c1[k]) { hit = k; break }
                     if (c0[k] <= lost[i]) { hit = k }
                 }
                 print hit ? hit : 1
             }
         }' "$TMP/bg.$1" "$TMP/cases.$1"
}

report() { # NAME LABEL: TAP lines for the cases of one daemon
    local t0 t1 ok lines rest res desc detail logs k=0 bad
    bad=" $(charged "$1" | tr '\n' ' ') "
    while read -r t0 t1 ok lines rest; do
        IFS=$'\037' read -r res desc detail logs <<<"$rest"
        k=$((k + 1))
        if [[ "$bad" == *" $k "* ]]; then
            ok=0 detail="${detail:+$detail; }the background session lost packets during this case"
        fi
        n=$((n + 1))
        if [ "$ok" = 1 ]; then
            echo "ok $n - $2: $desc ($res; log lines: $lines)"
        else
            echo "not ok $n - $2: $desc"
            echo "# $detail"
            [ -n "$logs" ] && echo "$logs" | sed 's/~~/\n/g' | sed 's/^/# /'
        fi
    done <"$TMP/cases.$1"
}

# --------------------------------------------------------------------------------- set-up
PFS=$TMP/keys.pfs
WRONG=$TMP/wrong.pfs
if [ -f "$ROOT/tests/e2e/data/alice.pfs" ]; then
    cp "$ROOT/tests/e2e/data/alice.pfs" "$PFS"
else
    printf 'alice\t%s\n' "$(hexof 'correct horse battery staple')" >"$PFS"
fi
printf 'bob\t%s\ncarol\t%s\ndave\t%s\n' "$(hexof 'bob pass phrase')" "$(hexof 'carol pass phrase')" \
    "$(hexof 'dave pass phrase')" >>"$PFS"
printf 'alice\t%s\n' "$(hexof 'wrong passphrase')" >"$WRONG"
OW_PORT=$(free_port)
TW_PORT=$(free_port)
while [ "$TW_PORT" = "$OW_PORT" ]; do TW_PORT=$(free_port); done
base=$((20000 + ($$ % 200) * 100))
confdir "$TMP/ow" owamp AEO "$base-$((base + 49))"
confdir "$TMP/tw" twamp AEOM "$((base + 50))-$((base + 99))"
touch "$TMP/ow.log" "$TMP/tw.log" "$TMP/bg.ow" "$TMP/bg.tw" "$TMP/cases.ow" "$TMP/cases.tw"
if ! start_daemon ow || ! start_daemon tw; then
    echo "1..0 # SKIP a daemon did not start"
    cat "$TMP/ow.log" "$TMP/tw.log" | sed 's/^/# /'
    exit 0
fi
background ow &
BG_PIDS+=($!)
background tw &
BG_PIDS+=($!)
sleep 0.5

owamp_cases &
ow_job=$!
twamp_cases &
tw_job=$!
wait "$ow_job" "$tw_job"
touch "$TMP/stop"
wait "${BG_PIDS[@]}"

n=0
report ow owampd
report tw twampd
for d in ow tw; do
    name=owampd
    [ $d = tw ] && name=twampd
    runs=$(wc -l <"$TMP/bg.$d")
    good=$(awk '$3 == 1' "$TMP/bg.$d" | wc -l)
    n=$((n + 1))
    if [ "$runs" -gt 0 ] && [ "$good" = "$runs" ]; then
        echo "ok $n - $name: $runs background runs of 300 packets at 10 ms, none lost a packet"
    else
        echo "not ok $n - $name: $good of $runs background runs lost nothing"
        for f in "$TMP"/bg.$d.fail.*; do [ -f "$f" ] && sed 's/^/# /' "$f"; done
    fi
    n=$((n + 1))
    if kill -0 "$(cat "$TMP/$d.pid")" 2>/dev/null; then
        echo "ok $n - $name is alive at the end"
    else
        echo "not ok $n - $name is alive at the end"
    fi
done
echo "1..$n"
