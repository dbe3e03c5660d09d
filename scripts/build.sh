#!/usr/bin/env bash
# Configures (once) and builds with Ninja into build/. Extra arguments go to ninja.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}"
fi
ninja -C build "$@"
