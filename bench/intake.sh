#!/usr/bin/env bash
# Intake throughput and latency, in one run on this machine:
#   - health:      GET /health/live        (the bare HTTP ceiling: no FHIR, no store)
#   - metadata:    GET /fhir/metadata      (a ~140 KB cached CapabilityStatement, searchParams included)
#   - transaction: POST /fhir, a ~16 KB discharge transaction (15 entries, urn:uuid references,
#                  a distinct synthetic patient each time), committed durably before the answer
#   - the same transaction with group commit off (store.group_commit_max_batch: 1), to show
#     what sharing commits buys
# Usage: bench/intake.sh [SECONDS] [CONNECTIONS]     (defaults 10 and 32)
# Writes bench/results/intake-<date>.md and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
conns=${2:-32}

scripts/install-deps.sh --with-test-tools >&2
scripts/build.sh helsebro >&2

run=bench/.run/intake
rm -rf "$run"
mkdir -p "$run" bench/results
daemon=""
trap '[[ -n "$daemon" ]] && kill "$daemon" 2>/dev/null || true' EXIT

# Starts the daemon on a fresh data directory (on the project's disk, not tmpfs, so
# synchronous=FULL costs what it costs in production). Extra YAML for the store section.
start() {
  local name=$1 store_extra=${2:-}
  rm -rf "$run/$name"
  mkdir -p "$run/$name"
  printf 'http:\n  listen: 127.0.0.1:0\nstore:\n  data_dir: %s\n%bauth:\n  demo_client: true\n' \
    "$PWD/$run/$name/data" "$store_extra" > "$run/$name/config.yaml"
  build/helsebro serve --config "$run/$name/config.yaml" > "$run/$name/daemon.log" 2>&1 &
  daemon=$!
  for _ in $(seq 1 100); do
    grep -q "is listening on" "$run/$name/daemon.log" && break
    sleep 0.1
  done
  address=$(grep -o "is listening on [0-9.:]*" "$run/$name/daemon.log" | awk '{print $4}')
  [[ -n "$address" ]] || { cat "$run/$name/daemon.log" >&2; exit 1; }
  token=$(cat "$run/$name/data/demo-client.token")
}

stop() {
  kill -TERM "$daemon"
  wait "$daemon" || true
  daemon=""
}

commit_stats() { grep -o "Stored [0-9]* writes in .*)" "$run/$1/daemon.log" || echo "n/a"; }

# wrk's "Requests/sec" and latency percentiles, latency in milliseconds.
measure() {
  local name=$1; shift
  wrk -t2 -c"$conns" -d"${duration}s" --latency "$@" > "$run/$name.txt" 2>&1
  awk '
    function ms(v) { if (v ~ /us$/) return v * 0.001; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec:/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
    /Non-2xx/ { errors = $5 }
    END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, errors + 0 }' "$run/$name.txt"
}

start main
read -r h_rps h_p50 h_p99 h_err <<< "$(measure health "http://$address/health/live")"
read -r m_rps m_p50 m_p99 m_err <<< "$(measure metadata -s bench/wrk/metadata.lua "http://$address")"
read -r t_rps t_p50 t_p99 t_err <<< "$(measure transaction -s bench/wrk/transaction.lua "http://$address" -- bench/data/discharge-transaction.json "$token")"
stop main
commits=$(commit_stats main)

start single "  group_commit_max_batch: 1\n"
read -r s_rps s_p50 s_p99 s_err <<< "$(measure single -s bench/wrk/transaction.lua "http://$address" -- bench/data/discharge-transaction.json "$token")"
stop single
single_commits=$(commit_stats single)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f%%", (b > 0 ? 100 * a / b : 0) }'; }
times() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f×", (b > 0 ? a / b : 0) }'; }

out="bench/results/intake-$(date -u +%Y-%m-%d).md"
{
  echo "# Intake benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r);" \
       "commit $(git rev-parse --short HEAD); wrk -t2 -c$conns -d${duration}s on the same machine."
  echo
  echo "| request | req/s | p50 ms | p99 ms | non-2xx | req/s vs health |"
  echo "|---|---:|---:|---:|---:|---:|"
  echo "| GET /health/live (bare HTTP) | $h_rps | $h_p50 | $h_p99 | $h_err | 100% |"
  echo "| GET /fhir/metadata (139 KB) | $m_rps | $m_p50 | $m_p99 | $m_err | $(ratio "$m_rps" "$h_rps") |"
  echo "| POST /fhir transaction (16 KB, 15 entries, durable) | $t_rps | $t_p50 | $t_p99 | $t_err | $(ratio "$t_rps" "$h_rps") |"
  echo "| same, group commit off | $s_rps | $s_p50 | $s_p99 | $s_err | $(ratio "$s_rps" "$h_rps") |"
  echo
  echo "- Transactions: $(ratio "$t_rps" "$m_rps") of the metadata ceiling; $(awk -v r="$t_rps" 'BEGIN { printf "%.0f", r * 15 }') resources/s stored."
  echo "- Group commit: $commits."
  echo "- Without it: $single_commits; group commit gives $(times "$t_rps" "$s_rps") the throughput."
} > "$out"
cat "$out"
