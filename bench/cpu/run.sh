#!/usr/bin/env bash
# Where a discharge message's CPU time goes, per stage, and the throughput that budget allows on
# this machine: the ceiling that machine noise cannot move (CPU seconds are counted, not wall time).
#   The daemon (shipped rules, the rules' test recipients, unreachable: their circuits open) takes
#   discharge messages from wrk (bench/wrk/discharge.lua, a new patient each) for SECONDS; once every
#   stored message is processed, each thread's CPU time (/proc/<pid>/task/*/stat, utime + stime) is
#   summed by thread name and divided by the messages processed.
#     intake      HTTP threads (hb-http and the main thread, which serves too): parse, validation,
#                 search rows of the received resources
#     hb-process  mapping rules, and making the records' JSON and search rows (rounds use helper
#                 threads of the same name; those that ended are counted from the process total)
#     hb-store    the single writer: SQLite inserts and commits
#     checkpoint  copying the WAL into the database (hb-checkpoint)
#     other       delivery and the rest
#   ceiling = cores / CPU seconds per message: no scheduling can do better with this much work.
# Usage: bench/cpu/run.sh [SECONDS] [CONNECTIONS]   (defaults 10 and 32; BUILD_DIR as bench/mapping.sh)
# Prints `name value` lines (acknowledged_per_s: wrk's rate; processed_per_s: messages
# acknowledged, mapped and queued, from the first post to the last one processed).
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10}
conns=${2:-32}
build=${BUILD_DIR:-build}
source bench/lib.sh

scripts/install-deps.sh --with-test-tools >&2
build_targets helsebro bench_mapping

run=bench/.run/cpu
rm -rf "$run"
mkdir -p "$run"
daemon=""
trap '[[ -n "$daemon" ]] && kill "$daemon" 2>/dev/null || true' EXIT
write_pilot_config "$run"
start_daemon "$run" "$run/daemon.log"

# CPU seconds per thread name, and the process total (which keeps the time of ended threads).
ticks=$(getconf CLK_TCK)
cpu_by_name() {
  for t in /proc/"$daemon"/task/*; do
    name=$(cat "$t/comm" 2> /dev/null) || continue
    # Fields after the ")" of comm: utime and stime are the 12th and 13th.
    awk -v n="$name" '{ sub(/.*\) /, ""); print n, $12 + $13 }' "$t/stat" 2> /dev/null || true
  done
  awk '{ sub(/.*\) /, ""); print "TOTAL", $12 + $13 }' /proc/"$daemon"/stat
}
# Bytes the daemon passed to write()/pwrite() (wchar: WAL frames, checkpoints, sockets) and bytes
# it caused to reach the block device (write_bytes), from /proc/<pid>/io.
io_bytes() { awk '$1 == "wchar:" || $1 == "write_bytes:" { printf "%s ", $2 }' /proc/"$daemon"/io; }
before=$(cpu_by_name)
io_before=$(io_bytes)
t0=$(date +%s.%N)

wrk -t2 -c"$conns" -d"${duration}s" -s bench/wrk/discharge.lua "http://$address" -- \
  tests/mappings/discharge/input.json "$token" > "$run/wrk.txt" 2>&1
stored() { sqlite3 "$run/data/helsebro.db" "SELECT count(*) FROM message" 2> /dev/null || echo 0; }
processed() { curl -sf -H "Authorization: Bearer $token" "http://$address/admin/processing" | sed -E 's/.*"processed":([0-9]+).*/\1/'; }
for _ in $(seq 1 3000); do  # at most 10 minutes
  [[ "$(processed)" == "$(stored)" ]] && break
  sleep 0.2
done
after=$(cpu_by_name)
io_after=$(io_bytes)
t1=$(date +%s.%N)
messages=$(processed)
db_bytes=$(stat -c %s "$run/data/helsebro.db")
stop_daemon

awk -v ticks="$ticks" -v n="$messages" -v cores="$(nproc)" '
  function group(name) {
    if (name == "TOTAL" || name == "hb-process" || name == "hb-store") return name
    if (name == "hb-http" || name == "helsebro") return "intake"
    if (name == "hb-checkpoint") return "checkpoint"
    return "other"
  }
  NR == FNR { b[group($1)] += $2; next }
  { a[group($1)] += $2 }
  END {
    live = 0
    for (g in a) if (g != "TOTAL") live += a[g] - b[g]
    ended = (a["TOTAL"] - b["TOTAL"]) - live       # helper threads of processing rounds
    a["hb-process"] += ended
    total = 0
    split("intake hb-process hb-store checkpoint other", order, " ")
    for (i = 1; i <= 5; i++) {
      g = order[i]; ms = 1000 * (a[g] - b[g]) / ticks / n; total += ms
      printf "cpu_ms_per_message_%s %.3f\n", g, ms
    }
    printf "cpu_ms_per_message_total %.3f\n", total
    printf "messages %d\n", n
    printf "ceiling_messages_per_s %.0f\n", cores * 1000 / total
  }' <(echo "$before") <(echo "$after")
read -r wchar0 disk0 <<< "$io_before"
read -r wchar1 disk1 <<< "$io_after"
awk -v n="$messages" -v w=$(( wchar1 - wchar0 )) -v d=$(( disk1 - disk0 )) -v db="$db_bytes" 'BEGIN {
  printf "kb_written_per_message %.1f\n", w / n / 1024          # write() calls: WAL and checkpoints
  printf "kb_to_disk_per_message %.1f\n", d / n / 1024          # reached the device (WAL + db file)
  printf "kb_database_per_message %.1f\n", db / n / 1024        # the database file after the run
}'
awk '/Requests\/sec:/ { printf "acknowledged_per_s %s\n", $2 }' "$run/wrk.txt"
# Acknowledged, mapped, and their outgoing messages queued: from the first post to the last processed.
awk -v n="$messages" -v a="$t0" -v b="$t1" 'BEGIN { printf "processed_per_s %.0f\n", n / (b - a) }'
grep -o "Stored [0-9]* writes in .*)" "$run/daemon.log" | sed 's/^/# /' || true
