#!/bin/bash
# 92-exporter.sh - ippm_exporter against owampd, twampd and twampd --light on loopback: the
# configuration check (valid, an unknown key with file:line), continuous measurement of four
# targets (TWAMP authenticated, OWAMP encrypted, TWAMP Light, authenticated STAMP) on
# /metrics, validated by promtool in the text format and in OpenMetrics when asked for; /probe
# for every module (probe_success 1, promtool clean), an unknown module, max_probes (503), the
# scrape timeout a scraper sends; SIGHUP: a new target appears, counters of targets that stay
# go on, a broken configuration keeps the old one. TAP output.
. "$(dirname "${BASH_SOURCE[0]}")/lib/ping.sh"
. "$(dirname "${BASH_SOURCE[0]}")/lib/exporter.sh"

N=15
echo "1..$N"
if ! command -v promtool >/dev/null || ! command -v curl >/dev/null; then
    for i in $(seq $N); do echo "ok $i # SKIP promtool or curl not installed (Debian: prometheus, curl)"; done
    exit 0
fi
PO=$(free_port tcp 4)
PT=$(free_port tcp 4)
PL=$(free_port udp 4)
PE=$(free_port tcp 4)
confdir "$TMP/ow" owamp AEO
confdir "$TMP/tw" twamp AEO
start_daemon "$OWAMPD" "$TMP/ow" 127.0.0.1 "$PO" "$TMP/ow.log" || exit 1
start_daemon "$TWAMPD" "$TMP/tw" 127.0.0.1 "$PT" "$TMP/tw.log" --light "127.0.0.1:$PL" || exit 1

KEYS=$DATA/alice.pfs
modules() {
    cat <<YML
max_probes: 1
modules:
  light:   {protocol: twamp-light, count: 10, interval: 0.01}
  stamp-a: {protocol: stamp, count: 10, interval: 0.01f, auth: A, identity: alice, keyfile: $KEYS}
  owamp:   {protocol: owamp, count: 20, interval: 0.01f, mode: E, identity: alice, keyfile: $KEYS, loss_timeout: 0.5s}
  twamp:   {protocol: twamp, count: 20, interval: 0.01f, dscp: EF, padding: 64, mode: A, identity: alice, keyfile: $KEYS}
  slow:    {protocol: twamp-light, count: 100, interval: 0.1f}
YML
}
CFG=$TMP/exporter.yml
{
    modules
    echo "targets:"
    echo "  - {target: \"127.0.0.1:$PL\", module: light, every: 1s}"
    echo "  - {target: \"127.0.0.1:$PL\", module: stamp-a, every: 1s}"
    echo "  - {target: \"127.0.0.1:$PO\", module: owamp, every: 1s}"
    echo "  - {target: \"127.0.0.1:$PT\", module: twamp, every: 1s}"
} >"$CFG"

out=$TMP/check.out
"$EXPORTER" --config.check --config.file "$CFG" >"$out" 2>&1 && grep -q "valid: 5 modules, 4 targets" "$out"
tap $? "--config.check: the configuration is valid" "$out"

printf 'modules:\n  a:\n    protocol: twamp\n    colour: red\n' >"$TMP/bad.yml"
"$EXPORTER" --config.check --config.file "$TMP/bad.yml" >"$out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "bad.yml:4: module a: unknown key 'colour'" "$out"
tap $? "--config.check: an unknown key is an error with file and line (exit $rc)" "$out"

"$EXPORTER" --version >"$out" 2>&1 && grep -qx "ippm_exporter $(cat "$ROOT/VERSION")" "$out"
tap $? "--version" "$out"

URL=http://127.0.0.1:$PE
start_exporter "$CFG" "127.0.0.1:$PE" "$TMP/exporter.log" || exit 1

M=$TMP/metrics.txt
# every target has had a successful session
measured() {
    curl -sf -o "$M" "$URL/metrics" || return 1
    [ "$(grep -c '^ippm_sessions_total{.*result="success"} [1-9]' "$M")" = 4 ]
}
wait_for 30 measured
tap $? "/metrics: the four targets have measured" "$M"

promtool check metrics <"$M" >"$out" 2>&1
tap $? "/metrics passes promtool check metrics" "$out"

! grep -qE '^ippm_sessions_total\{.*result="failure"\} [1-9]|^ippm_packets_lost_total\{.*\} [1-9]' "$M" &&
    [ "$(grep -c '^ippm_delay_seconds_count{' "$M")" = 11 ] &&
    grep -q 'direction="to"' "$M" && grep -q 'direction="from"' "$M" &&
    grep -q '^ippm_timestamps_total{.*source="kernel"} [1-9]' "$M"
tap $? "/metrics: no failure, no loss, delays in every direction, kernel timestamps" "$M"

H=$TMP/headers.txt
curl -sf -D "$H" -o "$TMP/om.txt" -H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5' \
    "$URL/metrics" && grep -qi '^content-type: application/openmetrics-text; version=1.0.0' "$H" &&
    [ "$(tail -1 "$TMP/om.txt")" = "# EOF" ] && grep -q '^# TYPE ippm_packets_sent counter$' "$TMP/om.txt"
tap $? "/metrics in OpenMetrics when the scraper asks for it" "$H"

ok=0
for pair in "light:127.0.0.1:$PL" "stamp-a:127.0.0.1:$PL" "owamp:127.0.0.1:$PO" "twamp:127.0.0.1:$PT"; do
    m=${pair%%:*} t=${pair#*:}
    P=$TMP/probe-$m.txt
    curl -sf -o "$P" "$URL/probe?target=$t&module=$m" && grep -qx "probe_success 1" "$P" &&
        promtool check metrics <"$P" >"$out" 2>&1 || { ok=1; cat "$P" "$out" >>"$TMP/probes.txt"; }
done
tap $ok "/probe with each module: probe_success 1, promtool clean" "$TMP/probes.txt"

code=$(curl -s -o "$out" -w '%{http_code}' "$URL/probe?target=127.0.0.1:$PL&module=nothing")
[ "$code" = 400 ]
tap $? "/probe with an unknown module: 400 (got $code)" "$out"

# max_probes 1: a 10-second probe runs, the next is turned away
curl -s -o "$TMP/slow.txt" "$URL/probe?target=127.0.0.1:$PL&module=slow" &
SLOW=$!
busy() { curl -sf "$URL/metrics" | grep -qx 'ippm_exporter_probes_in_flight 1'; }
wait_for 10 busy
code=$(curl -s -o "$out" -w '%{http_code}' "$URL/probe?target=127.0.0.1:$PL&module=light")
[ "$code" = 503 ] && curl -sf "$URL/metrics" | grep -qx 'ippm_exporter_probes_rejected_total 1'
tap $? "max_probes reached: 503, counted (got $code)" "$out"
kill "$SLOW" 2>/dev/null
wait "$SLOW" 2>/dev/null
idle() { curl -sf "$URL/metrics" | grep -qx 'ippm_exporter_probes_in_flight 0'; }
wait_for 15 idle

# the scraper's timeout: a 10-second module answered within it, probe_success 0
t0=$(date +%s%N)
curl -s -o "$TMP/cut.txt" -H 'X-Prometheus-Scrape-Timeout-Seconds: 1.5' \
    "$URL/probe?target=127.0.0.1:$PL&module=slow"
ms=$((($(date +%s%N) - t0) / 1000000))
took=$(sample "$TMP/cut.txt" "probe_duration_seconds ")
grep -qx "probe_success 0" "$TMP/cut.txt" && [ "$ms" -lt 3000 ] &&
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 1.5 else 1)' "${took:-9}"
tap $? "a probe never outlives the scrape timeout (1.5 s: took ${took:-?} s, answered in $ms ms)" \
    "$TMP/cut.txt"

# SIGHUP: one more target; the counters of those that stay go on
before=$(sample "$M" "ippm_packets_sent_total{target=\"127.0.0.1:$PT\",module=\"twamp\",direction=\"round_trip\"}")
echo "  - {target: \"127.0.0.1:$PT\", module: light, every: 1s}" >>"$CFG"
kill -HUP "$EXPORTER_PID"
five() {
    curl -sf -o "$M" "$URL/metrics" && grep -qx 'ippm_exporter_targets 5' "$M" &&
        grep -q "^ippm_sessions_total{target=\"127.0.0.1:$PT\",module=\"light\",result=\"success\"} [1-9]" "$M"
}
wait_for 20 five
rc=$?
after=$(sample "$M" "ippm_packets_sent_total{target=\"127.0.0.1:$PT\",module=\"twamp\",direction=\"round_trip\"}")
[ $rc = 0 ] && [ "${after:-0}" -ge "${before:-1}" ] && [ "${before:-0}" -gt 0 ]
tap $? "SIGHUP: a new target is measured, counters go on ($before -> $after packets)" "$M"

cp "$CFG" "$TMP/good.yml"
echo "  - {target: x, module: nothing}" >>"$CFG"
kill -HUP "$EXPORTER_PID"
failed() { curl -sf -o "$M" "$URL/metrics" && grep -qx 'ippm_exporter_config_last_reload_successful 0' "$M"; }
wait_for 10 failed && grep -qx 'ippm_exporter_targets 5' "$M" && grep -q "no module called nothing" "$TMP/exporter.log"
tap $? "SIGHUP with a broken configuration: logged, the old one stays" "$TMP/exporter.log"

code=$(curl -s -o "$out" -w '%{http_code}' "$URL/nowhere")
[ "$code" = 404 ]
tap $? "an unknown path: 404" "$out"

kill -TERM "$EXPORTER_PID"
stopped() { ! kill -0 "$EXPORTER_PID" 2>/dev/null; }
wait_for 10 stopped && ! grep -qiE "sanitizer|runtime error|leak" "$TMP/exporter.log"
tap $? "SIGTERM: the exporter stops cleanly" "$TMP/exporter.log"
