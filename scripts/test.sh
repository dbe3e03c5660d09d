#!/usr/bin/env bash
# Installs what is missing, builds everything once, and runs every test in parallel.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --with-test-tools
# The official definitions, for the test that the committed type model is generated from them
# (that test skips, saying so, when npm cannot reach its registry).
scripts/fetch-fhir-package.sh >/dev/null || echo "warning: could not fetch the FHIR package; the model freshness test will skip" >&2
scripts/build.sh
jobs=$(( $(nproc) > 1 ? $(nproc) : 2 ))
ctest --test-dir build --output-on-failure --timeout 300 -j "$jobs" "$@"
