#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs each for
# SECONDS (default 60). Not part of the tests: run it by hand or in a nightly job.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (targets: fuzz_json fuzz_ingress fuzz_validate fuzz_fhirpath fuzz_mapping)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(fuzz_json fuzz_ingress fuzz_validate fuzz_fhirpath fuzz_mapping)

scripts/install-deps.sh
command -v clang++ >/dev/null || { apt-get install -y -qq clang >/dev/null; }
if [[ ! -f build-fuzz/build.ninja ]]; then
  CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHELSEBRO_FUZZ=ON -DHELSEBRO_BUILD_TESTS=OFF
fi
ninja -C build-fuzz "${targets[@]}"
export UBSAN_OPTIONS="suppressions=$PWD/tests/fuzz/ubsan.supp:print_stacktrace=1:halt_on_error=1"
for t in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$t
  mkdir -p "$corpus"
  # Seed with the project's own FHIR test material so the fuzzer starts from real shapes.
  [[ $t == fuzz_ingress ]] && for f in bench/data/*.json; do { echo "/fhir"; cat "$f"; } > "$corpus/seed-$(basename "$f")"; done
  # The official examples, when fetched, are the best seeds for the validator.
  if [[ $t == fuzz_validate && -d .cache/fhir/package ]]; then
    find .cache/fhir/package -maxdepth 1 -name '*.json' -size -64k ! -name 'package.json' ! -name '.index.json' \
      | head -500 | xargs -I{} cp {} "$corpus/" || true
  fi
  # Every expression of the official FHIRPath suite, one per file.
  if [[ $t == fuzz_fhirpath ]]; then
    suite=../shared/conformance/fhir-test-cases/r4/fhirpath/tests-fhir-r4.xml
    [[ -f $suite ]] && xmllint --xpath '//expression/text()' "$suite" 2>/dev/null \
      | awk -v dir="$corpus" 'NF { print > (dir "/suite-" NR) }' || true
  fi
  # The shipped rules and the unit tests' rule files are the shapes to start from.
  [[ $t == fuzz_mapping ]] && for f in mappings/*.yaml; do cp "$f" "$corpus/seed-$(basename "$f")"; done
  echo "== $t for ${seconds}s"
  mkdir -p build-fuzz/artifacts
  "build-fuzz/tests/fuzz/$t" -max_total_time="$seconds" -max_len=65536 \
    -artifact_prefix="build-fuzz/artifacts/$t-" "$corpus"
done
