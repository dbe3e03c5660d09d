#!/usr/bin/env bash
# Ceilings under intake, on this machine (build/bench/bench_ceilings, no Helsebro code):
#   - RapidJSON parse of the discharge transaction body (bench/data/discharge-transaction.json)
#     into a Document, kParseDefaultFlags: parses/s and MB/s
#   - SQLite, WAL, synchronous=FULL (Helsebro's store pragmas), a fresh file under bench/.run/ (the
#     project's disk, not tmpfs): durable commits/s of one ~15 KB row, and of 64 such rows, and the
#     latency of one durable commit (p50/p99/p99.9 ms): the floor under any durable acknowledgement
# Checkpoints run at Helsebro's threshold (16 MiB of WAL) with the clock stopped: an upper bound.
# Usage: bench/ceilings/run.sh [SECONDS]   (per figure, default 3; BUILD_DIR=dir to build and run from
# another directory than build/). Prints `name value` lines.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-3}
build=${BUILD_DIR:-build}

scripts/install-deps.sh >&2
if [[ "$build" == build ]]; then
  scripts/build.sh bench_ceilings >&2
else
  [[ -f "$build/build.ninja" ]] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" >&2
  ninja -C "$build" bench_ceilings >&2
fi

run=bench/.run/ceilings
rm -rf "$run"
mkdir -p "$run"
# tmpfs would make every fsync free and the commit figures meaningless.
if [[ $(df --output=fstype "$run" | tail -1) == tmpfs ]]; then
  echo "bench/.run is on tmpfs; the SQLite figures would not be durable commits" >&2
  exit 1
fi
"$build/bench/bench_ceilings" bench/data/discharge-transaction.json "$run" "$duration"
rm -rf "$run"
