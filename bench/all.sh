#!/usr/bin/env bash
# The whole path in one run, next to its ceilings and its peer, against the goals of BENCHMARKS.md:
#   ceilings  bench/ceilings/run.sh   RapidJSON parse, SQLite durable commits (single and grouped)
#   intake    bench/intake.sh         bare HTTP, metadata, a 15-entry transaction (no rules)
#   peer      bench/peers/medplum.sh  Medplum's fhir-router 4.5.2 on the same transaction
#   cost      bench/cpu/run.sh        discharge messages acknowledged, mapped and queued; CPU per stage
#   delivery  bench/delivery/run.sh   backlog drain; ack and ack->delivered latency at RATE msg/s
#   memory    bench/memory/run.sh     RSS idle, at load, with 1,000,000 queued deliveries
# Every part runs on its own (never two at once: they would share the two cores) and keeps its own
# report in bench/results/; this one writes bench/results/summary-<date>.md and prints it.
# Usage: bench/all.sh [SECONDS] [RATE]   (defaults 10 and 500; BUILD_DIR as the parts take it)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
rate=${2:-500}
run=bench/.run/all
mkdir -p "$run" bench/results

part() {  # name, command...: its output in $run/<name>.txt, progress on stderr
  local name=$1; shift
  echo "== $name: $*" >&2
  "$@" > "$run/$name.txt" 2> "$run/$name.err" || { echo "$name failed; see $run/$name.err" >&2; tail -20 "$run/$name.err" >&2; exit 1; }
}
value() { awk -v k="$2" '$1 == k { print $2; exit }' "$run/$1.txt"; }
# A row's cell of a Markdown table a part printed: file, the row's first cell starts with, column.
cell() { awk -F'|' -v r="$2" -v c="$3" 'index($2, r) == 2 { gsub(/ /, "", $(c + 1)); print $(c + 1); exit }' "$run/$1.txt"; }

part ceilings bench/ceilings/run.sh 3
part intake bench/intake.sh "$duration" 32
part medplum bench/peers/medplum.sh "$duration"
part cost bench/cpu/run.sh "$duration" 32
part delivery bench/delivery/run.sh "$duration" "$rate"
part memory bench/memory/run.sh "$duration"

health=$(cell intake "GET /health/live" 2)
transaction=$(cell intake "POST /fhir transaction" 2)
medplum=$(value medplum medplum_fhir_router_tx_per_s)
acked=$(value cost acknowledged_per_s)
processed=$(value cost processed_per_s)
ceiling=$(value cost ceiling_messages_per_s)
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
met() { awk -v a="$1" -v b="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? a >= b : a <= b; print ok ? "yes" : "**no**" }'; }

ack_p99=$(value delivery latency_ack_p99_ms)
idle=$(value memory idle_rss_mib)
load=$(value memory load_hwm_mib)          # the true peak (VmHWM), not a sample
queued=$(value memory queued_hwm_mib)
queued_load=$(value memory queued_load_hwm_mib)

out="bench/results/summary-$(date -u +%Y-%m-%d).md"
{
  echo "# Helsebro benchmarks, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); commit $(git rev-parse --short HEAD); every part alone on the machine, one after another. Command: \`bench/all.sh $duration $rate\`."
  echo
  echo "| goal | figure | measured | goal | met? |"
  echo "|---|---|---:|---:|---|"
  echo "| discharge messages acknowledged durably, mapped and queued | messages/s, first post to last processed | $processed | ≥ 5,000 | $(met "$processed" 5000 ">=") |"
  echo "| the same against the bare-HTTP ceiling | discharge acks/s ÷ GET /health/live ($health/s) | $(calc %.1f%% "100 * $acked / $health") | ≥ 50% | $(met "$(calc %.3f "$acked / $health")" 0.5 ">=") |"
  echo "| against Medplum fhir-router (in memory, no HTTP, no durability) | 15-entry transactions/s: $transaction vs $medplum | $(calc %.2f× "$transaction / $medplum") | ≥ 20× | $(met "$(calc %.3f "$transaction / $medplum")" 20 ">=") |"
  echo "| acknowledgement latency at $rate msg/s | p99 ms | $ack_p99 | ≤ 2 | $(met "$ack_p99" 2 "<=") |"
  echo "| memory idle | RSS MiB | $idle | ≤ 64 | $(met "$idle" 64 "<=") |"
  echo "| memory at load | peak RSS MiB (VmHWM) | $load | ≤ 256 | $(met "$load" 256 "<=") |"
  echo "| memory with 1,000,000 queued deliveries | peak RSS MiB (VmHWM), from start | $queued | ≤ 256 | $(met "$queued" 256 "<=") |"
  echo "| the same at load | peak RSS MiB (VmHWM) | $queued_load | ≤ 256 | $(met "$queued_load" 256 "<=") |"
  echo
  echo "## Ceilings and where the time goes"
  echo
  echo "| figure | value |"
  echo "|---|---:|"
  echo "| bare HTTP (GET /health/live) | $health req/s |"
  echo "| RapidJSON parse of the 16 KB transaction | $(value ceilings rapidjson_parse_per_s)/s ($(value ceilings rapidjson_parse_mb_per_s) MB/s) |"
  echo "| SQLite durable commits, one 15 KB row each | $(value ceilings sqlite_commits_per_s_single)/s |"
  echo "| one such durable commit, p50 / p99 / p99.9 ms (under any durable acknowledgement) | $(value ceilings sqlite_commit_single_p50_ms) / $(value ceilings sqlite_commit_single_p99_ms) / $(value ceilings sqlite_commit_single_p999_ms) |"
  echo "| SQLite durable commits of 64 such rows | $(value ceilings sqlite_commits_per_s_group)/s ($(value ceilings sqlite_rows_per_s_group) rows/s) |"
  echo "| CPU per discharge message: intake (HTTP threads) | $(value cost cpu_ms_per_message_intake) ms |"
  echo "| CPU per discharge message: mapping and preparing records (hb-process) | $(value cost cpu_ms_per_message_hb-process) ms |"
  echo "| CPU per discharge message: the single writer (hb-store) | $(value cost cpu_ms_per_message_hb-store) ms |"
  echo "| CPU per discharge message: checkpoints (WAL into the database) | $(value cost cpu_ms_per_message_checkpoint) ms |"
  echo "| CPU per discharge message: the rest (delivery) | $(value cost cpu_ms_per_message_other) ms |"
  echo "| rate that CPU budget allows on $(nproc) cores | $ceiling messages/s |"
  echo "| discharge messages acknowledged (wrk, 32 connections) | $acked/s |"
  echo "| deliveries/s draining a backlog to local recipients | $(value delivery backlog_default_steady_deliveries_per_s) |"
  echo "| acknowledgement at $rate msg/s, p50 / p99 / p99.9 ms | $(value delivery latency_ack_p50_ms) / $ack_p99 / $(value delivery latency_ack_p999_ms) |"
  echo "| ack → delivered at $rate msg/s, p50 / p99 / p99.9 ms | $(value delivery latency_delivery_p50_ms) / $(value delivery latency_delivery_p99_ms) / $(value delivery latency_delivery_p999_ms) |"
  echo
  echo "Each part's own report: bench/results/{intake,delivery,memory}-$(date -u +%Y-%m-%d).md; raw output in $run/."
} > "$out"
cat "$out"
