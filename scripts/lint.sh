#!/usr/bin/env bash
# clang-tidy over the sources (checks in .clang-tidy: bug-prone patterns, the static analyzer,
# performance), warnings as errors. BUILD_DIR must hold compile_commands.json.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-test}
[[ -f $build/compile_commands.json ]] || { echo "lint: no $build/compile_commands.json"; exit 2; }
git ls-files 'src/*.cc' 'src/*.cpp' |
  xargs -P"$(nproc)" -n4 clang-tidy -p "$build" --quiet --warnings-as-errors='*' \
    --extra-arg=-Wno-unknown-warning-option 2>/dev/null
echo "lint: clang-tidy clean"
