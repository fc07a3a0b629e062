#!/usr/bin/env bash
# The offline side of the demo: install dependencies, build, generate the demo capture and
# analyse it against the demo threat feed (the summary with its alerts, the alerts, the flows
# that carry server names); then simulate a week of a 200-workstation organisation with
# covert-network attacks, run every detector over it and score them against the ground truth.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DORBWATCH_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target orbwatch
out=${ORBWATCH_DEMO_DIR:-build/demo}
mkdir -p "$out"
/usr/bin/python3 scripts/make-demo-pcap.py "$out/demo.pcap"
# The capture starts with the camera already infected: nothing it does is its baseline.
./build/orbwatch analyze "$out/demo.pcap" --feed scripts/demo-feed.txt --param beacon.learning=0 \
  --flows-out "$out/flows.jsonl" --alerts-out "$out/alerts.jsonl" --top 8
echo
echo "Alerts (JSON lines, the latest version of each id is what counts):"
cat "$out/alerts.jsonl"
echo
echo "Flows with server names (TLS SNI, HTTP Host, DNS), first 5 of the camera 10.20.5.23:"
grep '"src_ip":"10.20.5.23"' "$out/flows.jsonl" | grep server_name | head -5
echo
echo "All flows: $out/flows.jsonl, all alerts: $out/alerts.jsonl"
echo
echo "A simulated week: 200 workstations, servers, cameras, branch routers, remote users, and the"
echo "Raptor Train, Quad7, KV-botnet and five more scenarios injected (docs/simulate.md)."
./build/orbwatch simulate --seed 1 --hosts 200 --days 7 --out "$out/week" --pcap "$out/week/export.pcap"
./build/orbwatch analyze -q "$out/week/export.pcap" --config "$out/week/model.toml" \
  --feed "$out/week/feed.txt" --geo "$out/week/asn.csv" --geo "$out/week/country.csv" \
  --param exposure.learning=2d --alerts-out "$out/week/alerts.jsonl" | grep -E '^(flows|geo|alerts)'
echo
echo "Every detector against the labels (orbwatch eval):"
./build/orbwatch eval --labels "$out/week/labels.jsonl" --alerts "$out/week/alerts.jsonl"
