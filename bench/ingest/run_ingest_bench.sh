#!/usr/bin/env bash
# Highest loss-free ingest rate (flows/s) per receiver and protocol, on loopback.
#
# Receivers: orbwatch-null-receiver (the harness limit), nfdump's nfcapd, pmacct's nfacctd and
# `orbwatch collect` (decoding only: --flows-out /dev/null; and orbwatch-json: writing every flow
# as a JSON line to a file, the closer match to nfcapd writing its files; orbwatch-store: archiving
# every flow with --store; orbwatch-run: the whole daemon, `orbwatch run`, archiving every flow
# and running every detector on it: a step counts only the flows both archived and detected;
# orbwatch-run-ch: the same daemon with a ClickHouse output as well, into a clickhouse-server
# this script starts on 127.0.0.1 with its own data directory: a step also needs every flow in
# ClickHouse; orbwatch-run-kafka: with a Kafka output instead, into librdkafka's mock cluster
# (orbwatch_test_kafka_mock, a process of its own, not a real Kafka: it measures orbwatch's
# producer, not a broker): a step also needs every flow acknowledged by the brokers).
# The sender (orbwatch-flowgen) runs pinned to one CPU,
# the receiver to another; every receiver gets the same 8 MiB socket buffer. For each pair the
# rate is searched: start at the sender's maximum, halve until a step loses nothing, then bisect.
# A step is loss-free when the receiver counted every flow sent (zero loss allowed).
#
# usage: bench/ingest/run_ingest_bench.sh [BUILD_DIR]
#   BUILD_DIR: a Release build with -DORBWATCH_BENCH=ON (default: build-bench)
# environment: PROTOCOLS="v5 v9 ipfix"  RECEIVERS="null nfcapd nfacctd orbwatch" (add orbwatch-json)
#   STEP_SECONDS=3  PORT=39600  SENDER_CPU=0  RECEIVER_CPU=1  PRECISION=1.15 (stop when hi/lo <)
#   STORE_WRITERS=0 (orbwatch-store: writer threads per receive thread; 0: from the cores)
# Prints a markdown table on stdout; progress on stderr.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build-bench}
PROTOCOLS=${PROTOCOLS:-"v5 v9 ipfix"}
RECEIVERS=${RECEIVERS:-"null nfcapd nfacctd orbwatch"}
STEP_SECONDS=${STEP_SECONDS:-3}
PORT=${PORT:-39600}
SENDER_CPU=${SENDER_CPU:-0}
RECEIVER_CPU=${RECEIVER_CPU:-1}
STORE_WRITERS=${STORE_WRITERS:-0}  # collect --store-writers (0: from the cores)
PRECISION=${PRECISION:-1.15}
RCVBUF=8388608

FLOWGEN=$BUILD/orbwatch-flowgen
NULLRECV=$BUILD/orbwatch-null-receiver
ORBWATCH=$BUILD/orbwatch
KAFKA_MOCK=$BUILD/tests/orbwatch_test_kafka_mock
KAFKA_PID=""
for b in "$FLOWGEN" "$NULLRECV"; do
  [[ -x $b ]] || { echo "missing $b: build with -DORBWATCH_BENCH=ON" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/orbwatch-ingest-bench.XXXXXX)
RECV_PID=""
OLD_RMEM=""
cleanup() {
  if [[ -n $RECV_PID ]]; then kill -KILL -- "-$RECV_PID" 2>/dev/null || true; wait "$RECV_PID" 2>/dev/null || true; fi
  if [[ -n $KAFKA_PID ]]; then kill -KILL "$KAFKA_PID" 2>/dev/null || true; fi
  if [[ -n $OLD_RMEM ]]; then echo "$OLD_RMEM" > /proc/sys/net/core/rmem_max || true; fi
  stop_clickhouse
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "bench: $*" >&2; }
# shellcheck source=bench/clickhouse_server.sh
source "$ROOT/bench/clickhouse_server.sh"

# nfcapd and nfacctd ask with plain SO_RCVBUF, which net.core.rmem_max caps: raise it for the
# run (restored on exit) so every receiver really gets 8 MiB.
rmem=$(cat /proc/sys/net/core/rmem_max)
if (( rmem < RCVBUF )); then
  if echo "$RCVBUF" > /proc/sys/net/core/rmem_max 2>/dev/null; then
    OLD_RMEM=$rmem
    log "net.core.rmem_max raised from $rmem to $RCVBUF for this run"
  else
    log "warning: net.core.rmem_max is $rmem and cannot be raised: nfcapd/nfacctd get less than 8 MiB"
  fi
fi

have_receiver() {
  case $1 in
    null) return 0 ;;
    nfcapd) command -v nfcapd >/dev/null && command -v nfdump >/dev/null ;;
    nfacctd) command -v nfacctd >/dev/null ;;
    orbwatch | orbwatch-json | orbwatch-store) [[ -x $ORBWATCH ]] && "$ORBWATCH" collect --help >/dev/null 2>&1 ;;
    orbwatch-run) [[ -x $ORBWATCH ]] && "$ORBWATCH" run --help >/dev/null 2>&1 ;;
    orbwatch-run-kafka) [[ -x $ORBWATCH && -x $KAFKA_MOCK ]] ;;
    orbwatch-run-ch)
      [[ -x $ORBWATCH ]] && command -v clickhouse-server >/dev/null &&
        { [[ -n $CH_PID ]] || start_clickhouse "$WORK/clickhouse" $((PORT + 1)) $((PORT + 2)); } ;;
    *) return 1 ;;
  esac
}

wait_bound() {  # until something listens on UDP $PORT (5 s at most)
  for _ in $(seq 100); do
    [[ -n $(ss -Hlun "sport = :$PORT") ]] && return 0
    sleep 0.05
  done
  log "receiver did not bind port $PORT"; return 1
}

start_receiver() {  # $1 receiver; sets RECV_PID
  local d=$WORK/step
  rm -rf "$d"; mkdir -p "$d"
  case $1 in
    null)
      setsid taskset -c "$RECEIVER_CPU" "$NULLRECV" --port "$PORT" --rcvbuf $RCVBUF >"$d/out" 2>"$d/err" &
      ;;
    nfcapd)
      mkdir -p "$d/flows"
      setsid taskset -c "$RECEIVER_CPU" nfcapd -w "$d/flows" -b 127.0.0.1 -p "$PORT" -B $RCVBUF \
        >"$d/out" 2>&1 &
      ;;
    nfacctd)
      cat >"$d/nfacctd.conf" <<EOF
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: $PORT
nfacctd_pipe_size: $RCVBUF
plugins: print[p]
aggregate[p]: proto, flows
print_output[p]: csv
print_output_file[p]: $d/flows.csv
print_output_file_append[p]: true
print_refresh_time[p]: 1
EOF
      setsid taskset -c "$RECEIVER_CPU" nfacctd -f "$d/nfacctd.conf" >"$d/out" 2>&1 &
      ;;
    orbwatch)
      setsid taskset -c "$RECEIVER_CPU" "$ORBWATCH" collect --listen "udp://127.0.0.1:$PORT" \
        --flows-out /dev/null --rcvbuf $RCVBUF --stats-interval 0 >"$d/out" 2>"$d/err" &
      ;;
    orbwatch-json)  # the same, writing every flow as a JSON line (as nfcapd writes its files)
      setsid taskset -c "$RECEIVER_CPU" "$ORBWATCH" collect --listen "udp://127.0.0.1:$PORT" \
        --flows-out "$d/flows.jsonl" --rcvbuf $RCVBUF --stats-interval 0 >"$d/out" 2>"$d/err" &
      ;;
    orbwatch-store)  # the same, archiving every flow (zstd segments, as nfcapd writes its files)
      setsid taskset -c "$RECEIVER_CPU" "$ORBWATCH" collect --listen "udp://127.0.0.1:$PORT" \
        --store "$d/store" --store-writers "$STORE_WRITERS" --rcvbuf $RCVBUF --stats-interval 0 \
        >"$d/out" 2>"$d/err" &
      ;;
    orbwatch-run | orbwatch-run-ch | orbwatch-run-kafka)  # the daemon: archive and every
      # detector (on whichever CPUs are free); -ch: and a ClickHouse output, into a fresh
      # database each step; -kafka: and a Kafka output, into a fresh mock cluster each step
      cat >"$d/orbwatch.toml" <<EOF
[collect]
listen = ["udp://127.0.0.1:$PORT"]
rcvbuf = "$RCVBUF"
[store]
path = "$d/store"
[http]
listen = ""
EOF
      if [[ $1 == orbwatch-run-ch ]]; then
        ch "DROP DATABASE IF EXISTS bench" >/dev/null
        printf '[[outputs]]\ntype = "clickhouse"\nurl = "http://127.0.0.1:%s"\ndatabase = "bench"\n' \
          "$CH_HTTP" >>"$d/orbwatch.toml"
      fi
      if [[ $1 == orbwatch-run-kafka ]]; then
        setsid "$KAFKA_MOCK" 3 orbwatch-flows:6 orbwatch-alerts:1 2>"$d/kafka" &
        KAFKA_PID=$!
        for _ in $(seq 100); do grep -q '^brokers ' "$d/kafka" && break; sleep 0.05; done
        printf '[[outputs]]\ntype = "kafka"\nbrokers = "%s"\n' \
          "$(sed -n 's/^brokers //p' "$d/kafka")" >>"$d/orbwatch.toml"
      fi
      setsid "$ORBWATCH" run --config "$d/orbwatch.toml" >"$d/out" 2>"$d/err" &
      ;;
  esac
  RECV_PID=$!
  wait_bound
}

alive() {  # running, not a zombie waiting to be reaped
  [[ -r /proc/$1/stat ]] && [[ $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) != Z ]]
}

stop_receiver() {  # $1 receiver
  # nfacctd's core process does not reliably exit on SIGTERM (pmacct 1.7.7): it is counted from
  # its periodically purged file before it is stopped (see step).
  if [[ $1 != nfacctd ]]; then
    sleep 0.3
    kill -TERM -- "-$RECV_PID" 2>/dev/null || true
    # The daemon drains its queues and flushes every detector before it says what it counted.
    for _ in $(seq $([[ $1 == orbwatch-run* ]] && echo 600 || echo 50)); do
      alive "$RECV_PID" || break
      sleep 0.1
    done
  fi
  # The whole process group (nfacctd's plugins included): a leftover would share the port.
  kill -KILL -- "-$RECV_PID" 2>/dev/null || true
  wait "$RECV_PID" 2>/dev/null || true
  RECV_PID=""
  if [[ -n ${KAFKA_PID:-} ]]; then
    kill -KILL "$KAFKA_PID" 2>/dev/null || true
    wait "$KAFKA_PID" 2>/dev/null || true
    KAFKA_PID=""
  fi
}

counted() {  # $1 receiver; prints the flows it counted (after stop_receiver)
  local d=$WORK/step
  case $1 in
    null) sed -n 's/.* flows=\([0-9]*\).*/\1/p' "$d/out" ;;
    nfcapd) nfdump -R "$d/flows" -I 2>/dev/null | sed -n 's/^Flows: \([0-9]*\)$/\1/p' | head -1 ;;
    nfacctd) awk -F, '$1 != "PROTOCOL" { s += $3 } END { print s + 0 }' "$d/flows.csv" 2>/dev/null ;;
    orbwatch) sed -n 's/.*done in .* records=\([0-9]*\).*/\1/p' "$d/err" ;;
    orbwatch-json) wc -l <"$d/flows.jsonl" ;;
    orbwatch-store) sed -n 's/.*archive .*: \([0-9]*\) flows stored.*/\1/p' "$d/err" ;;
    orbwatch-run)  # flows that were both archived and seen by the detectors
      sed -n 's/.*stopped: .* flows_detected=\([0-9]*\) .* archived=\([0-9]*\).*/\1 \2/p' "$d/err" |
        awk '{ print ($1 < $2 ? $1 : $2) }' ;;
    orbwatch-run-kafka)  # ... and acknowledged by the Kafka brokers
      echo "$(counted orbwatch-run) $(sed -n 's/.*(kafka): flows=\([0-9]*\).*/\1/p' "$d/err")" |
        awk '{ print ($1 < $2 + 0 ? $1 : $2 + 0) }' ;;
    orbwatch-run-ch)  # ... and inserted into ClickHouse
      echo "$(counted orbwatch-run) $(ch "SELECT count() FROM bench.flows")" |
        awk '{ print ($1 < $2 ? $1 : $2) }' ;;
  esac
}

# One step at `rate` (0 = as fast as possible). Sets SENT, GOT, ACHIEVED.
step() {  # $1 receiver $2 proto $3 rate
  start_receiver "$1"
  local line
  line=$(taskset -c "$SENDER_CPU" "$FLOWGEN" --proto "$2" --port "$PORT" --rate "$3" \
    --duration "$STEP_SECONDS" --quiet)
  SENT=$(sed -n 's/.* flows=\([0-9]*\).*/\1/p' <<<"$line")
  ACHIEVED=$(sed -n 's/.* flows_per_s=\([0-9]*\).*/\1/p' <<<"$line")
  if [[ $1 == nfacctd ]]; then
    sleep 2.2
    GOT=$(counted "$1")
    stop_receiver "$1"
  else
    stop_receiver "$1"
    GOT=$(counted "$1")
  fi
  GOT=${GOT:-0}
  log "$1 $2 rate=${3:-max} sent=$SENT got=$GOT ($ACHIEVED flows/s) $([[ $GOT == "$SENT" ]] && echo ok || echo LOSS)"
  [[ $GOT == "$SENT" ]]
}

# Sets RATE (highest loss-free flows/s) and SENDER_BOUND (1: lossless even at the sender's max).
search() {  # $1 receiver $2 proto
  local lo=0 hi best=0
  SENDER_BOUND=0
  if step "$1" "$2" 0; then RATE=$ACHIEVED; SENDER_BOUND=1; return; fi
  hi=$ACHIEVED
  local r=$((hi / 2))
  while (( r > 1000 )); do
    if step "$1" "$2" "$r"; then lo=$r; best=$ACHIEVED; break; fi
    hi=$r; r=$((r / 2))
  done
  RATE=0
  (( lo == 0 )) && return
  while awk -v h="$hi" -v l="$lo" -v p="$PRECISION" 'BEGIN { exit !(h / l > p) }'; do
    r=$(( (lo + hi) / 2 ))
    if step "$1" "$2" "$r"; then
      lo=$r
      (( ACHIEVED > best )) && best=$ACHIEVED
    else
      hi=$r
    fi
  done
  RATE=$best  # the achieved rate of the best loss-free step (a busy sender can fall short)
}

declare -A RESULT BOUND
start=$(date +%s)
for proto in $PROTOCOLS; do
  for recv in $RECEIVERS; do
    if ! have_receiver "$recv"; then
      log "skipping $recv: not available$([[ $recv == orbwatch ]] && echo " ($ORBWATCH collect --help fails)")"
      continue
    fi
    search "$recv" "$proto"
    RESULT[$recv/$proto]=$RATE
    BOUND[$recv/$proto]=$SENDER_BOUND
  done
done

echo "| receiver | protocol | max loss-free flows/s | % of null receiver |"
echo "|---|---|---:|---:|"
for proto in $PROTOCOLS; do
  null=${RESULT[null/$proto]:-0}
  for recv in $RECEIVERS; do
    [[ -n ${RESULT[$recv/$proto]:-} ]] || continue
    rate=${RESULT[$recv/$proto]}
    shown=$(printf "%'d" "$rate" 2>/dev/null || echo "$rate")
    [[ ${BOUND[$recv/$proto]} == 1 ]] && shown="≥ $shown (sender limit)"
    pct=$( (( null > 0 )) && awk -v a="$rate" -v b="$null" 'BEGIN { printf "%.0f%%", 100 * a / b }' || echo "n/a")
    # Both lossless at the sender's maximum: the harness cannot tell them apart.
    [[ ${BOUND[$recv/$proto]} == 1 && ${BOUND[null/$proto]:-0} == 1 && $recv != null ]] &&
      pct="≥ 100% (sender-bound)"
    echo "| $recv | $proto | $shown | $pct |"
  done
done
log "done in $(( $(date +%s) - start )) s; $(nproc) CPUs, kernel $(uname -r), step ${STEP_SECONDS} s"
