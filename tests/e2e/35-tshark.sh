#!/bin/bash
# Wireshark's TWAMP dissectors read our open-mode TWAMP-Control and TWAMP-Test traffic as they
# read the reference's capture: no malformed packets, every control message and reflected
# test packet recognised. Needs root (live capture on lo) and tshark; skips loudly otherwise.
. "$(dirname "$0")/lib/ping.sh"
echo "1..4"
if [ "$(id -u)" != 0 ] || ! command -v tshark >/dev/null; then
    for i in 1 2 3 4; do echo "ok $i # SKIP needs root and tshark for a live capture"; done
    exit 0
fi
REF=${SHARED:-$ROOT/../shared}/interop/twamp-open.pcap
port=$(free_port tcp 4)
lo=$((20000 + RANDOM % 20000))
hi=$((lo + 20))
confdir "$TMP/tw" twamp AEOM
start_daemon "$TWAMPD" "$TMP/tw" 127.0.0.1 "$port" "$TMP/twampd.log" -P "$lo-$hi"
cap=$TMP/ours.pcap
# capture one twping run; "Capturing on" comes a moment before packets are really seen, so
# wait a little more, and try once more if the handshake was still missed
capture_run() {
    tshark -q -i lo -f "tcp port $port or udp portrange $lo-$hi" -w "$cap" >"$TMP/tshark.log" 2>&1 &
    tpid=$!
    PIDS+=($tpid)
    for i in $(seq 50); do grep -q "Capturing on" "$TMP/tshark.log" && break; sleep 0.1; done
    sleep 1
    "$TWPING" -A O -c 10 -i 0.01f -L 0.5 -M "127.0.0.1:$port" >"$TMP/twping.out" 2>&1
    rc=$?
    sleep 0.5
    kill -INT $tpid; wait $tpid 2>/dev/null
}
capture_run
if [ "$(tshark -r "$cap" -Y "tcp.flags.syn == 1" 2>/dev/null | wc -l)" -eq 0 ]; then
    capture_run
fi
tap $rc "twping ran while capturing" "$TMP/twping.out"

# decode: frames per protocol, and any malformed/expert errors
decode() { # file tcp-port udp-range
    tshark -r "$1" -d "tcp.port==$2,twamp.control" -d "udp.port==$3,twamp.test" \
        -T fields -e frame.protocols -e _ws.malformed -e _ws.expert.severity 2>/dev/null
}
decode "$cap" "$port" "$lo-$hi" >"$TMP/ours.txt"
ctl=$(grep -c 'twamp.control' "$TMP/ours.txt")
tst=$(grep -c 'twamp.test' "$TMP/ours.txt")
bad=$(awk -F'\t' '$2 != "" || $3 ~ /error/' "$TMP/ours.txt" | wc -l)
[ "$ctl" -ge 7 ] && [ "$tst" -eq 20 ]
tap $? "dissectors recognise our traffic: $ctl control frames, $tst test packets (want >= 7, 20)" "$TMP/ours.txt"
[ "$bad" -eq 0 ]
tap $? "no malformed or error-flagged frame in our capture ($bad)" "$TMP/ours.txt"
if [ -f "$REF" ]; then
    decode "$REF" 18620 18800-18849 >"$TMP/ref.txt"
    rbad=$(awk -F'\t' '$2 != "" || $3 ~ /error/' "$TMP/ref.txt" | wc -l)
    rtst=$(grep -c 'twamp.test' "$TMP/ref.txt")
    [ "$rbad" -eq "$bad" ] && [ "$rtst" -eq "$tst" ]
    tap $? "same decode as the reference capture ($rtst test packets, $rbad flagged)" "$TMP/ref.txt"
else
    echo "ok 4 # SKIP reference capture not found at $REF"
fi
