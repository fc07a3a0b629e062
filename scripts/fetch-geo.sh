#!/usr/bin/env bash
# Fetches ASN and country data for orbwatch's enrichment from the npm registry (the
# @ip-location-db packages: ASN ranges with organisation names, RouteViews/DB-IP data, CC BY 4.0;
# country ranges from GeoFeed + WHOIS + ASN as a MaxMind DB, NRO data, CC BY 4.0) into DIR
# (default data/geo, not committed), and prints the [enrich] table that uses them.
# Run again to update; idempotent.
set -euo pipefail
dir=${1:-data/geo}
command -v npm >/dev/null || { echo "fetch-geo: npm is needed (Debian: npm)" >&2; exit 1; }
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent @ip-location-db/asn @ip-location-db/geo-whois-asn-country-mmdb \
  >/dev/null)
for t in "$tmp"/*.tgz; do
  mkdir -p "$tmp/x" && tar xzf "$t" -C "$tmp/x"
  for f in "$tmp"/x/package/*.csv "$tmp"/x/package/*.mmdb "$tmp"/x/package/*LICENSE*; do
    [[ -e $f ]] || continue
    case $(basename "$f") in *-num.csv | *-ipv4.mmdb | *-ipv6.mmdb) continue ;; esac  # duplicates
    cp "$f" "$dir/"
  done
  rm -rf "$tmp/x"
done
dir_abs=$(cd "$dir" && pwd)
echo "fetch-geo: $(ls "$dir" | wc -l) files in $dir_abs:" >&2
ls -la "$dir" >&2
cat <<TOML
[enrich]
databases = ["$dir_abs/asn-ipv4.csv", "$dir_abs/asn-ipv6.csv", "$dir_abs/geo-whois-asn-country.mmdb"]
TOML
