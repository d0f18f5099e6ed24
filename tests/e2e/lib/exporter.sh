# exporter.sh - helpers for the ippm_exporter end-to-end scripts (sourced after ping.sh):
# start the exporter, fetch a page, read a sample, wait for a condition (bounded).
EXPORTER=$BIN_DIR/ippm_exporter

# start_exporter CONFIG HOST:PORT LOG [args]: run it (recorded for cleanup) and wait until
# /metrics answers.
start_exporter() {
    local cfg=$1 listen=$2 log=$3 i
    shift 3
    "$EXPORTER" --config.file "$cfg" --web.listen-address "$listen" "$@" >"$log" 2>&1 &
    EXPORTER_PID=$!
    PIDS+=("$EXPORTER_PID")
    for i in $(seq 100); do
        curl -sf -o /dev/null "http://$listen/metrics" && return 0
        sleep 0.1
    done
    echo "# ippm_exporter did not start on $listen"; tail -3 "$log" | sed 's/^/# /'
    return 1
}

# sample FILE NAME{LABELS}: the value of the first sample that starts with the given text.
sample() {
    awk -v want="$2" 'index($0, want) == 1 { print $NF; exit }' "$1"
}

# wait_for SECONDS CMD...: run CMD every 0.2 s until it succeeds; its status at the end.
wait_for() {
    local limit=$(($1 * 5)) i
    shift
    for i in $(seq "$limit"); do
        "$@" && return 0
        sleep 0.2
    done
    "$@"
}
