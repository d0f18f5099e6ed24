#!/bin/bash
# 93-prometheus.sh - a real Prometheus (Debian's prometheus package) on loopback scrapes
# ippm_exporter: /metrics (a TWAMP target measured continuously) and a relabeled /probe job
# over twampd, twampd --light and owampd, as with blackbox_exporter. Prometheus negotiates
# OpenMetrics, so its scrapes check that format. Its HTTP API must then give a median round
# trip (histogram_quantile) and a loss rate consistent with what twping measures on the same
# path, and probe_success 1 for every probed target. The alert rules of the README pass
# promtool check rules. Skipped, saying why, where the package is not installed. TAP output.
. "$(dirname "${BASH_SOURCE[0]}")/lib/ping.sh"
. "$(dirname "${BASH_SOURCE[0]}")/lib/exporter.sh"

echo "1..6"
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null ||
    ! command -v curl >/dev/null; then
    for i in $(seq 6); do
        echo "ok $i # SKIP prometheus not installed (Debian: apt-get install prometheus curl)"
    done
    exit 0
fi

# The README's alert rules, between its rules markers.
sed -n '/^<!-- rules:begin -->$/,/^<!-- rules:end -->$/p' "$ROOT/README.md" | grep -v '^<!--' |
    grep -v '^ *```' >"$TMP/rules.yml"
out=$TMP/rules.out
[ -s "$TMP/rules.yml" ] && promtool check rules "$TMP/rules.yml" >"$out" 2>&1 &&
    grep -q "SUCCESS: 2 rules found" "$out"
tap $? "the README's two alert rules pass promtool check rules" "$out"

PO=$(free_port tcp 4)
PT=$(free_port tcp 4)
PL=$(free_port udp 4)
PE=$(free_port tcp 4)
PP=$(free_port tcp 4)
confdir "$TMP/ow" owamp O
confdir "$TMP/tw" twamp O
start_daemon "$OWAMPD" "$TMP/ow" 127.0.0.1 "$PO" "$TMP/ow.log" || exit 1
start_daemon "$TWAMPD" "$TMP/tw" 127.0.0.1 "$PT" "$TMP/tw.log" --light "127.0.0.1:$PL" || exit 1
cat >"$TMP/exporter.yml" <<YML
modules:
  twamp: {protocol: twamp, count: 50, interval: 0.01f}
  light: {protocol: twamp-light, count: 10, interval: 0.01f}
  owamp: {protocol: owamp, count: 10, interval: 0.01f, loss_timeout: 0.5s}
targets:
  - {target: "127.0.0.1:$PT", module: twamp, every: 1s}
YML
start_exporter "$TMP/exporter.yml" "127.0.0.1:$PE" "$TMP/exporter.log" || exit 1

cat >"$TMP/prometheus.yml" <<YML
global: {scrape_interval: 1s, scrape_timeout: 900ms}
scrape_configs:
  - job_name: ippm
    static_configs: [{targets: ["127.0.0.1:$PE"]}]
  - job_name: ippm_probe
    metrics_path: /probe
    static_configs:
      - {targets: ["127.0.0.1:$PT"], labels: {module: twamp}}
      - {targets: ["127.0.0.1:$PL"], labels: {module: light}}
      - {targets: ["127.0.0.1:$PO"], labels: {module: owamp}}
    relabel_configs:
      - {source_labels: [__address__], target_label: __param_target}
      - {source_labels: [module], target_label: __param_module}
      - {source_labels: [__param_target], target_label: instance}
      - {target_label: __address__, replacement: "127.0.0.1:$PE"}
YML
promtool check config "$TMP/prometheus.yml" >"$out" 2>&1
tap $? "the scrape configuration passes promtool check config" "$out"

prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
    --web.listen-address="127.0.0.1:$PP" >"$TMP/prometheus.log" 2>&1 &
PIDS+=($!)
PURL=http://127.0.0.1:$PP

# query EXPR: the first result's value ("" when none)
query() {
    curl -s --max-time 5 "$PURL/api/v1/query" --data-urlencode "query=$1" | python3 -c '
import json, sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if r else "")
except Exception:
    print("")'
}
scraped() {
    [ "$(query 'count(up == 1)')" = 4 ] && [ "$(query 'count(probe_success == 1)')" = 3 ] &&
        [ -n "$(query 'ippm_packets_sent_total{job="ippm",direction="round_trip"} > 0')" ]
}
wait_for 60 scraped
tap $? "Prometheus scrapes /metrics and probes three targets (up, probe_success 1)" \
    "$TMP/prometheus.log"

# the same path measured by twping
"$TWPING" --json -c 200 -i 0.01f -L 1 "127.0.0.1:$PT" >"$TMP/twping.json" 2>"$TMP/twping.err"
read -r tw_median tw_lost tw_sent < <(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["sessions"][0]
print(s["round_trip_delay_ns"]["median"] / 1e9, s["loss"]["lost"], s["loss"]["sent"])' "$TMP/twping.json")
p50=$(query 'histogram_quantile(0.5, sum by (le) (ippm_delay_seconds_bucket{job="ippm",direction="round_trip"}))')
# consistent: the Prometheus median lies within one bucket of the one holding twping's median
python3 - "$tw_median" "$p50" >"$out" 2>&1 <<'PY'
import sys
b = [1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1]
tw, pm = float(sys.argv[1]), float(sys.argv[2])
i = next((k for k, v in enumerate(b) if tw <= v), len(b))
lo = b[i - 2] if i >= 2 else 0.0
hi = b[i + 1] if i + 1 < len(b) else float("inf")
print(f"twping median {tw:.6f} s, histogram_quantile(0.5) {pm:.6f} s, allowed ({lo}, {hi}]")
sys.exit(0 if lo <= pm <= hi else 1)
PY
tap $? "median round trip: Prometheus and twping agree within a bucket ($(tail -1 "$out"))" "$out"

loss=$(query 'sum(ippm_packets_lost_total{job="ippm",direction="round_trip"}) / sum(ippm_packets_sent_total{job="ippm",direction="round_trip"})')
echo "loss rate $loss, twping lost $tw_lost of $tw_sent" >"$out"
[ -n "$loss" ] && [ "$tw_sent" = 200 ] &&
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 0.01 and int(sys.argv[2]) <= 2 else 1)' \
        "$loss" "$tw_lost"
tap $? "loss rate: Prometheus and twping both (near) zero on loopback ($(cat "$out"))" "$out"

pq=$(query 'histogram_quantile(0.5, sum by (le) (ippm_delay_seconds_bucket{job="ippm_probe",module="light",direction="round_trip"}))')
own=$(query 'max(ippm_last_delay_seconds{job="ippm_probe",module="owamp",direction="from",statistic="median"})')
echo "probe light p50 $pq, owamp from median $own" >"$out"
python3 -c 'import sys; sys.exit(0 if 0 < float(sys.argv[1]) < 0.01 and 0 < float(sys.argv[2]) < 0.01 else 1)' \
    "${pq:-nan}" "${own:-nan}" 2>>"$out"
tap $? "the probe job's figures are queryable ($(cat "$out"))" "$out"
