#!/usr/bin/env bash
# Notice-to-applied latency of the X API v2 compliance streams' events (issue 20). The simulator
# serves a v2 sample stream (Posts, 500/s) and both compliance streams (four partitions each,
# LATENCY_RATE events/s per partition, drawn from the Posts sent); `streamvault run` with the
# default configuration (`flush_interval_ms` 200) archives them into a fresh SQLite file for
# LATENCY_SECS; `streamvault report --format json` then gives, per event kind, the actions
# applied on receipt and their latency p50 / p99 / max (receipt of the line to the commit of
# its application; deferred applications, which waited for their data, are left out).
#   STREAMVAULT_BIN  the binary to measure (default: target/release/streamvault, built first)
#   LATENCY_SECS     how long the daemon runs (default 60)
#   LATENCY_RATE     compliance events per second per partition (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${STREAMVAULT_BIN:-}"
if [[ -z "$bin" ]]; then
  cargo build --release --bin streamvault
  bin=target/release/streamvault
fi
secs="${LATENCY_SECS:-60}"
rate="${LATENCY_RATE:-20}"
dir="$(mktemp -d)"
sim_pid=""
run_pid=""
cleanup() {
  [[ -n "$run_pid" ]] && kill "$run_pid" 2>/dev/null
  [[ -n "$sim_pid" ]] && kill "$sim_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

cat > "$dir/scenario.toml" <<EOF
rate = 500.0
keepalive_secs = 1.0

[compliance]
rate = $rate

[[connection]]
steps = [{ send = "forever" }]
EOF
"$bin" simulate --listen 127.0.0.1:0 --scenario "$dir/scenario.toml" > "$dir/sim.out" &
sim_pid=$!
addr=""
for _ in $(seq 1 100); do
  addr="$(sed -n 's/^listening on //p' "$dir/sim.out")"
  [[ -n "$addr" ]] && break
  sleep 0.1
done
[[ -n "$addr" ]] || { echo "the simulator did not start" >&2; exit 1; }

db="sqlite://$dir/archive.db"
{
  printf '[database]\nurl = "%s"\n' "$db"
  printf '\n[[stream]]\nname = "sample"\nfamily = "v2"\nurl = "http://%s/2/tweets/sample/stream"\nbearer_token_env = "SV_BENCH_TOKEN"\n' "$addr"
  for kind in tweets users; do
    printf '\n[[stream]]\nname = "%s-compliance"\nfamily = "v2"\nurl = "http://%s/2/%s/compliance/stream"\nbearer_token_env = "SV_BENCH_TOKEN"\npartitions = [1, 2, 3, 4]\n' \
      "$kind" "$addr" "$kind"
  done
} > "$dir/config.toml"
SV_BENCH_TOKEN=bench-token "$bin" run --config "$dir/config.toml" 2> "$dir/daemon.log" &
run_pid=$!
sleep "$secs"
kill -TERM "$run_pid"
wait "$run_pid" || { echo "the daemon failed:" >&2; tail -20 "$dir/daemon.log" >&2; exit 1; }
run_pid=""

"$bin" --database "$db" report --format json > "$dir/report.json"
echo "v2 compliance events, $secs s at $rate events/s per partition ($bin):"
jq -r '
  ["kind", "applied on receipt", "deferred", "p50 ms", "p99 ms", "max ms"],
  (.compliance.by_kind[]
   | select(.latency_ms != null)
   | [.kind, (.actions - .deferred), .deferred, .latency_ms.p50, .latency_ms.p99, .latency_ms.max])
  | @tsv' "$dir/report.json" | column -t -s $'\t'
