#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR/fuzz for SECONDS each, starting from the committed
# seeds and crash reproducers in fuzz/corpus/<target>/ (if any). Fails on the first crash.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-15}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for bin in "$build"/fuzz/fuzz_*; do
  [[ -x $bin ]] || continue
  name=$(basename "$bin")
  corpus="$work/$name"
  mkdir -p "$corpus"
  seeds=()
  [[ -d $root/fuzz/corpus/$name ]] && seeds+=("$root/fuzz/corpus/$name")
  echo "fuzz smoke: $name for ${seconds}s"
  "$bin" "$corpus" "${seeds[@]}" -max_total_time="$seconds" -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$work/" 2>"$work/$name.log" || {
    tail -40 "$work/$name.log"
    echo "fuzz smoke: $name FAILED (reproducer in the log above)"
    exit 1
  }
  grep -E 'stat::number_of_executed_units' "$work/$name.log" | sed "s/^/  $name /"
done
