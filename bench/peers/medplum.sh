#!/usr/bin/env bash
# Medplum's FHIR router (@medplum/fhir-router 4.5.2 on its in-memory repository, node 20) running
# the discharge transaction bench/intake.sh posts to Helsebro (bench/data/discharge-transaction.json,
# a distinct synthetic patient and distinct urn:uuid fullUrls each time), one process, in-process
# calls: no HTTP, no disk. Prints `medplum_fhir_router_tx_per_s N` and the 2xx entry count.
# Usage: bench/peers/medplum.sh [SECONDS] [--validate]   (default 10 s, after a warm-up of up to 3 s;
# --validate adds validateResource on each write, which Medplum's server does and its
# MemoryRepository does not)
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq --no-install-recommends nodejs npm >&2
fi
# Medplum 4.5 declares node ^20.19 || >=22.12; Debian 12's own nodejs is 18.
major=$(node -p 'process.versions.node.split(".")[0]')
(( major >= 20 )) || echo "warning: node $(node --version); Medplum 4.5.2 wants node 20.19 or later" >&2

if [[ ! -d bench/peers/node_modules/@medplum/fhir-router ]]; then
  (cd bench/peers && npm ci --silent --no-audit --no-fund >&2)
fi

exec node bench/peers/medplum_router.js bench/data/discharge-transaction.json "$@"
