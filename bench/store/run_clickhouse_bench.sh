#!/usr/bin/env bash
# ClickHouse against the embedded archive, same machine, same run, same flows (docs/scale.md).
#
# 1. A clickhouse-server of the script's own on 127.0.0.1 (its own data directory). One
#    `orbwatch run` with the archive and a clickhouse output takes FLOWS NetFlow v5 flows from
#    orbwatch-flowgen at RATE; both must then hold every flow (checked).
# 2. Bytes on disk per flow of each.
# 3. The best of 3 wall times of standard queries through `orbwatch query` and `orbwatch hunt`,
#    --backend archive against --backend clickhouse (the same command, the same answer).
# 4. The ClickHouse output's own rate (orbwatch-clickhouse-insert): FLOWS synthetic flows handed
#    over as fast as it takes them, until ClickHouse holds them all, per batch_size.
#
# usage: bench/store/run_clickhouse_bench.sh [BUILD_DIR]   (Release build with -DORBWATCH_BENCH=ON)
# environment: FLOWS=5000000 RATE=300000 PORT=39800 KEEP=0 (1: keep the data)
# Prints markdown tables on stdout; progress on stderr.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build-bench}
FLOWS=${FLOWS:-5000000}
RATE=${RATE:-300000}
PORT=${PORT:-39800}
ORBWATCH=$BUILD/orbwatch
FLOWGEN=$BUILD/orbwatch-flowgen
INSERT=$BUILD/orbwatch-clickhouse-insert
for b in "$ORBWATCH" "$FLOWGEN" "$INSERT"; do
  [[ -x $b ]] || { echo "missing $b: build with -DORBWATCH_BENCH=ON" >&2; exit 2; }
done
command -v clickhouse-server >/dev/null || { echo "missing clickhouse-server" >&2; exit 2; }

WORK=$(mktemp -d /tmp/orbwatch-clickhouse-bench.XXXXXX)
PID=""
cleanup() {
  [[ -n $PID ]] && { kill -KILL -- "-$PID" 2>/dev/null || true; }
  stop_clickhouse
  [[ ${KEEP:-0} == 1 ]] && { echo "kept $WORK" >&2; return; }
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "bench: $*" >&2; }
# shellcheck source=bench/clickhouse_server.sh
source "$ROOT/bench/clickhouse_server.sh"

# --- 1. load ---------------------------------------------------------------------------------
start_clickhouse "$WORK/clickhouse" $((PORT + 1)) $((PORT + 2))
cat >"$WORK/orbwatch.toml" <<EOF
[collect]
listen = ["udp://127.0.0.1:$PORT"]
rcvbuf = "8MiB"
[store]
path = "$WORK/store"
[http]
listen = ""
[[outputs]]
type = "clickhouse"
url = "http://127.0.0.1:$CH_HTTP"
database = "bench"
EOF
setsid "$ORBWATCH" run --config "$WORK/orbwatch.toml" >/dev/null 2>"$WORK/run.log" &
PID=$!
for _ in $(seq 100); do
  [[ -n $(ss -Hlun "sport = :$PORT") ]] && break
  sleep 0.05
done
log "sending $FLOWS flows at $RATE flows/s to orbwatch run (archive + clickhouse)"
t0=$(date +%s.%N)
"$FLOWGEN" --proto v5 --port "$PORT" --flows "$FLOWS" --rate "$RATE" --seed 7 --ring 40000 \
  --quiet >/dev/null
kill -TERM -- "-$PID"
for _ in $(seq 1200); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
wait "$PID" || true
PID=""
t1=$(date +%s.%N)
archived=$(sed -n 's/.*stopped: .* archived=\([0-9]*\).*/\1/p' "$WORK/run.log")
stored=$(ch "SELECT count() FROM bench.flows")
log "archived $archived, in ClickHouse $stored, $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s from the first flow to the stop"
[[ $archived == "$FLOWS" && $stored == "$FLOWS" ]] || { log "flows lost: $(tail -5 "$WORK/run.log")"; exit 1; }

# --- 2. bytes --------------------------------------------------------------------------------
archive_bytes=$(du -sb "$WORK/store/flows" | cut -f1)
ch_bytes=$(ch "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = 'bench' AND table = 'flows'")
per_flow() { awk -v b="$1" -v n="$FLOWS" 'BEGIN { printf "%.1f", b / n }'; }
echo "| store of $FLOWS flows | bytes on disk | bytes/flow |"
echo "|---|---:|---:|"
echo "| orbwatch archive (zstd-1 segments) | $archive_bytes | $(per_flow "$archive_bytes") |"
echo "| ClickHouse 18.16 flows table (MergeTree, LZ4) | $ch_bytes | $(per_flow "$ch_bytes") |"
echo

# --- 3. queries ------------------------------------------------------------------------------
best_of_3() {  # command...: the best wall time in seconds
  local best=""
  for _ in 1 2 3; do
    local s e
    s=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    e=$(date +%s.%N)
    best=$(awk -v a="$s" -v b="$e" -v c="$best" 'BEGIN { d = b - a; if (c == "" || d < c) c = d; print c }')
  done
  echo "$best"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'; }
ARCHIVE=(--store "$WORK/store")
CLICKHOUSE=(--backend clickhouse --clickhouse "http://127.0.0.1:$CH_HTTP" --database bench)
same() {  # the two backends must agree before they are timed
  local a c
  a=$("$ORBWATCH" "$1" -q "${ARCHIVE[@]}" "${@:2}" | sort | md5sum)
  c=$("$ORBWATCH" "$1" -q "${CLICKHOUSE[@]}" "${@:2}" | sort | md5sum)
  [[ $a == "$c" ]] || { log "the backends disagree on: $*"; exit 1; }
}
echo "| query over $FLOWS flows | archive s | ClickHouse s | ClickHouse vs archive |"
echo "|---|---:|---:|---:|"
row() {  # $1 label, then the command and its arguments (without the backend)
  local label=$1
  shift
  log "query: $label"
  same "$@"
  local a c
  a=$(best_of_3 "$ORBWATCH" "$1" -q "${ARCHIVE[@]}" "${@:2}")
  c=$(best_of_3 "$ORBWATCH" "$1" -q "${CLICKHOUSE[@]}" "${@:2}")
  echo "| $label | $a | $c | $(ratio "$a" "$c") |"
}
row "top 20 src by bytes of 'proto tcp and dst port 443'" query --top src_ip --order bytes -n 20 \
  "proto tcp and dst port 443"
row "top 20 dst ports by flows, all flows" query --top dst_port -n 20
row "group by src_ip,dst_port, top 20 by bytes" query --group-by src_ip,dst_port --order bytes -n 20
needle=$("$ORBWATCH" query -q "${ARCHIVE[@]}" --format csv -n 1 | sed -n 2p | cut -d, -f3)
row "needle: top dst ports of 'ip $needle'" query --top dst_port --order bytes -n 10 "ip $needle"
row "needle: every flow of 'ip $needle' (jsonl)" query --format jsonl "ip $needle"
# A feed of 1,000 addresses: 100 that are in the flows, 900 documentation addresses that are not.
"$ORBWATCH" query -q "${ARCHIVE[@]}" --top dst_ip -n 100 --format csv | sed 1d | cut -d, -f1 \
  >"$WORK/feed.txt"
for i in $(seq 0 899); do echo "198.18.$((i / 250)).$((i % 250 + 1))"; done >>"$WORK/feed.txt"
row "hunt: 1,000-address feed, whole range" hunt --feed "$WORK/feed.txt" --format csv

# --- 4. insert rate --------------------------------------------------------------------------
echo
echo "| ClickHouse output alone, $FLOWS flows | seconds | flows/s | inserts |"
echo "|---|---:|---:|---:|"
for run in "50000 gzip" "200000 gzip" "1000000 gzip" "200000 none"; do
  read -r rows codec <<<"$run"
  log "insert: batch_size $rows, compression $codec"
  line=$("$INSERT" "http://127.0.0.1:$CH_HTTP" "insert_${rows}_$codec" "$FLOWS" "$rows" "$codec")
  got=$(ch "SELECT count() FROM insert_${rows}_$codec.flows")
  [[ $got == "$FLOWS" ]] || { log "insert: ClickHouse holds $got of $FLOWS"; exit 1; }
  sec=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$line")
  fps=$(sed -n 's/.* flows_per_s=\([0-9]*\).*/\1/p' <<<"$line")
  n=$(sed -n 's/.* inserts=\([0-9]*\).*/\1/p' <<<"$line")
  echo "| batch_size $rows, compression $codec | $sec | $fps | $n |"
done
log "done"
