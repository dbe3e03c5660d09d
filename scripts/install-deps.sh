#!/usr/bin/env bash
# Installs the Debian 12 packages Helsebro builds and tests with, only those missing,
# so a second run is fast and a developer machine is left alone.
set -euo pipefail

build_pkgs=(cmake ninja-build g++ pkg-config ccache libboost-dev rapidjson-dev libxml2-dev
  libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libsqlite3-dev libssl-dev libyaml-cpp-dev
  libsystemd-dev libre2-dev libjemalloc-dev)
test_pkgs=(libxml2-utils sqlite3 wrk openssl)

want=("${build_pkgs[@]}")
[[ "${1:-}" == "--with-test-tools" ]] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "Installing missing Debian packages: ${missing[*]}"
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
