#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and runs the daemon on the embedded default
# (config/helsebro.yaml: SQLite under ./data, HTTP on 127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh helsebro
exec build/helsebro serve --config config/helsebro.yaml "$@"
