#!/usr/bin/env bash
# fhir/fhirpath next to fhirpath.js (the npm `fhirpath` package with its R4 model, node 20) on the
# official FHIRPath suite, in one run on this machine: evaluations per second of every case that
# compiles, on its input, compiled once outside the clock; and how many cases each passes.
# Usage: bench/fhirpath.sh [ROUNDS]   (timed rounds over the suite, default 500, after one warm-up
# round each). Writes bench/results/fhirpath-<date>.md and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-500}
peer_version=5.2.2  # the latest; it needs node >= 20 (Debian 12 with NodeSource, as here)
suite=../shared/conformance/fhir-test-cases/r4
run=bench/.run/fhirpath

scripts/install-deps.sh >&2
scripts/build.sh helsebro bench_fhirpath >&2
mkdir -p bench/.node bench/results "$run"
[[ -f bench/.node/package.json ]] || echo '{"private":true}' > bench/.node/package.json
installed=$(cd bench/.node && node -p "require('fhirpath/package.json').version" 2>/dev/null || true)
if [[ "$installed" != "$peer_version" ]]; then
  (cd bench/.node && npm install --silent --no-audit --no-fund "fhirpath@$peer_version" >&2)
fi

# The peer reads FHIR JSON only: the suite's XML inputs go through our own converter.
for input in $(grep -o 'inputfile="[^"]*"' "$suite/fhirpath/tests-fhir-r4.xml" | cut -d'"' -f2 | sort -u); do
  if [[ $input == *.xml ]]; then
    build/helsebro convert --to json "$suite/$input" > "$run/${input%.xml}.json"
  else
    cp "$suite/$input" "$run/$input"
  fi
done
build/bench/bench_fhirpath --export "$suite" > "$run/cases.json"

ours=$(build/bench/bench_fhirpath "$suite" "$rounds")
peer=$(NODE_PATH=bench/.node/node_modules node bench/fhir/fhirpath_peer.js "$run/cases.json" "$run" "$rounds")
field() { sed -E "s/.*\"$2\":\"?([0-9.]+)\"?.*/\1/" <<< "$1"; }
cases=$(field "$ours" cases)
percent() { awk -v p="$1" -v n="$cases" 'BEGIN{printf "%.1f%%", 100*p/n}'; }
thousands() { sed -E ':a; s/([0-9])([0-9]{3})($|,)/\1,\2\3/; ta' <<< "$1"; }
ours_rate=$(field "$ours" evaluations_per_s); peer_rate=$(field "$peer" evaluations_per_s)
ours_passed=$(field "$ours" passed); peer_passed=$(field "$peer" passed)

out="bench/results/fhirpath-$(date -u +%Y-%m-%d).md"
{
  echo "# fhir/fhirpath next to fhirpath.js, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, $(uname -r); commit $(git rev-parse --short HEAD); the official FHIRPath"
  echo "suite for R4 ($cases cases), $rounds timed rounds after one warm-up round; node $(node --version)."
  echo
  echo "| | Helsebro fhir/fhirpath | fhirpath.js $(field "$peer" version) | ratio |"
  echo "|---|---:|---:|---:|"
  echo "| cases that compile (timed) | $(field "$ours" timed) | $(field "$peer" timed) | |"
  echo "| evaluations/s | $(thousands "$ours_rate") | $(thousands "$peer_rate") | $(awk -v a="$ours_rate" -v b="$peer_rate" 'BEGIN{printf "%.1f×", a/b}') |"
  echo "| suite cases passed | $ours_passed ($(percent "$ours_passed")) | $peer_passed ($(percent "$peer_passed")) | |"
  echo
  echo "Raw: Helsebro $ours; fhirpath.js $peer. Each side compiles every case once (the peer with"
  echo "\`fhirpath.compile\`) and evaluates the ones it compiled, on the case's input, every round; an"
  echo "evaluation error counts as an evaluation. Passes are judged alike (output types and values in"
  echo "order), except that the peer's numbers compare by value: a JS number keeps no decimal scale."
} > "$out"
cat "$out"
