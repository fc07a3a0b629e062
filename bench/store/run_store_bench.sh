#!/usr/bin/env bash
# Flow archive against nfdump, same machine, same run, same flows.
#
# 1. orbwatch-flowgen sends the same FLOWS NetFlow v5 flows (seeded, 1.2 M distinct records) to
#    nfcapd (LZ4 files, -y) and to `orbwatch collect --store` (zstd segments, then lz4 segments),
#    at a rate both take without loss; each count is checked.
# 2. Each archive is copied COPIES times (nfcapd files under new minute names, segments under new
#    names) so both hold FLOWS x COPIES flows.
# 3. Bytes on disk per flow, and the best of 3 wall times (warm page cache) of each query:
#    a filter with a top-N aggregation, a needle (one address), and a full top-N.
#
# usage: bench/store/run_store_bench.sh [BUILD_DIR]   (Release build with -DORBWATCH_BENCH=ON)
# environment: FLOWS=5000000 COPIES=10 RATE=1000000 PORT=39700 KEEP=0 (1: keep the archives)
# Prints markdown tables on stdout; progress on stderr.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build-bench}
FLOWS=${FLOWS:-5000000}
COPIES=${COPIES:-10}
RATE=${RATE:-1000000}
PORT=${PORT:-39700}
ORBWATCH=$BUILD/orbwatch
FLOWGEN=$BUILD/orbwatch-flowgen
for b in "$ORBWATCH" "$FLOWGEN"; do
  [[ -x $b ]] || { echo "missing $b: build with -DORBWATCH_BENCH=ON" >&2; exit 2; }
done
for t in nfcapd nfdump; do
  command -v $t >/dev/null || { echo "missing $t (Debian: nfdump)" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/orbwatch-store-bench.XXXXXX)
PID=""
cleanup() {
  if [[ -n $PID ]]; then kill -KILL -- "-$PID" 2>/dev/null || true; fi
  [[ ${KEEP:-0} == 1 ]] && { echo "kept $WORK" >&2; return; }
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "bench: $*" >&2; }

wait_bound() {
  for _ in $(seq 100); do
    [[ -n $(ss -Hlun "sport = :$PORT") ]] && return 0
    sleep 0.05
  done
  log "receiver did not bind port $PORT"; return 1
}

send() {
  "$FLOWGEN" --proto v5 --port "$PORT" --flows "$FLOWS" --rate "$RATE" --seed 7 --ring 40000 \
    --quiet >/dev/null
  sleep 1
}

# --- 1. collect ------------------------------------------------------------------------------
mkdir -p "$WORK/nfcapd"
setsid nfcapd -w "$WORK/nfcapd" -b 127.0.0.1 -p "$PORT" -B 8388608 -y >"$WORK/nfcapd.log" 2>&1 &
PID=$!
wait_bound
log "sending $FLOWS flows to nfcapd"
send
kill -TERM -- "-$PID"; wait "$PID" || true; PID=""
got=$(nfdump -R "$WORK/nfcapd" -I | sed -n 's/^Flows: \([0-9]*\)$/\1/p' | head -1)
[[ $got == "$FLOWS" ]] || { log "nfcapd stored $got of $FLOWS flows"; exit 1; }

for codec in zstd lz4; do
  setsid "$ORBWATCH" collect --listen "udp://127.0.0.1:$PORT" --store "$WORK/$codec" \
    --codec $codec --rcvbuf 8388608 --stats-interval 0 >/dev/null 2>"$WORK/$codec.log" &
  PID=$!
  wait_bound
  log "sending $FLOWS flows to orbwatch collect --store --codec $codec"
  send
  kill -TERM -- "-$PID"; wait "$PID" || true; PID=""
  got=$(sed -n 's/.*archive .*: \([0-9]*\) flows stored.*/\1/p' "$WORK/$codec.log")
  [[ $got == "$FLOWS" ]] || { log "orbwatch ($codec) stored $got of $FLOWS flows"; exit 1; }
done

# --- 2. replicate ----------------------------------------------------------------------------
bytes() { du -sb "$1" | cut -f1; }
per_flow() { awk -v b="$1" -v n="$2" 'BEGIN { printf "%.1f", b / n }'; }
nf_file=$(ls "$WORK"/nfcapd/nfcapd.* | head -1)
nf_bytes=$(bytes "$WORK/nfcapd")
zstd_bytes=$(bytes "$WORK/zstd/flows")
lz4_bytes=$(bytes "$WORK/lz4/flows")
originals=("$WORK"/zstd/flows/*/*.seg "$WORK"/lz4/flows/*/*.seg)
for i in $(seq 2 "$COPIES"); do
  cp "$nf_file" "$WORK/nfcapd/nfcapd.20200101$(printf %04d "$i")"
  for f in "${originals[@]}"; do
    cp "$f" "${f%.seg}copy$i.seg"  # a new nonce: a distinct segment
  done
done
TOTAL=$((FLOWS * COPIES))
log "archives hold $TOTAL flows each"

# --- 3. queries ------------------------------------------------------------------------------
best_of_3() {  # command...: prints the best wall time in seconds
  local best=""
  for _ in 1 2 3; do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    best=$(awk -v a="$t0" -v b="$t1" -v c="$best" 'BEGIN { d = b - a; if (c == "" || d < c) c = d; print c }')
  done
  echo "$best"
}
rate() { awk -v n="$TOTAL" -v s="$1" 'BEGIN { printf "%.1f M", n / s / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f×", a / b }'; }

echo "| archive | bytes on disk | bytes/flow |"
echo "|---|---:|---:|"
echo "| nfcapd, LZ4 (-y) | $nf_bytes | $(per_flow "$nf_bytes" "$FLOWS") |"
echo "| orbwatch, zstd-1 (default) | $zstd_bytes | $(per_flow "$zstd_bytes" "$FLOWS") |"
echo "| orbwatch, lz4 | $lz4_bytes | $(per_flow "$lz4_bytes" "$FLOWS") |"
echo
echo "| query over $TOTAL flows | nfdump s | nfdump flows/s | orbwatch zstd s | flows/s | orbwatch lz4 s | flows/s | zstd vs nfdump |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
query() {  # $1 label $2 nfdump stat args $3 orbwatch args $4 filter
  local label=$1 nfargs=$2 owargs=$3 filter=$4
  log "query: $label"
  local n z l
  # shellcheck disable=SC2086
  n=$(best_of_3 nfdump -R "$WORK/nfcapd" -q -N $nfargs "$filter")
  # shellcheck disable=SC2086
  z=$(best_of_3 "$ORBWATCH" query -q --store "$WORK/zstd" $owargs "$filter")
  # shellcheck disable=SC2086
  l=$(best_of_3 "$ORBWATCH" query -q --store "$WORK/lz4" $owargs "$filter")
  echo "| $label | $n | $(rate "$n") | $z | $(rate "$z") | $l | $(rate "$l") | $(ratio "$n" "$z") |"
}
query "top 20 src by bytes of 'proto tcp and dst port 443'" "-s srcip/bytes -n 20" \
  "--top src_ip --order bytes -n 20" "proto tcp and dst port 443"
query "top 20 dst ports by flows, all flows" "-s dstport/flows -n 20" \
  "--top dst_port --order flows -n 20" "any"
# A host that is in the data: the first source address of the first flow.
needle=$("$ORBWATCH" query -q --store "$WORK/zstd" --format csv -n 1 | sed -n 2p | cut -d, -f3)
query "needle: top dst ports of 'ip $needle'" "-s dstport/bytes -n 10" \
  "--top dst_port --order bytes -n 10" "ip $needle"
log "done"
