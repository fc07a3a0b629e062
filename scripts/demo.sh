#!/usr/bin/env bash
# The main job on embedded defaults: install dependencies, build, generate the demo capture and
# analyse it against the demo threat feed. Prints the summary with its alerts, then the alerts
# and the flows that carry server names.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DORBWATCH_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target orbwatch
out=${ORBWATCH_DEMO_DIR:-build/demo}
mkdir -p "$out"
/usr/bin/python3 scripts/make-demo-pcap.py "$out/demo.pcap"
./build/orbwatch analyze "$out/demo.pcap" --feed scripts/demo-feed.txt \
  --flows-out "$out/flows.jsonl" --alerts-out "$out/alerts.jsonl" --top 8
echo
echo "Alerts (JSON lines, the latest version of each id is what counts):"
cat "$out/alerts.jsonl"
echo
echo "Flows with server names (TLS SNI, HTTP Host, DNS), first 5 of the camera 10.20.5.23:"
grep '"src_ip":"10.20.5.23"' "$out/flows.jsonl" | grep server_name | head -5
echo
echo "All flows: $out/flows.jsonl, all alerts: $out/alerts.jsonl"
