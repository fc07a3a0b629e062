#!/usr/bin/env bash
# The ClickHouse output's own insert rate, two builds of orbwatch-clickhouse-insert against one
# clickhouse-server of the script's own, alternating, 3 runs each (docs/performance.md).
#
# usage: bench/store/run_clickhouse_insert_ab.sh OLD_INSERT NEW_INSERT
# environment: FLOWS=5000000 BATCH=200000 CODECS="gzip none" PORT=39811
# Prints one line per run: build codec run flows= seconds= flows_per_s= inserts= spooled=
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OLD=$1
NEW=$2
FLOWS=${FLOWS:-5000000}
BATCH=${BATCH:-200000}
PORT=${PORT:-39811}
# shellcheck source=../clickhouse_server.sh
source "$ROOT/bench/clickhouse_server.sh"
WORK=$(mktemp -d /tmp/orbwatch-insert-ab.XXXXXX)
trap 'stop_clickhouse; rm -rf "$WORK"' EXIT
start_clickhouse "$WORK/clickhouse" "$PORT" $((PORT + 1)) || { echo "clickhouse did not start" >&2; exit 1; }
for codec in ${CODECS:-gzip none}; do
  for i in 1 2 3; do
    for build in old new; do
      bin=$OLD
      [[ $build == new ]] && bin=$NEW
      db="ab_${build}_${codec}_$i"
      echo "$build $codec $i $("$bin" "http://127.0.0.1:$CH_HTTP" "$db" "$FLOWS" "$BATCH" "$codec")"
      ch "DROP DATABASE $db" >/dev/null
    done
  done
done
