#!/usr/bin/env bash
# fhir/ next to its npm peers on the 5,306 official R4 examples, in one run on this machine:
#   validation: Helsebro's validate() vs Medplum's validateResource (@medplum/core 4.5.2, node 20)
#   conversion: Helsebro JSON->XML->JSON vs FHIR.js (fhir 4.12) jsonToXml + xmlToJson
# Usage: bench/fhir.sh [ROUNDS]   (best of ROUNDS for Helsebro, default 3; the peers run once,
# they take minutes). Writes bench/results/fhir-<date>.md and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}

scripts/install-deps.sh >&2
examples=$(scripts/fetch-fhir-package.sh)
scripts/build.sh bench_fhir >&2
mkdir -p bench/.node bench/results
[[ -f bench/.node/package.json ]] || echo '{"private":true}' > bench/.node/package.json
if [[ ! -d bench/.node/node_modules/@medplum/core || ! -d bench/.node/node_modules/fhir ]]; then
  (cd bench/.node && npm install --silent --no-audit --no-fund @medplum/core@4.5.2 fhir@4.12.0 >&2)
fi

ours=$(build/bench/bench_fhir "$examples" "$rounds")
peers=$(NODE_PATH=bench/.node/node_modules node bench/fhir/peers.js "$examples" 1)
field() { sed -E "s/.*\"$2\":([0-9.]+).*/\1/" <<< "$1"; }
v=$(field "$ours" validate_ms); r=$(field "$ours" roundtrip_ms); n=$(field "$ours" files)
mv=$(field "$peers" medplum_validate_ms); fr=$(field "$peers" fhirjs_roundtrip_ms)

out="bench/results/fhir-$(date -u +%Y-%m-%d).md"
{
  echo "# fhir/ next to its npm peers, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, $(uname -r); commit $(git rev-parse --short HEAD); $n official R4 examples (hl7.fhir.r4.examples 4.0.1)."
  echo
  echo "| work | Helsebro ms | peer | peer ms | ratio |"
  echo "|---|---:|---|---:|---:|"
  echo "| parse + validate all | $v | Medplum validateResource | $(printf %.0f "$mv") | $(awk -v a="$mv" -v b="$v" 'BEGIN{printf "%.1f×", a/b}') |"
  echo "| JSON → XML → JSON all | $r | FHIR.js jsonToXml + xmlToJson | $(printf %.0f "$fr") | $(awk -v a="$fr" -v b="$r" 'BEGIN{printf "%.1f×", a/b}') |"
  echo
  echo "Raw: Helsebro $ours; peers $peers. Helsebro: best of $rounds rounds; peers: one round (JIT warm-up"
  echo "favours them slightly in later files, not enough to matter at these ratios)."
} > "$out"
cat "$out"
