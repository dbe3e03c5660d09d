#!/usr/bin/env bash
# Installs what is missing, builds everything once, and runs every test in parallel.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --with-test-tools
scripts/build.sh
jobs=$(( $(nproc) > 1 ? $(nproc) : 2 ))
ctest --test-dir build --output-on-failure --timeout 300 -j "$jobs" "$@"
