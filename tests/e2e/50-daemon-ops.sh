#!/bin/bash
# 50-daemon-ops.sh - the daemons operated the way a router runs them: privilege drop to -U/-G
# (no capability left), start-up as an unprivileged user holding only CAP_NET_BIND_SERVICE (as
# the systemd units do), refusal to stay root, the pid file, SIGTERM, SIGHUP key reload while a
# session runs, and the configuration check (-n). owampd in full, then the basics for twampd.
# TAP output; needs root (skips otherwise). Daemons run under $RUN_WRAPPER when set.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${OWAMP_TOOLS_BUILD:-$ROOT/build} # where make put what it built
BIN_DIR=$BUILD_DIR/bin
OWAMPD=$BIN_DIR/owampd
TWAMPD=$BIN_DIR/twampd
OWPING=$BIN_DIR/owping
TWPING=$BIN_DIR/twping
read -ra WRAP <<<"${RUN_WRAPPER:-}"
TERM_TICKS=40 # SIGTERM must end a daemon within 40 x 50 ms (4 times longer under a wrapper)
[ ${#WRAP[@]} -gt 0 ] && TERM_TICKS=160
TUSER=owamptest
PLAN=36

n=0
# tap STATUS NAME [DIAGNOSTIC]: one TAP line for a check whose command exited with STATUS.
tap() {
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        [ -n "${3:-}" ] && echo "# $3" | head -5
    fi
    return 0
}

skip_all() {
    local i
    echo "1..$PLAN"
    for ((i = 1; i <= PLAN; i++)); do
        echo "ok $i # SKIP $1"
    done
    exit 0
}

[ "$(id -u)" -eq 0 ] || skip_all "not root"
if ! command -v useradd >/dev/null || ! command -v python3 >/dev/null; then
    skip_all "no useradd or python3"
fi
for b in "$OWAMPD" "$TWAMPD" "$OWPING" "$TWPING"; do
    [ -x "$b" ] || skip_all "$b not built"
done

TMP=$(mktemp -d -t daemon-ops.XXXXXX)
chmod 755 "$TMP"
PIDS=()
PIDFILES=() # of daemons started without -Z: found through their pid file
created_user=0
cleanup() {
    local p f
    for f in "${PIDFILES[@]:-}"; do
        [ -s "$f" ] && PIDS+=("$(cat "$f")")
    done
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null
    done
    sleep 0.2
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && kill -9 "$p" 2>/dev/null
    done
    if [ "$created_user" -eq 1 ]; then
        userdel "$TUSER" 2>/dev/null
        getent group "$TUSER" >/dev/null && groupdel "$TUSER" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if ! getent passwd "$TUSER" >/dev/null; then
    useradd -r -M -d /nonexistent -s /usr/sbin/nologin -U "$TUSER" || skip_all "useradd failed"
    created_user=1
fi
TUID=$(id -u "$TUSER")
TGID=$(id -g "$TUSER")
TGROUP=$(id -gn "$TUSER")
echo "1..$PLAN"

# Free loopback ports, all from one python3 run (its start-up can be slow): five TCP ports,
# one UDP port (the light reflector), then a TCP port below 1024 (which needs
# CAP_NET_BIND_SERVICE), or 0 when none is free.
read -r P_OW P_ROOT P_CHECK P_TW P_SPARE P_LIGHT P_LOW < <(python3 -c '
import socket
held = []
def grab(port, kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        s.close()
        return 0
    held.append(s)
    return s.getsockname()[1]
ports = [grab(0) for _ in range(5)] + [grab(0, socket.SOCK_DGRAM)]
low = next((p for p in range(900, 1000) if grab(p)), 0)
print(*ports, low)')

hex() { printf %s "$1" | od -An -tx1 | tr -d ' \n'; }

# alive PID: the process exists and is not a zombie.
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# bg LOG CMD...: start CMD in the background, output to LOG; its pid in DPID.
bg() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 &
    DPID=$!
    PIDS+=("$DPID")
}

# wait_port PORT PID: true once PORT accepts connections, false if PID died or 10 s passed.
wait_port() {
    local i
    for ((i = 0; i < 200; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        alive "$2" || return 1
        sleep 0.05
    done
    return 1
}

# wait_ready PIDFILE PID: true once PIDFILE holds PID (10 s at most). The daemon binds its
# ports while privileged and writes its pid only once it has dropped its privileges and is
# about to serve: a listening port alone does not say the drop is done.
wait_ready() {
    local i
    for ((i = 0; i < 200; i++)); do
        [ "$(cat "$1" 2>/dev/null)" = "$2" ] && return 0
        alive "$2" || return 1
        sleep 0.05
    done
    return 1
}

# term_wait PID: SIGTERM, then the exit status if it ended within TERM_TICKS, else 124.
term_wait() {
    local i
    kill -TERM "$1" 2>/dev/null
    for ((i = 0; i < TERM_TICKS; i++)); do
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

# status_is PID FIELD VALUE: every value on the FIELD line of /proc/PID/status is VALUE.
status_is() {
    local pid=$1 field=$2 want=$3 got
    got=$(awk -v f="$field:" '$1 == f { $1 = ""; print }' "/proc/$pid/status" 2>/dev/null)
    [ -n "$got" ] || { echo "$field: no such line"; return 1; }
    for v in $got; do
        [ "$v" = "$want" ] || { echo "$field:$got (want $want)"; return 1; }
    done
}

# caps_zero PID SET...: each capability set (Eff, Prm, ...) of PID is empty.
caps_zero() {
    local pid=$1 s
    shift
    for s in "$@"; do
        status_is "$pid" "Cap$s" 0000000000000000 || return 1
    done
}

# sessions_ok FILE PACKETS DIRECTIONS: -M output with DIRECTIONS summaries of PACKETS each,
# none lost.
sessions_ok() {
    awk -v n="$2" -v d="$3" '$1 == "SENT" { k++; s += $2 } $1 == "LOST" { l += $2 }
        END {
            if (k != d || s != n * d || l != 0) {
                printf "%d summaries, %d sent, %d lost\n", k, s, l
                exit 1
            }
        }' "$1"
}

# one_error FILE PATTERN: FILE is exactly one line and it matches PATTERN.
one_error() {
    if [ "$(wc -l <"$1")" -ne 1 ] || ! grep -qE "$2" "$1"; then
        echo "got: $(head -3 "$1")"
        return 1
    fi
}

# confdir DIR PROTO SRCNODE [EXTRA-CONF-LINE]: a configuration the test user can read (for
# SIGHUP) but not write, with identity alice, and a run directory it owns.
confdir() {
    local d=$1 p=$2
    mkdir -p "$d/run"
    printf 'srcnode %s\n%s\n' "$3" "${4:-}" >"$d/$p-server.conf"
    printf 'limit root with bandwidth=0, allow_open_mode=on\nassign default root\n' \
        >"$d/$p-server.limits"
    printf 'alice\t%s\n' "$(hex "alice's pass-phrase")" >"$d/$p-server.pfs"
    chown -R "root:$TGROUP" "$d"
    chmod 750 "$d"
    chmod 640 "$d/$p-server".*
    chown "$TUSER:$TGROUP" "$d/run"
}

# bob_key: identity bob's key line (the client's -k file; added to the daemon's on reload).
bob_key() { printf 'bob\t%s\n' "$(hex "bob's pass-phrase")"; }

# ---------------------------------------------------------------- owampd: privilege drop
D=$TMP/ow
PORT=$P_OW
confdir "$D" owamp "127.0.0.1:$PORT"
bg "$TMP/ow.log" "${WRAP[@]}" "$OWAMPD" -Z -c "$D" -U "$TUSER" -G "$TUSER" -R "$D/run"
OWPID=$DPID
if wait_port "$PORT" "$OWPID" && wait_ready "$D/run/owampd.pid" "$OWPID"; then
    tap 0 "owampd -U/-G starts and listens"
else
    tap 1 "owampd -U/-G starts and listens" "$(tail -3 "$TMP/ow.log")"
fi
msg=$(status_is "$OWPID" Uid "$TUID" && status_is "$OWPID" Gid "$TGID" &&
    status_is "$OWPID" Groups "$TGID")
tap $? "owampd runs as $TUSER: real, effective, saved and fs uid/gid, no other groups" "$msg"
msg=$(caps_zero "$OWPID" Eff Prm Inh Amb)
tap $? "owampd keeps no effective, permitted, inheritable or ambient capability" "$msg"
msg=$(caps_zero "$OWPID" Bnd && status_is "$OWPID" NoNewPrivs 1)
tap $? "owampd empties its bounding set and sets no_new_privs" "$msg"
"$OWPING" -c 10 -i 0.01 -L 1 -M "127.0.0.1:$PORT" >"$TMP/ow1.out" 2>&1
rc=$?
msg=$(sessions_ok "$TMP/ow1.out" 10 2)
tap $((rc | $?)) "owping against the unprivileged owampd: 2 x 10 sent, 0 lost (exit $rc)" "$msg"

# ------------------------------------------------------------------------ pid file
[ "$(cat "$D/run/owampd.pid" 2>/dev/null)" = "$OWPID" ]
tap $? "pid file $D/run/owampd.pid holds the daemon's pid"
"${WRAP[@]}" "$OWAMPD" -Z -c "$D" -U "$TUSER" -G "$TUSER" -R "$D/run" >"$TMP/ow2.log" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "already running" "$TMP/ow2.log"
tap $? "a second owampd with the same -R and port exits non-zero: already running (exit $rc)" \
    "$(tail -2 "$TMP/ow2.log")"
PIDFILES+=("$D/run/owampd.pid")
"${WRAP[@]}" "$OWAMPD" -c "$D" -U "$TUSER" -G "$TUSER" -R "$D/run" -S "127.0.0.1:$P_SPARE" \
    >"$TMP/ow3.log" 2>&1
rc=$?
sleep 0.2
[ $rc -ne 0 ] && grep -q "already running" "$TMP/ow3.log" && alive "$OWPID"
tap $? "a second owampd in the background (no -Z) fails before detaching (exit $rc)" \
    "$(tail -2 "$TMP/ow3.log")"

# ------------------------------------------------------- SIGHUP reloads the key file
bob_key >"$TMP/bob.key"
"$OWPING" -A A -u bob -k "$TMP/bob.key" -c 5 -i 0.01 -M "127.0.0.1:$PORT" >"$TMP/bob0.out" 2>&1
tap $((!$?)) "before the reload, identity bob is refused"
"$OWPING" -c 200 -i 0.01f -L 1 -M "127.0.0.1:$PORT" >"$TMP/long.out" 2>&1 &
LONG=$!
sleep 0.8
alive "$LONG"
running=$?
bob_key >>"$D/owamp-server.pfs"
kill -HUP "$OWPID" 2>/dev/null
sleep 0.3
"$OWPING" -A A -u bob -k "$TMP/bob.key" -c 10 -i 0.01 -L 1 -M "127.0.0.1:$PORT" >"$TMP/bob1.out" 2>&1
rc=$?
msg=$(sessions_ok "$TMP/bob1.out" 10 2)
tap $((rc | $?)) "after SIGHUP, owping -A A -u bob -k FILE succeeds (exit $rc)" "$msg"
wait "$LONG"
rc=$?
msg=$(sessions_ok "$TMP/long.out" 200 2)
tap $((running | rc | $?)) "a session running across the SIGHUP completes: 2 x 200 sent, 0 lost" "$msg"
printf 'carol\tnot-hex\n' >>"$D/owamp-server.pfs"
kill -HUP "$OWPID" 2>/dev/null
sleep 0.3
"$OWPING" -A A -u bob -k "$TMP/bob.key" -c 5 -i 0.01 -L 1 -M "127.0.0.1:$PORT" >"$TMP/bob2.out" 2>&1
rc=$?
grep -q "reload failed" "$TMP/ow.log" && alive "$OWPID"
tap $((rc | $?)) "a bad key file on SIGHUP is reported and the old keys stay in use" \
    "$(grep -i reload "$TMP/ow.log" | tail -2)"

# ------------------------------------------------------------------------- SIGTERM
t0=$(date +%s%N)
term_wait "$OWPID"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
tap $rc "SIGTERM: owampd exits with status 0 within $((TERM_TICKS / 20)) s (status $rc, ${ms} ms)"
[ ! -e "$D/run/owampd.pid" ]
tap $? "the pid file is removed on SIGTERM"

# ------------------------------------------------------------------ refusing root
R=$TMP/root
PORT=$P_ROOT
confdir "$R" owamp ":$PORT"
"${WRAP[@]}" "$OWAMPD" -Z -c "$R" -R "$R/run" >"$TMP/root1.log" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "refusing to run as root" "$TMP/root1.log"
tap $? "as root without -U or -f, owampd -Z exits non-zero: refusing to run as root (exit $rc)" \
    "$(tail -2 "$TMP/root1.log")"
PIDFILES+=("$R/run/owampd.pid")
"${WRAP[@]}" "$OWAMPD" -c "$R" -R "$R/run" >"$TMP/root2.log" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "refusing to run as root" "$TMP/root2.log"
tap $? "the same without -Z: non-zero, and the reason on stderr, not only in syslog (exit $rc)" \
    "$(tail -2 "$TMP/root2.log")"
printf 'rootfolly\n' >>"$R/owamp-server.conf"
bg "$TMP/root3.log" "${WRAP[@]}" "$OWAMPD" -Z -c "$R" -R "$R/run"
wait_port "$PORT" "$DPID" && status_is "$DPID" Uid 0 >/dev/null
tap $? "rootfolly in the configuration lets owampd run as root" "$(tail -2 "$TMP/root3.log")"
# srcnode ":port" is the default listener: every address, IPv6 socket taking IPv4 too.
"$OWPING" -c 10 -i 0.01 -L 1 -M "127.0.0.1:$PORT" >"$TMP/wild.out" 2>&1
rc=$?
msg=$(sessions_ok "$TMP/wild.out" 10 2)
tap $((rc | $?)) "an IPv4 client of the dual-stack wildcard listener gets its sessions (exit $rc)" \
    "$msg $(grep -i refused "$TMP/wild.out" | head -1)"
term_wait "$DPID"

# ----------------------------------------------------------- configuration check (-n)
C=$TMP/check
confdir "$C" owamp "127.0.0.1:$P_CHECK"
"$OWAMPD" -n -c "$C" >"$TMP/n.out" 2>"$TMP/n.err"
rc=$?
[ $rc -eq 0 ] && grep -q "configuration OK" "$TMP/n.out" && [ ! -s "$TMP/n.err" ]
tap $? "owampd -n on a good configuration: OK, exit 0"
cp "$C/owamp-server.conf" "$TMP/good.conf"
printf 'no_such_key 1\n' >>"$C/owamp-server.conf"
"$OWAMPD" -n -c "$C" >/dev/null 2>"$TMP/n.err"
rc=$?
msg=$(one_error "$TMP/n.err" "owamp-server\.conf:3: .*no_such_key")
tap $((!rc | $?)) "owampd -n: unknown key -> non-zero, one message with file:line (exit $rc)" "$msg"
cp "$TMP/good.conf" "$C/owamp-server.conf"
cp "$C/owamp-server.limits" "$TMP/good.limits"
printf 'limit small wiht bandwidth=1m, parent=root\n' >>"$C/owamp-server.limits"
"$OWAMPD" -n -c "$C" >/dev/null 2>"$TMP/n.err"
rc=$?
msg=$(one_error "$TMP/n.err" "owamp-server\.limits:3: ")
tap $((!rc | $?)) "owampd -n: limits syntax error -> non-zero, one message with file:line" "$msg"
cp "$TMP/good.limits" "$C/owamp-server.limits"
printf 'bob\t62zz6273\n' >>"$C/owamp-server.pfs"
"$OWAMPD" -n -c "$C" >/dev/null 2>"$TMP/n.err"
rc=$?
msg=$(one_error "$TMP/n.err" "owamp-server\.pfs:2: .*hex")
tap $((!rc | $?)) "owampd -n: bad hex in the key file -> non-zero, one message with file:line" "$msg"

# ------------- unprivileged start with CAP_NET_BIND_SERVICE only (the systemd unit's way)
A=$TMP/amb
LOW=$P_LOW
confdir "$A" owamp "127.0.0.1:$LOW"
if command -v setpriv >/dev/null && [ "$LOW" -gt 0 ]; then
    bg "$TMP/amb.log" setpriv --reuid "$TUSER" --regid "$TGID" --clear-groups \
        --inh-caps +net_bind_service --ambient-caps +net_bind_service \
        "${WRAP[@]}" "$OWAMPD" -Z -c "$A" -R "$A/run"
    wait_port "$LOW" "$DPID" &&
        "$OWPING" -c 10 -i 0.01 -L 1 -M "127.0.0.1:$LOW" >"$TMP/amb.out" 2>&1 &&
        sessions_ok "$TMP/amb.out" 10 2 >/dev/null
    tap $? "started as $TUSER with only CAP_NET_BIND_SERVICE, owampd serves port $LOW" \
        "$(tail -2 "$TMP/amb.log")"
    msg=$(status_is "$DPID" Uid "$TUID" && caps_zero "$DPID" Eff Prm Amb)
    tap $? "after binding it gives up CAP_NET_BIND_SERVICE (effective, permitted, ambient)" "$msg"
    term_wait "$DPID"
else
    tap 0 "unprivileged start # SKIP no setpriv or no free port below 1024"
    tap 0 "capabilities after the unprivileged start # SKIP no setpriv or free low port"
fi

# ----------------------------------------------------------------- twampd basics
W=$TMP/tw
PORT=$P_TW
confdir "$W" twamp "127.0.0.1:$PORT" "light 127.0.0.1:$P_LIGHT"
bg "$TMP/tw.log" "${WRAP[@]}" "$TWAMPD" -Z -c "$W" -U "$TUSER" -G "$TUSER" -R "$W/run"
TWPID=$DPID
wait_port "$PORT" "$TWPID" && wait_ready "$W/run/twampd.pid" "$TWPID"
tap $? "twampd -U/-G starts and listens" "$(tail -3 "$TMP/tw.log")"
msg=$(status_is "$TWPID" Uid "$TUID" && status_is "$TWPID" Gid "$TGID" &&
    caps_zero "$TWPID" Eff Prm Inh Amb)
tap $? "twampd runs as $TUSER with no capability" "$msg"
"$TWPING" -c 10 -i 0.01 -L 1 -M "127.0.0.1:$PORT" >"$TMP/tw1.out" 2>&1
rc=$?
msg=$(sessions_ok "$TMP/tw1.out" 10 1)
tap $((rc | $?)) "twping against the unprivileged twampd: 10 sent, 0 lost (exit $rc)" "$msg"
[ "$(cat "$W/run/twampd.pid" 2>/dev/null)" = "$TWPID" ]
tap $? "twampd pid file holds its pid"
"${WRAP[@]}" "$TWAMPD" -Z -c "$W" -U "$TUSER" -G "$TUSER" -R "$W/run" >"$TMP/tw2.log" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "already running" "$TMP/tw2.log"
tap $? "a second twampd with the same -R exits non-zero: already running (exit $rc)" \
    "$(tail -2 "$TMP/tw2.log")"
bob_key >>"$W/twamp-server.pfs"
kill -HUP "$TWPID" 2>/dev/null
sleep 0.3
"$TWPING" -A A -u bob -k "$TMP/bob.key" -c 10 -i 0.01 -L 1 -M "127.0.0.1:$PORT" >"$TMP/tw3.out" 2>&1
rc=$?
msg=$(sessions_ok "$TMP/tw3.out" 10 1)
tap $((rc | $?)) "after SIGHUP, twping -A A -u bob succeeds (exit $rc)" "$msg"
"$TWPING" --stamp -A A -u bob -k "$TMP/bob.key" -c 10 -i 0.01 -L 1 -M "127.0.0.1:$P_LIGHT" \
    >"$TMP/tw4.out" 2>&1
rc=$?
msg=$(sessions_ok "$TMP/tw4.out" 10 1)
tap $((rc | $?)) "after SIGHUP, the STAMP reflector (light) knows bob's key too (exit $rc)" "$msg"
term_wait "$TWPID"
rc=$?
[ $rc -eq 0 ] && [ ! -e "$W/run/twampd.pid" ]
tap $? "SIGTERM: twampd exits 0 within $((TERM_TICKS / 20)) s and removes its pid file (status $rc)"
"$TWAMPD" -n -c "$W" >"$TMP/twn.out" 2>&1
tap $? "twampd -n on a good configuration: exit 0" "$(cat "$TMP/twn.out")"
printf 'diskfudge 2\n' >>"$W/twamp-server.conf"
"$TWAMPD" -n -c "$W" >/dev/null 2>"$TMP/twn.err"
rc=$?
msg=$(one_error "$TMP/twn.err" "twamp-server\.conf:3: .*diskfudge")
tap $((!rc | $?)) "twampd -n: OWAMP-only key -> non-zero, one message with file:line" "$msg"

# ------------------------------------------------- the example configuration files
for d in owampd twampd; do
    bin=$OWAMPD
    [ $d = twampd ] && bin=$TWAMPD
    "$bin" -n -c "$ROOT/contrib/config" >"$TMP/ex.out" 2>&1
    tap $? "contrib/config passes $d -n" "$(cat "$TMP/ex.out")"
done

[ "$n" -eq "$PLAN" ] || echo "# planned $PLAN checks, ran $n"
