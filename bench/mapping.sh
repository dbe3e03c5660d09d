#!/usr/bin/env bash
# The discharge flow through the mapping rules, in one run on this machine:
#   - mapping alone: build/bench/bench_mapping applies the shipped rules (mappings/) to distinct
#     discharge messages, parsed before the clock: messages/s on 1 and 2 threads, for a patient
#     with records (tests/mappings/discharge/records.json) and for a new patient; JSON parse and
#     validation of the produced records timed apart; where apply's time goes (perf, if it works)
#   - end to end: the daemon (mappings.dir = mappings/, recipients = the rules' test_recipients)
#     takes discharge reports on /fhir/$process-message from wrk (bench/wrk/discharge.lua, a new
#     patient per message) for SECONDS; the acknowledgement rate is wrk's, the processing rate is
#     messages / time until GET /admin/processing counts them all
#   - mapping's share of the end-to-end cost: (1 / mapping-alone rate) / (1 / processed rate)
# Usage: bench/mapping.sh [SECONDS] [CONNECTIONS]     (defaults 5 and 32; BUILD_DIR=dir to use
# another build directory than build/). Writes bench/results/mapping-<date>.md and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-5}
conns=${2:-32}
build=${BUILD_DIR:-build}
drain_timeout=600  # seconds to wait for the processing stage to catch up
source bench/lib.sh

scripts/install-deps.sh --with-test-tools >&2
build_targets helsebro bench_mapping

run=bench/.run/mapping
rm -rf "$run"
mkdir -p "$run" bench/results
daemon=""
trap '[[ -n "$daemon" ]] && kill "$daemon" 2>/dev/null || true' EXIT
field() { sed -E "s/.*\"$2\":\"?([0-9.]+)\"?.*/\1/" <<< "$1"; }
now() { date +%s.%N; }

# 1. Mapping alone (before the daemon runs, so the two do not share the cores).
echo "mapping alone ..." >&2
alone=$("$build/bench/bench_mapping" "$PWD")
echo "$alone" >&2

# Where apply's time goes, for a new patient (as the daemon sees every message here): perf with
# DWARF call graphs, each sample under mapping::apply put in one bucket (bench/mapping/profile.py).
# Skipped when perf is missing or not allowed.
profile=""
if command -v perf > /dev/null && command -v python3 > /dev/null &&
   perf record -q -F 499 --call-graph dwarf,16384 -o "$run/perf.data" -- \
     "$build/bench/bench_mapping" "$PWD" --profile 5 new > /dev/null 2> "$run/perf.log"; then
  perf script -i "$run/perf.data" -F tid,ip,sym > "$run/perf.txt" 2>> "$run/perf.log" || true
  profile=$(python3 bench/mapping/profile.py "$run/perf.txt" || true)
  if [[ $profile != *samples=* ]] || (( ${profile##*samples=} < 200 )); then
    echo "too few samples in the profile ($profile); left out" >&2
    profile=""
  fi
  rm -f "$run/perf.data"
  echo "profile: $profile" >&2
else
  echo "perf unavailable; no profile (see $run/perf.log)" >&2
fi

# 2. End to end.
write_pilot_config "$run/daemon"
start_daemon "$run/daemon" "$run/daemon/daemon.log"
stats() { curl -sf -H "Authorization: Bearer $token" "http://$address/admin/processing"; }
done_count() {  # processed + failed + waiting: every message the processing stage has looked at
  local s; s=$(stats)
  echo $(( $(field "$s" processed) + $(field "$s" failed) + $(field "$s" waiting) ))
}

echo "end to end: wrk -t2 -c$conns -d${duration}s ..." >&2
t0=$(now)
wrk -t2 -c"$conns" -d"${duration}s" --latency -s bench/wrk/discharge.lua "http://$address" -- \
  tests/mappings/discharge/input.json "$token" > "$run/wrk.txt" 2>&1
t_acked=$(now)
at_end=$(done_count)
read -r ack_rps ack_p50 ack_p99 ack_n non2xx <<< "$(awk '
  function ms(v) { if (v ~ /us$/) return v * 0.001; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
  /Requests\/sec:/ { rps = $2 }
  / requests in / { n = $1 }
  $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
  /Non-2xx/ { errors = $5 }
  END { printf "%.0f %.2f %.2f %d %d\n", rps, p50, p99, n, errors + 0 }' "$run/wrk.txt")"

# Every acknowledged message is committed; requests wrk cut off at the end may be too. Done when
# the count has reached the acknowledged ones and stays put for 2 s (the stage works in rounds of
# 64 and never pauses that long while it has work).
last=$at_end; t_last=$t_acked; deadline=$(( $(date +%s) + drain_timeout ))
while :; do
  sleep 0.1
  c=$(done_count)
  t=$(now)
  if (( c != last )); then last=$c; t_last=$t; fi
  if (( last >= ack_n )) && awk -v a="$t" -v b="$t_last" 'BEGIN { exit !(a - b >= 2) }'; then break; fi
  # Fewer than acknowledged and no progress for 15 s: the store holds fewer messages than wrk
  # counted (replays are acknowledged without being stored again); the stored count says.
  if awk -v a="$t" -v b="$t_last" 'BEGIN { exit !(a - b >= 15) }'; then
    echo "processing stopped at $last of $ack_n acknowledged messages" >&2
    break
  fi
  (( $(date +%s) < deadline )) || { echo "processing did not catch up in ${drain_timeout}s" >&2; break; }
done
final=$(stats)
processed=$(field "$final" processed); failed=$(field "$final" failed); waiting=$(field "$final" waiting)
changes=$(field "$final" record_changes); queued=$(field "$final" messages_queued)
stop_daemon
commits=$(grep -o "Stored [0-9]* writes in .*)" "$run/daemon/daemon.log" || echo "n/a")
stored=$(sqlite3 "$run/daemon/data/helsebro.db" "SELECT count(*) FROM message" 2> /dev/null || echo n/a)

# The checked-out commit, read from .git (no git process; a benchmark changes nothing).
commit() {
  local head ref
  head=$(cat .git/HEAD 2> /dev/null) || { echo n/a; return; }
  if [[ $head == ref:* ]]; then
    ref=${head#ref: }
    head=$(cat ".git/$ref" 2> /dev/null || awk -v r="$ref" '$2 == r { print $1 }' .git/packed-refs 2> /dev/null)
  fi
  echo "${head:0:7}"
}
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
total=$last
e2e=$(calc %.0f "$total / ($t_last - $t0)")                             # messages processed per second, start to all done
drain=$(calc %.0f "($total - $at_end) / ($t_last - $t_acked)")          # after intake stopped: the stage alone
wall=$(calc %.1f "$t_last - $t0")
a1=$(field "$alone" apply_1t_per_s); a2=$(field "$alone" apply_2t_per_s)
n1=$(field "$alone" apply_new_1t_per_s); n2=$(field "$alone" apply_new_2t_per_s)
p=$(field "$alone" parse_per_s); v=$(field "$alone" validate_sets_per_s); vn=$(field "$alone" validate_new_sets_per_s)
pct() { calc "%.1f%%" "100 * $1"; }
times() { calc "%.2f×" "$1"; }

out="bench/results/mapping-$(date -u +%Y-%m-%d).md"
{
  echo "# Mapping benchmark (discharge flow), $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), load average" \
       "$(cut -d' ' -f1-3 /proc/loadavg) at the end (shared machine); commit $(commit);" \
       "rule set $(sed -E 's/.*"rule_set":"([^"]*)".*/\1/' <<< "$alone"); $(field "$alone" messages) distinct discharge reports" \
       "($(field "$alone" message_bytes) bytes, tests/mappings/discharge/input.json), best of $(field "$alone" rounds) interleaved" \
       "rounds of $(field "$alone" seconds_each) s each."
  echo
  echo "## Mapping alone (\`bench_mapping\`: mapping::apply on a parsed message, no store, no HTTP)"
  echo
  echo "One apply: rules $(sed -E 's/.*"rules_applied":"([^"]*)".*/\1/' <<< "$alone");" \
       "$(field "$alone" changes) records written and $(field "$alone" outgoing) messages out with records," \
       "$(field "$alone" changes_new) and $(field "$alone" outgoing_new) for a new patient."
  echo
  echo "| work | per s, 1 thread | per s, 2 threads | 2 threads vs 1 | per CPU-s, 1 / 2 threads | µs each (1 thread) |"
  echo "|---|---:|---:|---:|---:|---:|"
  echo "| JSON parse of the message | $p | | | | $(calc %.0f "1e6 / $p") |"
  echo "| apply, patient with records (records.json) | $a1 | $a2 | $(times "$a2 / $a1") | $(field "$alone" apply_1t_per_cpu_s) / $(field "$alone" apply_2t_per_cpu_s) | $(calc %.0f "1e6 / $a1") |"
  echo "| apply, new patient | $n1 | $n2 | $(times "$n2 / $n1") | $(field "$alone" apply_new_1t_per_cpu_s) / $(field "$alone" apply_new_2t_per_cpu_s) | $(calc %.0f "1e6 / $n1") |"
  echo "| validate the records one apply writes (with records) | $v | | | | $(calc %.0f "1e6 / $v") ($(pct "$a1 / $v") of apply) |"
  echo "| same, new patient | $vn | | | | $(calc %.0f "1e6 / $vn") ($(pct "$n1 / $vn") of apply) |"
  echo
  echo "Parsing the message costs $(pct "$n1 / $p") of a new patient's apply. Per CPU-second, 2 threads vs 1 shows whether"
  echo "apply contends with itself on a shared RuleSet apart from how busy the machine was."
  echo
  if [[ -n "$profile" ]]; then
    echo "Where apply's time goes, new patient (perf, DWARF call graphs, ${profile##*samples=} samples under mapping::apply; each"
    echo "sample counted once, in the first bucket of this order that its stack reaches, so the shares add up to 100%):"
    echo
    echo "| part of apply | share |"
    echo "|---|---:|"
    for kv in $profile; do
      k=${kv%%=*}; val=${kv#*=}
      case $k in
        validate) name="\`fhir::validate\` of each record written (its FHIRPath invariants included)";;
        fhirpath) name="FHIRPath evaluation of the rules' expressions (\`Expression::evaluate\`)";;
        outgoing) name="building the outgoing message Bundles (\`message_bundle\`)";;
        provenance) name="building the Provenance resources";;
        ordering) name="ordering records' elements by definition (\`order_by_definition\`)";;
        ids) name="deriving record ids (\`derived_id\`)";;
        records) name="building records: assignments, references, copies, matching";;
        changed_bundle) name="the patient's records as a Bundle for \`patient_changed\` rules";;
        other) name="the rest (environment, outcome, allocation outside the above)";;
        samples) continue;;
        *) name=$k;;
      esac
      echo "| $name | $val% |"
    done
    echo
  fi
  echo "## End to end (the daemon: intake, store, processing stage)"
  echo
  echo "wrk -t2 -c$conns -d${duration}s posting to /fhir/\$process-message, a new patient per message; the processing stage"
  echo "runs alongside on the same two cores, then catches up."
  echo
  echo "| | figure |"
  echo "|---|---:|"
  echo "| acknowledged (wrk), messages/s | $ack_rps (p50 $ack_p50 ms, p99 $ack_p99 ms, non-2xx $non2xx) |"
  echo "| messages stored (the store's message table) | $stored |"
  echo "| messages processed | $total ($processed done, $failed failed, $waiting waiting; $changes record versions, $queued messages queued) |"
  echo "| processed/s, first post to all processed ($wall s) | $e2e |"
  echo "| processed/s after intake stopped (the stage alone) | $drain |"
  echo "| processed at the end of wrk | $at_end of $total |"
  echo
  echo "## Mapping's share of the end-to-end cost"
  echo
  echo "Share = (1 / mapping-alone rate) / (1 / processed rate), single-threaded mapping (the processing stage is one thread):"
  echo
  echo "| mapping-alone rate used | vs processed/s start to end ($e2e) | vs processed/s, stage alone ($drain) |"
  echo "|---|---:|---:|"
  echo "| new patient, 1 thread ($n1/s): what the daemon ran | $(pct "$e2e / $n1") | $(pct "$drain / $n1") |"
  echo "| with records, 1 thread ($a1/s) | $(pct "$e2e / $a1") | $(pct "$drain / $a1") |"
  echo
  echo "- Acknowledgement vs processing: intake acknowledges $(times "$ack_rps / $e2e") as fast as the whole pipeline processes."
  echo "- Store: $commits."
  echo
  echo "Raw: bench_mapping $alone"
} > "$out"
cat "$out"
