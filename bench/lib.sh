# Shared by the benchmark scripts (source it after `cd` to the project root and setting `build`):
# building, and the daemon on the shipped rules with the rules' test recipients.

# Builds TARGETS... in $build: scripts/build.sh for build/, else configures (Release) once and runs ninja.
build_targets() {
  if [[ "$build" == build ]]; then
    scripts/build.sh "$@" >&2
  else
    [[ -f "$build/build.ninja" ]] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
    ninja -C "$build" "$@" >&2
  fi
}

# Writes DIR/config.yaml: data in DIR/data, mappings.dir = mappings/, the demo client as the
# administrator, recipients = the rules' test_recipients (needs $build/bench/bench_mapping).
write_pilot_config() {
  mkdir -p "$1"
  {
    printf 'http:\n  listen: 127.0.0.1:0\nstore:\n  data_dir: %s\n' "$PWD/$1/data"
    printf 'mappings:\n  dir: %s\n' "$PWD/mappings"
    printf 'auth:\n  demo_client: true\nadmin:\n  clients: [demo]\n'
    "$build/bench/bench_mapping" "$PWD" --recipients-yaml
  } > "$1/config.yaml"
}

# Starts the daemon on DIR/config.yaml (log to LOG) and waits up to SECONDS (default 10) for it to
# listen; sets daemon, address and token (the demo client's, from DIR/data).
start_daemon() {
  launch_daemon "$1" "$2"
  wait_listening "$@"
}

# Starts the daemon on DIR/config.yaml (log to LOG) without waiting; sets daemon.
launch_daemon() {
  "$build/helsebro" serve --config "$1/config.yaml" > "$2" 2>&1 &
  daemon=$!
}

# Waits up to SECONDS (default 10) for the daemon started on DIR to listen (LOG); sets address
# and token.
wait_listening() {
  local dir=$1 log=$2 seconds=${3:-10}
  for _ in $(seq 1 $(( seconds * 10 ))); do
    grep -q "is listening on" "$log" && break
    kill -0 "$daemon" 2> /dev/null || break
    sleep 0.1
  done
  address=$(grep -o "is listening on [0-9.:]*" "$log" | awk '{print $4}' || true)
  [[ -n "$address" ]] || { cat "$log" >&2; exit 1; }
  token=$(cat "$dir/data/demo-client.token")
}

# SIGTERM and wait up to 60 s (then SIGKILL).
stop_daemon() {
  kill -TERM "$daemon"
  for _ in $(seq 1 600); do kill -0 "$daemon" 2> /dev/null || break; sleep 0.1; done
  kill -0 "$daemon" 2> /dev/null && { echo "the daemon did not stop in 60 s; killed" >&2; kill -KILL "$daemon"; }
  wait "$daemon" || true
  daemon=""
}
