#!/usr/bin/env bash
# Delivery of outgoing messages by the daemon, in one run on this machine (bench_delivery, built
# on request: the real daemon through tests/support's Daemon, the shipped rules in mappings/, the
# rules' test_recipients as its address book with every endpoint a Recipient server of
# bench_delivery on 127.0.0.1). A discharge report (tests/mappings/discharge/input.json, a new
# synthetic patient per message) gives two outgoing messages: fastlege and municipal service.
#   1. backlog: recipients stopped, MESSAGES (default 2000) discharge reports posted and processed
#      (2 x MESSAGES deliveries queued); recipients started; deliveries/s until every delivery id
#      (Bundle.id) has arrived, and until /admin/queue says queued 0. Once with max_in_flight
#      unset (the default, 4) and once with max_in_flight 1 (INFLIGHT=0,1; a fresh daemon each).
#   2. latency: RATE messages/s for SECONDS, open loop (message i due at t0 + i/RATE, 16
#      connections), recipients running: acknowledgement latency (from the scheduled instant) and
#      arrival at the recipient - acknowledgement, matched by the patient's fødselsnummer.
#   3. ceiling: the Recipient server alone, same handler, a keep-alive client posting a forwarded
#      message body: requests/s on 1 and 4 connections, best of 3 interleaved rounds of 1 s.
# Usage: bench/delivery/run.sh [SECONDS] [RATE]    (defaults 10 and 100; BUILD_DIR=dir to use
# another build directory than build/, MESSAGES=n, INFLIGHT=list). Prints `name value` lines and
# writes bench/results/delivery-<date>.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
rate=${2:-100}
messages=${MESSAGES:-2000}
inflight=${INFLIGHT:-0,1}
build=${BUILD_DIR:-build}

scripts/install-deps.sh --with-test-tools >&2
source bench/lib.sh
build_targets helsebro bench_delivery

run=bench/.run/delivery
rm -rf "$run"
mkdir -p "$run" bench/results
# bench_delivery bounds every wait itself (600 s processing, 300 s backlog, 120 s latency drain);
# the timeout is the outer bound for the whole run.
timeout 3600 "$build/bench/bench_delivery" "$PWD" "$run" --messages "$messages" --seconds "$seconds" \
  --rate "$rate" --inflight "$inflight" > "$run/raw.txt"
cat "$run/raw.txt"

get() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; found = 1 } END { if (!found) print "n/a" }' "$run/raw.txt"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
commit=$(git rev-parse --short HEAD 2> /dev/null || echo n/a)
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)

backlog_row() {  # label, title
  local p="backlog_$1_"
  [[ $(get "${p}posted") == n/a ]] && return
  echo "| $2 | $(get "${p}deliveries_arrived") of $(get "${p}deliveries_expected") | $(get "${p}first_arrival_s") | $(get "${p}last_arrival_s") |" \
       "$(get "${p}deliveries_per_s") | **$(get "${p}steady_deliveries_per_s")** | $(get "${p}middle80_deliveries_per_s") |" \
       "$(get "${p}queue_empty_s") | $(get "${p}duplicates") / $(get "${p}dead") |"
}
pct_row() {  # name, key prefix
  echo "| $1 | $(get "${2}_p50_ms") | $(get "${2}_p90_ms") | $(get "${2}_p99_ms") | $(get "${2}_max_ms") | $(get "${2}_mean_ms") |"
}

out="bench/results/delivery-$(date -u +%Y-%m-%d).md"
{
  echo "# Delivery benchmark (discharge flow), $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)," \
       "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end (shared machine); commit $commit; build $build" \
       "(CMAKE_BUILD_TYPE $(awk -F= '/^CMAKE_BUILD_TYPE:/ {print $2}' "$build/CMakeCache.txt" 2> /dev/null))."
  echo "The daemon (data on the project's disk, \`bench/.run/delivery/\`), the sender and the recipients share the cores."
  echo
  echo "Each message: tests/mappings/discharge/input.json ($(get message_bytes) bytes) with a new synthetic patient;"
  echo "the shipped rules send two messages out, to byasen-legesenter (fastlege) and trondheim-hjemmetjeneste"
  echo "(municipal service), $(get ceiling_body_bytes) bytes each. Every recipient is a \`tests/support\` Recipient"
  echo "server on 127.0.0.1 (one per address-book entry), answering 200 with an informational OperationOutcome;"
  echo "retry.initial_delay_seconds 1, max_delay_seconds 2 (so the circuit's probe after the outage comes within 2 s)."
  echo
  echo "## 1. Draining a backlog to a fast local recipient"
  echo
  echo "Recipients stopped; $(get messages) discharge reports posted (4 connections) and processed; then the"
  echo "recipients started at t = 0. Rate from t = 0 to the last arrival; steady = first to last arrival;"
  echo "middle 80 % = the 10th to the 90th percentile arrival. The first arrival waits for the circuit's next probe"
  echo "(opened while the recipients were down; due within 1–2 s, at random), so compare max_in_flight by the steady columns."
  echo
  echo "| max_in_flight | arrived | first arrival, s | last arrival, s | deliveries/s from t = 0 | steady/s | middle 80 %/s | queue empty, s | duplicates / dead |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  backlog_row default "4 (default)"
  backlog_row inflight1 "1"
  for l in $(tr ',' ' ' <<< "$inflight"); do
    [[ $l == 0 || $l == 1 ]] || backlog_row "inflight$l" "$l"
  done
  echo
  echo "Before the start (default run): $(get backlog_default_queued_before_start) queued," \
       "$(get backlog_default_retries_while_down) failed attempts while down, circuits $(get backlog_default_circuits_before_start);" \
       "intake acknowledged $(get backlog_default_ack_per_s)/s and processing kept $(get backlog_default_processed_per_s)/s" \
       "(first post to all processed, posting and processing overlapping)."
  echo
  echo "## 2. Acknowledgement → delivered at $(get latency_rate) messages/s for $(get latency_seconds) s (open loop)"
  echo
  echo "$(get latency_sent) messages due at fixed intervals over $(get latency_senders) connections (achieved" \
       "$(get latency_achieved_rate)/s; a send started at most $(get latency_send_late_max_ms) ms late);" \
       "$(get latency_acked) acknowledged; $(get latency_deliveries_arrived) of $(get latency_deliveries_expected)" \
       "deliveries arrived, $(get latency_messages_fully_delivered) messages at both recipients" \
       "($(get latency_duplicates) duplicates, $(get latency_unmatched) unmatched; the last arrived" \
       "$(get latency_drain_after_last_send_s) s after the last send)."
  echo
  echo "The two store rows split the path by the daemon's own instants (ms resolution): each is when the store's"
  echo "single writer started that stage's job, just before its commit. Intake → processing is the intake commit, the"
  echo "processing stage picking the message up and mapping it, and its job waiting for the writer; processing →"
  echo "delivery record is the processing commit, the engine reading and sending, the answer, and the record job's wait."
  echo "Deliveries retried: $(get latency_store_attempts_over_1)."
  echo
  echo "| ms | p50 | p90 | p99 | max | mean |"
  echo "|---|---:|---:|---:|---:|---:|"
  pct_row "acknowledgement (scheduled instant → 200)" latency_ack
  pct_row "arrival at a recipient − acknowledgement (each delivery)" latency_delivery
  pct_row "arrival at both recipients − acknowledgement (each message)" latency_both
  pct_row "store: intake job → processing job (each message)" latency_store_intake_to_processing
  pct_row "store: processing job → delivery-record job (each delivery)" latency_store_processing_to_delivered
  echo
  echo "Per recipient (deliveries / p50 / p99 / max ms): $(awk '/^latency_recipient_/ { sub(/^latency_recipient_/, "", $1); printf "%s%s %s", sep, $1, $2; sep = "; " }' "$run/raw.txt")."
  echo "Sampled every 250 ms: at most $(get latency_max_unprocessed) acknowledged messages not yet processed," \
       "$(get latency_max_queued) deliveries queued, $(get latency_max_in_flight) in flight; circuits not closed: $(get latency_circuits_not_closed)."
  echo
  echo "## 3. The recipient alone (ceiling for 1)"
  echo
  echo "Same handler as above (it notes each arrival); best of 3 interleaved rounds of 1 s."
  echo
  echo "| client | requests/s, best | each round |"
  echo "|---|---:|---:|"
  echo "| 1 keep-alive connection, $(get ceiling_body_bytes)-byte POST | $(get ceiling_1conn_per_s) | $(get ceiling_1conn_rounds) |"
  echo "| 4 keep-alive connections | $(get ceiling_4conn_per_s) | $(get ceiling_4conn_rounds) |"
  echo
  d=$(get backlog_default_steady_deliveries_per_s); c=$(get ceiling_4conn_per_s)
  if [[ $d != n/a && $c != n/a ]]; then
    echo "The daemon's steady drain rate (default max_in_flight) is $(calc %.1f%% "100 * $d / $c") of what the recipient alone answers on 4 connections."
    echo
  fi
  echo "Daemon, default run: $(get daemon_default_store | sed 's/\.$//'); $(get daemon_default_retry_lines) retry lines," \
       "$(get daemon_default_warnings) warnings/errors in its log (bench/.run/delivery/daemon-default.log)."
  echo
  echo "Command: \`BUILD_DIR=$build MESSAGES=$messages INFLIGHT=$inflight bench/delivery/run.sh $seconds $rate\`"
  echo
  echo "Raw: $(awk '{ k = $1; $1 = ""; printf "%s%s=%s", sep, k, substr($0, 2); sep = " " }' "$run/raw.txt")"
} > "$out"
echo "wrote $out" >&2
