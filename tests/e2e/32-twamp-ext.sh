#!/bin/bash
# 32-twamp-ext.sh - twping's TWAMP extensions against twampd on loopback: RFC 5938 individual
# session control (Start-N/Stop-N seen on the control stream through a recording relay),
# RFC 6038 reflected octets, RFC 7750 DSCP/ECN reports, RFC 8186 PTP timestamps; a clear
# refusal when the server does not offer an extension; kernel TX timestamp reporting in
# twping and owping; --rt. TAP output.
. "$(dirname "${BASH_SOURCE[0]}")/lib/ping.sh"

echo "1..14"
PT=$(free_port tcp 4)
PO=$(free_port tcp 4)
PX=$(free_port tcp 4)
confdir "$TMP/tw" twamp O
confdir "$TMP/ow" owamp O
start_daemon "$TWAMPD" "$TMP/tw" 127.0.0.1 "$PT" "$TMP/tw.log" || exit 1
start_daemon "$OWAMPD" "$TMP/ow" 127.0.0.1 "$PO" "$TMP/ow.log" || exit 1

# A TCP relay PX -> PT that records what the client sends (open mode: plain control octets).
python3 - "$PX" "$PT" "$TMP/c2s.bin" <<'PY' &
import socket, sys, threading
lport, dport, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", lport)); ls.listen(1)
open(path + ".ready", "w").close()
c, _ = ls.accept()
s = socket.create_connection(("127.0.0.1", dport))
def pump(a, b, log):
    while True:
        d = a.recv(4096)
        if not d:
            break
        if log:
            log.write(d); log.flush()
        b.sendall(d)
    b.shutdown(socket.SHUT_WR)
with open(path, "wb") as log:
    t = threading.Thread(target=pump, args=(s, c, None)); t.start()
    pump(c, s, log); t.join()
PY
PIDS+=($!)
for i in $(seq 50); do [ -e "$TMP/c2s.bin.ready" ] && break; sleep 0.1; done

RUN=(-c 50 -i 0.005f -L 0.5)
# lost0 FILE COUNT: the human summary says COUNT sent, 0 lost.
lost0() { grep -q "^$2 sent, 0 lost" "$1"; }

out=$TMP/indiv.out
"$TWPING" --individual "${RUN[@]}" "127.0.0.1:$PX" >"$out" 2>&1 && lost0 "$out" 50
tap $? "--individual: 50 sent, 0 lost" "$out"

# Set-Up-Response (164) and Request-TW-Session (112), then Start-N-Sessions (7) listing one
# SID, and at the end Stop-N-Sessions (9): RFC 5938 sections 3.2 and 3.3; no Start-Sessions.
python3 - "$TMP/c2s.bin" <<'PY' >"$TMP/c2s.txt" 2>&1
import sys
b = open(sys.argv[1], "rb").read()
n = 16 + 16 + 16  # command, MBZ, Number of Sessions; one SID; HMAC
print(len(b), list(b[276:277]), list(b[-n:-n + 1]))
assert len(b) == 164 + 112 + 2 * n, len(b)
assert b[276] == 7 and int.from_bytes(b[288:292], "big") == 1
assert b[-n] == 9 and int.from_bytes(b[-n + 12:-n + 16], "big") == 1
assert b[276 + 16:276 + 32] == b[-n + 16:-n + 32]  # the same SID
PY
tap $? "--individual: the client sent Start-N-Sessions and Stop-N-Sessions" "$TMP/c2s.txt"

out=$TMP/refl.out
"$TWPING" --reflect-octets 8 -s 16 "${RUN[@]}" "127.0.0.1:$PT" >"$out" 2>&1 && lost0 "$out" 50 &&
    grep -q "^reflected octets: 8 per reply, 0 mismatches" "$out"
tap $? "--reflect-octets 8 -s 16: 0 lost, 0 mismatches" "$out"

out=$TMP/dscp.out
"$TWPING" --dscp-ecn -D EF "${RUN[@]}" "127.0.0.1:$PT" >"$out" 2>&1 && lost0 "$out" 50 &&
    grep -q "^reflector saw DSCP 46 ECN 0 (sent DSCP 46 ECN 0)$" "$out"
tap $? "--dscp-ecn -D EF: the reflector saw DSCP 46 (EF, RFC 3246)" "$out"

# PTP timestamps: round trip and both one-way times sane (an epoch mix-up shows as ~70 years)
out=$TMP/ptp.out
"$TWPING" --ptp "${RUN[@]}" "127.0.0.1:$PT" >"$out" 2>&1 && lost0 "$out" 50 &&
    awk -F'[=/ ]+' '/^(round-trip|send|reflect) time min/ { n++; if ($7 < 0 || $7 > 100) bad = 1 }
                    END { exit !(n == 3 && !bad) }' "$out"
tap $? "--ptp: 0 lost, round trip and one-way medians between 0 and 100 ms" "$out"

out=$TMP/all.out
"$TWPING" --individual --reflect-octets 4 --dscp-ecn --ptp -D AF41 "${RUN[@]}" "127.0.0.1:$PT" \
    >"$out" 2>&1 && lost0 "$out" 50 && grep -q "reflected octets: 4 per reply, 0 mismatches" "$out" &&
    grep -q "^reflector saw DSCP 34 ECN 0" "$out"
tap $? "all four extensions together: 0 lost, octets reflected, DSCP 34 (AF41) seen" "$out"

out=$TMP/plain.out
"$TWPING" "${RUN[@]}" "127.0.0.1:$PT" >"$out" 2>&1 && lost0 "$out" 50 &&
    ! grep -qE "^reflected octets|^reflector saw" "$out"
tap $? "open-mode server, no extension asked: 0 lost, no extension lines" "$out"

out=$TMP/refuse.out
"$TWPING" --individual -c 5 "127.0.0.1:$PO" >"$out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -qx "twping: server does not offer individual session control (RFC 5938)" "$out"
tap $? "a server without RFC 5938 in its greeting: one clear line, failure exit (exit $rc)" "$out"

out=$TMP/txtw.out
"$TWPING" "${RUN[@]}" "127.0.0.1:$PT" >"$out" 2>&1 &&
    grep -qE "^send lateness p50/p99/max = [0-9.]+/[0-9.]+/[0-9.]+ us \(kernel TX timestamps on 50 of 50 packets\)$" "$out" &&
    grep -q "^stamp-to-wire bias p50/p99 = " "$out" &&
    grep -q "^round trip T1: kernel TX timestamp (50 packets), timestamp in packet (0)$" "$out"
tap $? "twping: kernel TX timestamps on 50 of 50 packets, T1 from them" "$out"

out=$TMP/txow.out
"$OWPING" -t "${RUN[@]}" "127.0.0.1:$PO" >"$out" 2>&1 && lost0 "$out" 50 &&
    grep -q "(kernel TX timestamps on 50 of 50 packets)$" "$out"
tap $? "owping: kernel TX timestamps on 50 of 50 packets" "$out"

out=$TMP/json.out
"$TWPING" --json --reflect-octets 8 --dscp-ecn -D EF "${RUN[@]}" "127.0.0.1:$PT" >"$out" 2>&1
python3 - "$out" <<'PY' >"$TMP/json.txt" 2>&1
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
t = docs[0]["sessions"][0]["send"]
print(t)
assert t["packets"] == 50 and t["tx_timestamped"] == 50 and t["tx_timestamp_source"] == "kernel"
assert t["round_trip_t1"] == {"tx_timestamp": 50, "packet": 0}
assert t["reflect_octets"] == {"octets": 8, "mismatches": 0}
assert t["dscp_ecn"]["seen"] == {"dscp": 46, "ecn": 0} and not t["dscp_ecn"]["dscp_changed"]
PY
tap $? "--json: the send object (TX timestamps, T1, reflected octets, DSCP seen)" "$TMP/json.txt"

out=$TMP/quiet.out
"$TWPING" -M "${RUN[@]}" "127.0.0.1:$PT" >"$out" 2>&1 && summaries_ok "$out" 50 1 &&
    ! grep -q "lateness" "$out"
tap $? "-M: machine summary only, no human timing lines" "$out"

out=$TMP/rt.out
"$TWPING" --rt "${RUN[@]}" "127.0.0.1:$PT" >"$out" 2>&1 && lost0 "$out" 50
rc=$?
if [ "$(id -u)" = 0 ]; then
    [ $rc -eq 0 ] && ! grep -q "not permitted" "$out"
    tap $? "--rt as root: real-time scheduling, 0 lost" "$out"
else
    tap $rc "--rt (not root): 0 lost" "$out"
fi

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    out=$TMP/rtuser.out
    setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
        "$TWPING" --rt "${RUN[@]}" "127.0.0.1:$PT" >"$out" 2>&1 && lost0 "$out" 50 &&
        [ "$(grep -c "^twping: --rt: real-time scheduling not permitted (.*): using normal scheduling$" "$out")" -eq 1 ]
    tap $? "--rt without the privilege: one warning line, 0 lost" "$out"
else
    n=$((n + 1)); echo "ok $n # SKIP needs root and setpriv to run unprivileged"
fi
