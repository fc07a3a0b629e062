#!/usr/bin/env bash
# Overload of the whole daemon: `orbwatch run` (archive and every detector) fed at RATE flows/s
# (twice its loss-free rate, see run_ingest_bench.sh RECEIVERS=orbwatch-run) for DURATION
# seconds. Checks that it stays up, that its memory stays bounded (peak RSS sampled every
# second) and that what it could not take is counted in /metrics; then that SIGTERM still
# drains it cleanly.
#
# usage: RATE=8000000 bench/ingest/run_overload.sh [BUILD_DIR]
# environment: RATE (flows/s, required)  DURATION=60  PROTO=v5  PORT=39700  SENDER_CPU=0
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build-bench}
RATE=${RATE:?set RATE, e.g. twice the loss-free rate of orbwatch-run}
DURATION=${DURATION:-60}
PROTO=${PROTO:-v5}
PORT=${PORT:-39700}
HTTP_PORT=$((PORT + 1))
SENDER_CPU=${SENDER_CPU:-0}
WORK=$(mktemp -d /tmp/orbwatch-overload.XXXXXX)
PID=""
cleanup() {
  [[ -n $PID ]] && kill -KILL "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
cat >"$WORK/orbwatch.toml" <<CONF
[collect]
listen = ["udp://127.0.0.1:$PORT"]
[store]
path = "$WORK/store"
[http]
listen = "127.0.0.1:$HTTP_PORT"
CONF
"$BUILD/orbwatch" run --config "$WORK/orbwatch.toml" 2>"$WORK/err" &
PID=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$HTTP_PORT/api/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done
taskset -c "$SENDER_CPU" "$BUILD/orbwatch-flowgen" --proto "$PROTO" --port "$PORT" --rate "$RATE" \
  --duration "$DURATION" --quiet >"$WORK/sender" &
SENDER=$!
peak=0
while kill -0 "$SENDER" 2>/dev/null; do
  rss=$(awk '/VmRSS/ { print $2 }' "/proc/$PID/status" 2>/dev/null || echo 0)
  (( rss > peak )) && peak=$rss
  sleep 1
done
wait "$SENDER" || true
sleep 2
alive=$(kill -0 "$PID" 2>/dev/null && echo yes || echo NO)
metrics=$(curl -fs "http://127.0.0.1:$HTTP_PORT/metrics" || true)
m() { awk -v k="$1" 'index($0, k) == 1 { print $NF; exit }' <<<"$metrics"; }
sent=$(sed -n 's/.* flows=\([0-9]*\).*/\1/p' "$WORK/sender")
achieved=$(sed -n 's/.* flows_per_s=\([0-9]*\).*/\1/p' "$WORK/sender")
kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
PID=""
echo "| sent flows/s | seconds | flows sent | records decoded | kernel drops (datagrams) | shed for detection (flows) | archived | peak RSS | up during | SIGTERM exit |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"
echo "| $achieved | $DURATION | $sent | $(m orbwatch_records_total) | $(m 'orbwatch_drops_total{place="kernel"') | $(m 'orbwatch_drops_total{place="detect_queue"') | $(m orbwatch_archive_flows_stored_total) | $((peak / 1024)) MiB | $alive | $rc |"
grep "stopped:" "$WORK/err" >&2 || true
