#!/bin/sh
# make demo: start owampd and twampd (with a TWAMP Light/STAMP reflector) on loopback in a
# scratch config directory, run owping and twping against them, print the results, stop.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BIN_DIR=${OWAMP_TOOLS_BUILD:-$top/build}/bin
dir=$(mktemp -d -t owamp-demo.XXXXXX)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

pass="demo pass-phrase"
hex=$(printf '%s' "$pass" | od -An -tx1 | tr -d ' \n')
for p in owamp twamp; do
    mkdir -p "$dir/$p"
    printf 'authmode AEO%s\nrootfolly\n' "$([ $p = twamp ] && echo M)" >"$dir/$p/$p-server.conf"
    printf 'limit all with allow_open_mode=on\nassign default all\n' >"$dir/$p/$p-server.limits"
    printf 'demo\t%s\n' "$hex" >"$dir/$p/$p-server.pfs"
done
cp "$dir/owamp/owamp-server.pfs" "$dir/demo.pfs"

wait_port() { # port
    i=0
    while [ $i -lt 50 ]; do
        python3 -c "import socket,sys;s=socket.socket();s.settimeout(0.2);s.connect(('127.0.0.1',$1))" 2>/dev/null && return 0
        sleep 0.1; i=$((i + 1))
    done
    echo "demo: daemon did not start on port $1" >&2; exit 1
}

"$BIN_DIR/owampd" -Z -f -c "$dir/owamp" -R "$dir/owamp" -S 127.0.0.1:18610 -P 18700-18749 2>"$dir/owampd.log" &
pids="$pids $!"
"$BIN_DIR/twampd" -Z -f -c "$dir/twamp" -R "$dir/twamp" -S 127.0.0.1:18620 -P 18800-18849 \
    --light 127.0.0.1:18630 2>"$dir/twampd.log" &
pids="$pids $!"
wait_port 18610; wait_port 18620

run() { echo; echo "\$ $*"; "$@" || echo "(exit status $?)"; }
cd "$dir"
run "$BIN_DIR/owping" -c 100 -i 0.01f 127.0.0.1:18610
run "$BIN_DIR/owping" -A E -u demo -k demo.pfs -c 100 -i 0.01f 127.0.0.1:18610
run "$BIN_DIR/twping" -c 100 -i 0.01f 127.0.0.1:18620
run "$BIN_DIR/twping" -A A -u demo -k demo.pfs -c 100 -i 0.01f 127.0.0.1:18620
run "$BIN_DIR/twping" --stamp -c 100 -i 0.01f 127.0.0.1:18630
