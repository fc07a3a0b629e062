#!/usr/bin/env bash
# Intel prefix table benchmark: random tables plus the real ASN range tables of the npm package
# @ip-location-db/asn (~410k IPv4 ranges; ~100k IPv6 ranges), fetched here into a temporary
# directory (never into the repository) with `npm pack`.
#
# usage: bench/intel/run_prefix_bench.sh [BUILD_DIR] [benchmark options...]
#   BUILD_DIR: a Release build with -DORBWATCH_BENCH=ON (default build-lpm)
#   ASN_PACKAGE_DIR=DIR reuses an unpacked package (DIR/asn-ipv4-num.csv) instead of fetching.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-lpm}
shift || true
bench="$build/orbwatch_lpm_bench"
[[ -x $bench ]] || { echo "missing $bench (cmake -DORBWATCH_BENCH=ON, build orbwatch_lpm_bench)" >&2; exit 1; }

pkg=${ASN_PACKAGE_DIR:-}
if [[ -z $pkg ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent @ip-location-db/asn >/dev/null && tar xzf ip-location-db-asn-*.tgz)
  pkg=$tmp/package
fi
echo "ASN tables: $(wc -l <"$pkg/asn-ipv4-num.csv") IPv4 ranges, $(wc -l <"$pkg/asn-ipv6.csv") IPv6 ranges"
ORBWATCH_ASN_V4_CSV="$pkg/asn-ipv4-num.csv" ORBWATCH_ASN_V6_CSV="$pkg/asn-ipv6.csv" \
  "$bench" --benchmark_min_time=0.5 "$@"
