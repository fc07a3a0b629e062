#!/usr/bin/env bash
# The main job on embedded defaults: install dependencies, build, then `orbwatch demo`: the daemon
# on a temporary data directory, fed a simulated week of NetFlow with covert-network attacks,
# its alerts as they fire, the score against the simulation's ground truth, and the API to try
# until Ctrl-C. Options go to `orbwatch demo` (--hosts, --days, --rate, --http, --duration).
# scripts/demo-offline.sh shows the offline side (a packet capture through orbwatch analyze).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DORBWATCH_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target orbwatch
exec ./build/orbwatch demo "$@"
