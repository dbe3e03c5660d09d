#!/usr/bin/env bash
# The daemon's resident memory, in one run on this machine (VmRSS, VmHWM, RssAnon and RssFile from
# /proc/<pid>/status; RssFile is file-backed pages, most of them the database file that each read
# connection maps: PRAGMA mmap_size=268435456 in adapter/store/store.cpp):
#   1. idle: the daemon (mappings.dir = mappings/, recipients = the rules' test_recipients, as
#      bench/mapping.sh sets it up) on a fresh data dir under bench/.run/memory/, 3 s after it listens.
#   2. at full load: wrk -t2 -cCONNECTIONS posts discharge reports (bench/wrk/discharge.lua, a new
#      patient per message) for SECONDS; RSS sampled every 0.2 s: peak and mean. Then the processing
#      stage catches up (sampled too) and the daemon stops (SIGTERM).
#   3. a million queued deliveries: 1,000,000 rows added to the outbox with the sqlite3 CLI
#      (recipient RECIPIENT, whose endpoint is a .test host that does not resolve, so every attempt
#      fails and its circuit opens; 50,000 lanes of 20 rows; the body of a real outbox row the
#      processing stage wrote), the daemon started again and sampled every 0.2 s for 20 s from its
#      start; GET /admin/queue must report queued >= 1,000,000 for RECIPIENT, and is timed.
#   4. load on top of the million (the goal's "at load with a million queued deliveries"): wrk as
#      in 2 for SECONDS against that daemon, sampled as in 2.
# Goals: RSS <= 64 MB idle, <= 256 MB at load and with a million queued deliveries (MB = MiB here).
# Usage: bench/memory/run.sh [SECONDS] [CONNECTIONS]     (defaults 10 and 32; BUILD_DIR=dir runs
# another build directory than build/, RECIPIENT=id, ROWS=n (default 1000000), KEEP_DB=1 keeps the
# ~13 GB database of step 3 in bench/.run/memory/). Prints `name value` lines and writes
# bench/results/memory-<date>.md. Needs ~15 GB free on the project's disk while it runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10}
conns=${2:-32}
build=${BUILD_DIR:-build}
recipient=${RECIPIENT:-byasen-legesenter}
rows=${ROWS:-1000000}
lanes=50000
queued_seconds=20
drain_timeout=300  # seconds to wait for the processing stage to catch up after step 2
t_start=$(date +%s)

scripts/install-deps.sh --with-test-tools >&2
# Built only when missing: another engineer builds in build/ too.
source bench/lib.sh
if [[ ! -x "$build/helsebro" || ! -x "$build/bench/bench_mapping" ]]; then
  build_targets helsebro bench_mapping
fi

run=bench/.run/memory
rm -rf "$run"
mkdir -p "$run/daemon" bench/results
data="$PWD/$run/daemon/data"
daemon=""
sampler=""
cleanup() {
  [[ -n "$sampler" ]] && kill "$sampler" 2> /dev/null || true
  [[ -n "$daemon" ]] && kill "$daemon" 2> /dev/null || true
}
trap cleanup EXIT
avail_kb=$(df -Pk "$run" | awk 'NR == 2 { print $4 }')
need_kb=$(( rows * 13 + 2 * 1024 * 1024 ))  # ~13 KB a row (body, overflow pages, indexes) + slack
(( avail_kb > need_kb )) || { echo "need $(( need_kb / 1048576 )) GiB free under $run, have $(( avail_kb / 1048576 ))" >&2; exit 1; }

field() { sed -E "s/.*\"$2\":\"?([0-9.]+)\"?.*/\1/" <<< "$1"; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
mib() { calc %.1f "$1 / 1024"; }  # kB -> MiB

write_pilot_config "$run/daemon"
grep -q "id: $recipient\$" "$run/daemon/config.yaml" || { echo "recipient $recipient is not in the config" >&2; exit 1; }

# One line of /proc/<pid>/status figures, in kB: t rss hwm anon file shmem threads
status_line() {
  awk -v t="$(now)" '
    /^VmRSS:/ { rss = $2 } /^VmHWM:/ { hwm = $2 } /^RssAnon:/ { anon = $2 } /^RssFile:/ { file = $2 }
    /^RssShmem:/ { shmem = $2 } /^Threads:/ { threads = $2 }
    END { if (rss != "") printf "%s %d %d %d %d %d %d\n", t, rss, hwm, anon, file, shmem, threads }' "/proc/$1/status" 2> /dev/null
}
# Samples the daemon every 0.2 s into FILE until stopped (at most 30 min).
start_sampler() {
  local file=$1
  : > "$file"
  ( for _ in $(seq 1 9000); do status_line "$daemon" >> "$file" || true; sleep 0.2; done ) &
  sampler=$!
}
stop_sampler() { kill "$sampler" 2> /dev/null || true; wait "$sampler" 2> /dev/null || true; sampler=""; }
# Over the samples of FILE (from line FROM on): n peak_rss mean_rss anon_at_peak file_at_peak max_anon max_file max_threads
summary() {
  awk -v from="${2:-1}" 'NR >= from {
      n++; sum += $2
      if ($2 > peak) { peak = $2; pa = $4; pf = $5 }
      if ($4 > ma) ma = $4; if ($5 > mf) mf = $5; if ($7 > mt) mt = $7
    }
    END { if (n == 0) print "0 0 0 0 0 0 0 0"; else printf "%d %d %.0f %d %d %d %d %d\n", n, peak, sum / n, pa, pf, ma, mf, mt }' "$1"
}
# Resident kB by mapping, from /proc/<pid>/smaps: db (the database file, all its maps), binary,
# heap ([heap]: the main arena), anon (other anonymous maps: thread arenas, stacks, large
# mallocs), other files, and how many maps of the database file and of 64 MiB-aligned arena size.
smaps_breakdown() {
  awk -v db="$data/helsebro.db" -v bin="$(readlink -f "$build/helsebro")" '
    /^[0-9a-f]+-[0-9a-f]+ / {
      split($1, r, "-"); name = $6
      kind = name == db ? "db" : name == bin ? "binary" : name == "[heap]" ? "heap" : name == "" ? "anon" : "other"
      if (kind == "db") dbmaps++
      next
    }
    /^Rss:/ { rss[kind] += $2 }
    END { printf "db=%d binary=%d heap=%d anon=%d other=%d db_maps=%d\n",
          rss["db"], rss["binary"], rss["heap"], rss["anon"], rss["other"], dbmaps }' "/proc/$daemon/smaps" 2> /dev/null || echo "n/a"
}

address=""
token=""
# The daemon is launched apart from waiting for it (bench/lib.sh): step 3 samples memory from the
# launch on. A 10 GB database opens in well under the 60 s allowed.
stats() { curl -sf -H "Authorization: Bearer $token" "http://$address/admin/processing"; }
done_count() {  # processed + failed + waiting: every message the processing stage has looked at
  local s; s=$(stats)
  echo $(( $(field "$s" processed) + $(field "$s" failed) + $(field "$s" waiting) ))
}
load() {  # OUT: wrk for $duration s; prints "acknowledged/s non-2xx requests"
  wrk -t2 -c"$conns" -d"${duration}s" --latency -s bench/wrk/discharge.lua "http://$address" -- \
    tests/mappings/discharge/input.json "$token" > "$1" 2>&1
  awk '/Requests\/sec:/ { rps = $2 } / requests in / { n = $1 } /Non-2xx/ { errors = $5 }
       END { printf "%.0f %d %d\n", rps, errors + 0, n }' "$1"
}

# 1. Idle.
echo "1. idle ..." >&2
launch_daemon "$run/daemon" "$run/daemon/daemon-1.log"
wait_listening "$run/daemon" "$run/daemon/daemon-1.log" 60
sleep 3
read -r _ idle_rss idle_hwm idle_anon idle_file _ idle_threads <<< "$(status_line "$daemon")"
idle_maps=$(smaps_breakdown)
echo "idle: rss $idle_rss kB ($idle_maps)" >&2

# 2. Full load, then the processing stage catching up.
echo "2. load: wrk -t2 -c$conns -d${duration}s ..." >&2
start_sampler "$run/load.samples"
read -r ack_rps non2xx ack_n <<< "$(load "$run/wrk-load.txt")"
stop_sampler
read -r _ load_hwm_after <<< "$(status_line "$daemon" | awk '{print 0, $3}')"
load_maps=$(smaps_breakdown)
read -r load_n load_peak load_mean load_peak_anon load_peak_file load_max_anon load_max_file load_threads \
  <<< "$(summary "$run/load.samples")"
echo "load: $ack_rps/s acknowledged, peak $load_peak kB, mean $load_mean kB ($load_maps)" >&2

echo "   processing catching up ..." >&2
start_sampler "$run/drain.samples"
t_acked=$(now); last=$(done_count); t_last=$t_acked; deadline=$(( $(date +%s) + drain_timeout ))
while :; do
  sleep 0.2
  c=$(done_count); t=$(now)
  if (( c != last )); then last=$c; t_last=$t; fi
  if (( last >= ack_n )) && awk -v a="$t" -v b="$t_last" 'BEGIN { exit !(a - b >= 2) }'; then break; fi
  if awk -v a="$t" -v b="$t_last" 'BEGIN { exit !(a - b >= 15) }'; then
    echo "processing stopped at $last of $ack_n acknowledged messages" >&2; break
  fi
  (( $(date +%s) < deadline )) || { echo "processing did not catch up in ${drain_timeout}s" >&2; break; }
done
stop_sampler
drain_s=$(calc %.1f "$t_last - $t_acked")
read -r _ drain_peak _ drain_peak_anon drain_peak_file _ _ _ <<< "$(summary "$run/drain.samples")"
# Caught up and idle again: what the load left resident (SQLite's page caches, malloc's free lists).
read -r _ after_rss load_hwm after_anon after_file _ _ <<< "$(status_line "$daemon")"
after_maps=$(smaps_breakdown)
processed=$last
stop_daemon

# 3. A million queued deliveries, added while the daemon is stopped.
db="$data/helsebro.db"
src=$(sqlite3 "$db" "SELECT rowid FROM outbox WHERE recipient = '$recipient' ORDER BY rowid LIMIT 1")
[[ -n "$src" ]] || { echo "no outbox row for $recipient after step 2" >&2; exit 1; }
read -r message_id body_bytes <<< "$(sqlite3 -separator ' ' "$db" "SELECT message_id, length(body) FROM outbox WHERE rowid = $src")"
outbox_before=$(sqlite3 "$db" "SELECT count(*) FROM outbox")
echo "3. adding $rows outbox rows for $recipient (body of outbox row $src, $body_bytes bytes, message $message_id) ..." >&2
t0=$(now)
# The writer's WAL mode is set aside for the bulk insert (a rollback journal holds only the few
# pages that existed before; a WAL would hold all ~10 GB once more); the daemon sets WAL again.
sqlite3 "$db" > /dev/null << SQL
PRAGMA journal_mode=DELETE;
PRAGMA synchronous=OFF;
PRAGMA cache_size=-262144;
CREATE TEMP TABLE bench_lane (n INTEGER PRIMARY KEY, lane TEXT NOT NULL);
WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n + 1 < $lanes)
INSERT INTO bench_lane SELECT n, lower(substr(hex(sha3('bench-lane-' || n, 256)), 1, 32)) FROM k;
-- Read from a temp table: an INSERT that reads its own table would stage every row in a temp table first.
CREATE TEMP TABLE bench_body AS SELECT body FROM outbox WHERE rowid = $src;
BEGIN;
WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < $rows)
INSERT INTO outbox (id, message_id, recipient, created_at, body, lane, state)
SELECT printf('bench-%07d', k.n), $message_id, '$recipient', '2026-11-25T10:00:00.000Z', b.body, l.lane, 'queued'
FROM k CROSS JOIN bench_lane l ON l.n = k.n % $lanes CROSS JOIN bench_body b;
COMMIT;
SQL
insert_s=$(calc %.1f "$(now) - $t0")
db_bytes=$(stat -c %s "$db")
read -r bench_rows bench_lanes <<< "$(sqlite3 -separator ' ' "$db" "SELECT count(*), count(DISTINCT lane) FROM outbox WHERE id LIKE 'bench-%'")"
echo "   $bench_rows rows in $bench_lanes lanes, ${insert_s}s; database $(( db_bytes / 1048576 )) MiB" >&2

echo "   daemon with the queue, sampled for ${queued_seconds}s ..." >&2
launch_daemon "$run/daemon" "$run/daemon/daemon-3.log"
t_launch=$(now)
start_sampler "$run/queued.samples"
wait_listening "$run/daemon" "$run/daemon/daemon-3.log" 60
listen_s=$(calc %.1f "$(now) - $t_launch")
read -r _ q_start_rss _ q_start_anon q_start_file _ _ <<< "$(status_line "$daemon")"
sleep "$(awk -v s="$queued_seconds" -v a="$(now)" -v b="$t_launch" 'BEGIN { r = s - (a - b); printf "%.1f", (r > 0 ? r : 0) }')"
stop_sampler
# The sample taken once it listened counts too.
read -r q_n q_peak q_mean q_peak_anon q_peak_file q_max_anon q_max_file q_threads \
  <<< "$(summary "$run/queued.samples")"
if (( q_start_rss > q_peak )); then q_peak=$q_start_rss; q_peak_anon=$q_start_anon; q_peak_file=$q_start_file; fi
read -r _ q_rss q_hwm q_anon q_file _ _ <<< "$(status_line "$daemon")"
queued_maps=$(smaps_breakdown)
echo "queued: after start $q_start_rss kB, peak $q_peak kB, hwm $q_hwm kB ($queued_maps)" >&2

# GET /admin/queue: its figure for the recipient, and how long it takes (first call, then best of 3 more).
queue_get() { curl -sf -o "$run/queue.json" -w '%{time_total}' -H "Authorization: Bearer $token" "http://$address/admin/queue"; }
queue_first=$(calc %.0f "$(queue_get) * 1000")
queue_best=$( (for _ in 1 2 3; do queue_get; echo; done) | sort -g | head -1)
queue_best=$(calc %.0f "$queue_best * 1000")
# The recipient's object: {"recipient":"<id>", ... "queued":N ...}
queue_entry=$(tr -d '\n' < "$run/queue.json" | grep -o "{[^{}]*\"recipient\": *\"$recipient\"[^{}]*}" | head -1 || true)
queued_reported=$(sed -nE 's/.*"queued": *([0-9]+).*/\1/p' <<< "$queue_entry")
circuit=$(sed -nE 's/.*"circuit": *"([a-z-]+)".*/\1/p' <<< "$queue_entry")
queued_ok=no
(( ${queued_reported:-0} >= rows )) && queued_ok=yes
echo "admin/queue: queued ${queued_reported:-n/a} (circuit ${circuit:-n/a}), ${queue_first} ms first, ${queue_best} ms best" >&2

# 4. Load on top of the million.
echo "4. load with the queue: wrk -t2 -c$conns -d${duration}s ..." >&2
start_sampler "$run/queued-load.samples"
read -r ql_rps ql_non2xx _ <<< "$(load "$run/wrk-queued-load.txt")"
stop_sampler
read -r _ ql_peak ql_mean ql_peak_anon ql_peak_file ql_max_anon ql_max_file ql_threads \
  <<< "$(summary "$run/queued-load.samples")"
read -r _ _ ql_hwm _ <<< "$(status_line "$daemon")"
ql_maps=$(smaps_breakdown)
echo "queued + load: $ql_rps/s acknowledged, peak $ql_peak kB, hwm $ql_hwm kB ($ql_maps)" >&2
stop_daemon
[[ "${KEEP_DB:-0}" == 1 ]] || rm -f "$db" "$db-wal" "$db-shm" "$db-journal"
elapsed=$(( $(date +%s) - t_start ))

# Figures: name value (MiB unless the name says otherwise).
goal_idle=64; goal_load=256
met() { awk -v v="$1" -v g="$2" 'BEGIN { print (v <= g ? "yes" : "**no**") }'; }
results=$(cat << EOF
idle_rss_mib $(mib "$idle_rss")
idle_rss_anon_mib $(mib "$idle_anon")
idle_rss_file_mib $(mib "$idle_file")
idle_hwm_mib $(mib "$idle_hwm")
idle_threads $idle_threads
load_ack_per_s $ack_rps
load_non2xx $non2xx
load_samples $load_n
load_rss_peak_mib $(mib "$load_peak")
load_rss_peak_anon_mib $(mib "$load_peak_anon")
load_rss_peak_file_mib $(mib "$load_peak_file")
load_rss_mean_mib $(mib "$load_mean")
load_rss_anon_max_mib $(mib "$load_max_anon")
load_rss_file_max_mib $(mib "$load_max_file")
load_threads_max $load_threads
load_hwm_at_wrk_end_mib $(mib "$load_hwm_after")
drain_seconds $drain_s
drain_rss_peak_mib $(mib "$drain_peak")
drain_rss_peak_anon_mib $(mib "$drain_peak_anon")
drain_rss_peak_file_mib $(mib "$drain_peak_file")
load_hwm_mib $(mib "$load_hwm")
after_load_rss_mib $(mib "$after_rss")
after_load_rss_anon_mib $(mib "$after_anon")
after_load_rss_file_mib $(mib "$after_file")
messages_processed $processed
outbox_rows_before $outbox_before
queued_insert_seconds $insert_s
queued_rows_added $bench_rows
queued_lanes $bench_lanes
queued_body_bytes $body_bytes
queued_db_mib $(( db_bytes / 1048576 ))
queued_listen_seconds $listen_s
queued_rss_after_start_mib $(mib "$q_start_rss")
queued_rss_after_start_anon_mib $(mib "$q_start_anon")
queued_rss_after_start_file_mib $(mib "$q_start_file")
queued_samples $q_n
queued_rss_peak_mib $(mib "$q_peak")
queued_rss_peak_anon_mib $(mib "$q_peak_anon")
queued_rss_peak_file_mib $(mib "$q_peak_file")
queued_rss_mean_mib $(mib "$q_mean")
queued_rss_anon_max_mib $(mib "$q_max_anon")
queued_rss_file_max_mib $(mib "$q_max_file")
queued_rss_end_mib $(mib "$q_rss")
queued_rss_end_anon_mib $(mib "$q_anon")
queued_rss_end_file_mib $(mib "$q_file")
queued_hwm_mib $(mib "$q_hwm")
queued_threads_max $q_threads
queue_reported ${queued_reported:-n/a}
queue_reported_ok $queued_ok
queue_circuit ${circuit:-n/a}
queue_get_first_ms $queue_first
queue_get_best_ms $queue_best
queued_load_ack_per_s $ql_rps
queued_load_non2xx $ql_non2xx
queued_load_rss_peak_mib $(mib "$ql_peak")
queued_load_rss_peak_anon_mib $(mib "$ql_peak_anon")
queued_load_rss_peak_file_mib $(mib "$ql_peak_file")
queued_load_rss_mean_mib $(mib "$ql_mean")
queued_load_rss_anon_max_mib $(mib "$ql_max_anon")
queued_load_rss_file_max_mib $(mib "$ql_max_file")
queued_load_hwm_mib $(mib "$ql_hwm")
run_seconds $elapsed
EOF
)
echo "$results"
get() { awk -v k="$1" '$1 == k { print $2 }' <<< "$results"; }
# KEY's MiB with its anonymous and file-backed parts (KEY_anon_mib, KEY_file_mib beside KEY_mib).
split_mib() { echo "$(get "$1") (anon $(get "${1%_mib}_anon_mib"), file $(get "${1%_mib}_file_mib"))"; }
# A table row: LABEL, the value of KEY (with its parts when SPLIT), the goal GOAL and whether it is met.
goal_row() {  # LABEL KEY GOAL [split] [EXTRA]
  local value; value=$(get "$2")
  [[ "${4:-}" == split ]] && value=$(split_mib "$2")
  echo "| $1 | $value${5:-} | ≤ $3 | $(met "$(get "$2")" "$3") |"
}
breakdown() {  # smaps line -> MiB text
  [[ $1 == n/a ]] && { echo n/a; return; }
  awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
       END { printf "database file %.1f (%d maps), binary %.1f, [heap] %.1f, other anonymous %.1f, other files %.1f",
             v["db"] / 1024, v["db_maps"], v["binary"] / 1024, v["heap"] / 1024, v["anon"] / 1024, v["other"] / 1024 }' <<< "$1"
}

commit=$(git rev-parse --short HEAD 2> /dev/null || echo n/a)
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
build_type=$(awk -F= '/^CMAKE_BUILD_TYPE:/ {print $2}' "$build/CMakeCache.txt" 2> /dev/null || true)
[[ -n "$build_type" ]] || build_type="unset: RelWithDebInfo, the CMakeLists default"
allocator="glibc malloc"
ldd "$build/helsebro" | grep -q libjemalloc && allocator="jemalloc"
out="bench/results/memory-$(date -u +%Y-%m-%d).md"
{
  echo "# Memory benchmark (daemon resident set), $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)," \
       "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end (shared machine); commit $commit; build $build" \
       "(CMAKE_BUILD_TYPE $build_type); $allocator." \
       "Run: \`bench/memory/run.sh $duration $conns\`, ${elapsed} s in all."
  echo
  echo "The daemon with the shipped rules (mappings/) and the rules' test_recipients (their endpoints are .test hosts"
  echo "that do not resolve: every delivery fails and is retried, circuits open), data in \`bench/.run/memory/\`,"
  echo "defaults otherwise (4 read connections, each with \`mmap_size\` 256 MiB and \`cache_size\` 16 MiB; the writer's"
  echo "\`cache_size\` 64 MiB). Figures from /proc/<pid>/status in MiB: RSS = VmRSS = RssAnon (heap, stacks) + RssFile"
  echo "(file pages mapped: the binary, libraries, the WAL index and the database file through the readers' mmap; clean"
  echo "pages the kernel can drop, but counted) + RssShmem (0 here). Samples every 0.2 s miss shorter spikes: VmHWM does not."
  echo
  echo "| figure | value | goal | met? |"
  echo "|---|---:|---:|---|"
  goal_row "idle, 3 s after start" idle_rss_mib $goal_idle split
  goal_row "at full load, peak ($(get load_samples) samples over ${duration} s)" load_rss_peak_mib $goal_load split
  echo "| at full load, mean | $(get load_rss_mean_mib) | | |"
  goal_row "processing catching up after the load ($(get drain_seconds) s), peak" drain_rss_peak_mib $goal_load split
  goal_row "VmHWM of that daemon (true peak, between samples too)" load_hwm_mib $goal_load
  echo "| caught up and idle again (what the load left resident) | $(split_mib after_load_rss_mib) | | |"
  goal_row "$(get queued_rows_added) queued: after start (listening after $(get queued_listen_seconds) s)" queued_rss_after_start_mib $goal_load split
  goal_row "$(get queued_rows_added) queued: peak over ${queued_seconds} s from start ($(get queued_samples) samples)" queued_rss_peak_mib $goal_load split "; mean $(get queued_rss_mean_mib)"
  goal_row "$(get queued_rows_added) queued: VmHWM at ${queued_seconds} s (true peak, between samples too)" queued_hwm_mib $goal_load
  echo "| $(get queued_rows_added) queued: at ${queued_seconds} s | $(split_mib queued_rss_end_mib) | | |"
  goal_row "$(get queued_rows_added) queued and full load, peak (${duration} s)" queued_load_rss_peak_mib $goal_load split "; mean $(get queued_load_rss_mean_mib)"
  goal_row "VmHWM of that daemon, at its end (start-up included)" queued_load_hwm_mib $goal_load
  echo "| GET /admin/queue reports for $recipient | queued $(get queue_reported), circuit $(get queue_circuit) | ≥ $rows | $( [[ $queued_ok == yes ]] && echo yes || echo '**no**') |"
  echo "| GET /admin/queue with $(get queued_rows_added) queued, ms (first / best of 3 more) | $(get queue_get_first_ms) / $(get queue_get_best_ms) | | |"
  echo
  echo "Largest anonymous and file parts over the samples (not at the same instant): load anon $(get load_rss_anon_max_mib) /" \
       "file $(get load_rss_file_max_mib); queued anon $(get queued_rss_anon_max_mib) / file $(get queued_rss_file_max_mib);" \
       "queued + load anon $(get queued_load_rss_anon_max_mib) / file $(get queued_load_rss_file_max_mib). Threads: $(get idle_threads) idle," \
       "$(get load_threads_max) at load, $(get queued_threads_max) with the queue."
  echo
  echo "Resident MiB by mapping (/proc/<pid>/smaps; \"other anonymous\" holds the allocator's arenas of threads other than the"
  echo "main one, and thread stacks):"
  echo
  echo "- idle: $(breakdown "$idle_maps")"
  echo "- end of the load: $(breakdown "$load_maps")"
  echo "- caught up and idle again: $(breakdown "$after_maps")"
  echo "- ${queued_seconds} s after the start with the queue: $(breakdown "$queued_maps")"
  echo "- end of the load with the queue: $(breakdown "$ql_maps")"
  echo
  echo "Load: wrk -t2 -c$conns -d${duration}s, bench/wrk/discharge.lua (a new patient per message), $(get load_ack_per_s)"
  echo "acknowledged/s (non-2xx $(get load_non2xx)); $(get messages_processed) messages processed, the stage catching up"
  echo "in $(get drain_seconds) s after wrk; $(get outbox_rows_before) outbox rows. With the queue: $(get queued_load_ack_per_s) acknowledged/s"
  echo "(non-2xx $(get queued_load_non2xx))."
  echo
  echo "Queue: $(get queued_rows_added) rows added with the sqlite3 CLI in $(get queued_insert_seconds) s (recipient $recipient,"
  echo "$(get queued_lanes) lanes of $(( rows / lanes )) rows, interleaved: row n in lane n mod $lanes; lane = 32 hex digits as the"
  echo "processing stage makes them; created_at 2026-11-25T10:00:00.000Z; the body of a real outbox row,"
  echo "$(get queued_body_bytes) bytes; message_id $message_id); the database file $(get queued_db_mib) MiB. The engine holds"
  echo "at most 10,000 lanes per recipient."
} > "$out"
echo "wrote $out" >&2
