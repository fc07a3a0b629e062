#!/usr/bin/env bash
# Installs everything orbwatch needs to build and test on Debian 12, from Debian's packages only.
# Idempotent: packages already present are skipped, so running it again is cheap.
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build ccache pkg-config git
  clang-14 libclang-rt-14-dev lld-14 clang-format clang-tidy
  libpcap-dev libfmt-dev libspdlog-dev libcli11-dev libtomlplusplus-dev libsimdjson-dev
  libsqlite3-dev libzstd-dev liblz4-dev libmaxminddb-dev libcpp-httplib-dev librdkafka-dev
  libssl-dev zlib1g-dev libbrotli-dev liblzo2-dev libbz2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
# Real peers for the interop and end-to-end tests.
peer_pkgs=(
  softflowd nfdump pmacct tshark python3-scapy iproute2 procps nftables openssl
  chromium clickhouse-server
)
# The dashboard (web/) builds with Node.js and npm; Debian's (Node 18) will do. A Node.js that
# is already installed (from NodeSource, say) is kept.
command -v npm >/dev/null 2>&1 || peer_pkgs+=(nodejs npm)

missing=()
for p in "${build_pkgs[@]}" "${peer_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#build_pkgs[@]} build and ${#peer_pkgs[@]} test packages present"
  exit 0
fi

SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer once, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
