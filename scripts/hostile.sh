#!/usr/bin/env bash
# Issue 16's acceptance run: the release daemon against `streamvault simulate --scenario hostile`
# for SECS seconds (default 60) on SQLite and on PostgreSQL, with the same five streams as
# tests/hostile.rs: `main` (ordinary traffic with every hostile line mixed in), `retry` (a 429
# with Retry-After: 999999999), and the topics streams `ttl` (1 ms TTL, 11-day heartbeat), `cr`
# (CR-only SSE) and `endless` (a 40 MB `data:` line that never ends). The simulator is stopped
# first, so that every line it counts as sent reached the daemon; then the daemon gets TERM.
# Prints, per backend: lines sent on `main`, hostile and ordinary among them, archived events,
# rejects, peak RSS (VmHWM, read before TERM) and the exit code, then a verdict.
#
#   scripts/hostile.sh [SECS]
#   BACKENDS=sqlite scripts/hostile.sh 20          # one backend
#   STREAMVAULT_BIN=target/debug/streamvault ...   # another binary (default: release, built here)
#   STREAMVAULT_TEST_PG=postgres://...             # PostgreSQL (default: 127.0.0.1:5432/test)
#
# Needs jq, sqlite3 and psql. Exit status: 0 when every backend passed.
set -uo pipefail
cd "$(dirname "$0")/.."
export PGOPTIONS='--client-min-messages=warning'
SECS=${1:-60}
BACKENDS=${BACKENDS:-"sqlite postgres"}
PG=${STREAMVAULT_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}
BIN=${STREAMVAULT_BIN:-target/release/streamvault}
TOPIC=/tweet_engagement/1739617652
LIMIT_KIB=$((150000000 / 1024))

if [[ -z ${STREAMVAULT_BIN:-} ]]; then
  cargo build --release --quiet || exit 1
fi
for tool in jq sqlite3 psql; do
  command -v "$tool" >/dev/null || { echo "hostile.sh needs $tool" >&2; exit 1; }
done
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT

# Starts the simulator on a free port; sets SIM_PID and ADDR.
start_simulator() {
  "$BIN" simulate --listen 127.0.0.1:0 --scenario hostile --seed 7 \
    >"$WORK/sim.out" 2>"$WORK/sim.log" &
  SIM_PID=$!
  for _ in $(seq 100); do
    ADDR=$(sed -n 's/^listening on //p' "$WORK/sim.out" | head -1)
    [[ -n $ADDR ]] && return 0
    sleep 0.1
  done
  echo "the simulator did not start: $(cat "$WORK/sim.log")" >&2
  exit 1
}

config() {
  local url=$1 base="http://$ADDR" stream
  printf '[database]\nurl = "%s"\n' "$url"
  printf '\n[[stream]]\nname = "main"\nfamily = "ndjson"\nurl = "%s/1.1/statuses/filter.json?scenario=hostile"\nbearer_token_env = "SV_TOKEN"\n' "$base"
  printf '\n[[stream]]\nname = "retry"\nfamily = "ndjson"\nurl = "%s/1.1/statuses/sample.json?scenario=hostile-retry"\nbearer_token_env = "SV_TOKEN"\n' "$base"
  for stream in ttl cr endless; do
    printf '\n[[stream]]\nname = "%s"\nfamily = "topics"\nurl = "%s/live_pipeline/events?scenario=hostile-%s"\n' "$stream" "$base" "$stream"
    printf 'update_url = "%s/1.1/live_pipeline/update_subscriptions"\ntopics = ["%s"]\nbearer_token_env = "SV_TOKEN"\n' "$base" "$TOPIC"
  done
}

# One SQL count on the backend being run.
count() {
  if [[ $BACKEND == sqlite ]]; then sqlite3 -batch "$WORK/archive.db" "$1"
  else psql -Atq "$PG" -c "SET search_path TO $SCHEMA" -c "$1"; fi
}

run_backend() {
  BACKEND=$1
  local url
  rm -rf "$WORK"/archive.db*  # the file, its WAL and its spool directory
  if [[ $BACKEND == sqlite ]]; then
    url="sqlite://$WORK/archive.db"
  else
    SCHEMA="sv_hostile_$$"
    psql -Atq "$PG" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" -c "CREATE SCHEMA $SCHEMA" || return 1
    local sep='?'; [[ $PG == *\?* ]] && sep='&'
    url="$PG${sep}options=-c%20search_path%3D$SCHEMA"
  fi
  "$BIN" migrate --database "$url" >/dev/null || return 1
  start_simulator
  config "$url" >"$WORK/streamvault.toml"
  NO_COLOR=1 SV_TOKEN=hostile RUST_LOG=info "$BIN" run --config "$WORK/streamvault.toml" 2>"$WORK/daemon-$BACKEND.log" &
  local pid=$! started=$SECONDS alive=yes peak=0 hwm
  while (( SECONDS - started < SECS )); do
    if ! kill -0 "$pid" 2>/dev/null; then alive="no (exited after $((SECONDS - started)) s)"; break; fi
    sleep 1
  done
  kill -TERM "$SIM_PID"; wait "$SIM_PID"
  local stats; stats=$(sed '1d' "$WORK/sim.out" | jq -s 'last')   # the final stats
  sleep 3   # the daemon commits what it read; its reconnections are refused meanwhile
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
  peak=${hwm:-0}
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"; local code=$?
  local main='[.connections[] | select(.scenario == "hostile")]'
  local sent hostile events rejects updates retry_wait cr_sessions
  sent=$(jq "$main | map(.lines_sent) | add // 0" <<<"$stats")
  hostile=$(jq "$main | map(.by_kind | to_entries[] | select(.key | startswith(\"hostile/\")) | .value) | add // 0" <<<"$stats")
  events=$(count "SELECT COUNT(*) FROM events WHERE stream = 'main'")
  rejects=$(count "SELECT COUNT(*) FROM rejects WHERE stream = 'main'")
  updates=$(jq '[.connections[] | select(.scenario == "hostile-ttl") | .session_id] as $ids
    | [.sessions[] | select(.session_id as $s | $ids | index($s)) | .updates | length] | add // 0' <<<"$stats")
  retry_wait=$(count "SELECT backoff_ms FROM connections WHERE stream = 'retry' ORDER BY connection_id LIMIT 1")
  cr_sessions=$(count "SELECT COUNT(*) FROM live_sessions WHERE stream = 'cr'")
  local ordinary=$((sent - hostile))
  echo "== $BACKEND, ${SECS} s =="
  echo "sent:      $sent lines on main ($hostile hostile, $ordinary ordinary)"
  echo "hostile:   $(jq -c "$main | map(.by_kind | to_entries[] | select(.key | startswith(\"hostile/\"))) | group_by(.key) | map({(.[0].key | ltrimstr(\"hostile/\")): (map(.value) | add)}) | add" <<<"$stats")"
  echo "archived:  $events events on main (every one of the $ordinary ordinary lines must be among them)"
  echo "rejects:   $rejects on main; events + rejects = $((events + rejects)) of $sent sent"
  if [[ $alive == yes ]]; then echo "peak RSS:  $((peak * 1024 / 1000000)) MB (limit 150 MB)"
  else echo "peak RSS:  n/a (the daemon had exited)"; fi
  echo "exit code: $code; stayed up until TERM: $alive"
  echo "retry:     first wait ${retry_wait:-none} ms after Retry-After: 999999999"
  echo "ttl:       $updates subscription updates with a 1 ms TTL"
  echo "cr:        $cr_sessions sessions opened on CR-only SSE"
  local verdict=PASS
  [[ $alive == yes && $code == 0 ]] || verdict=FAIL
  (( events + rejects == sent && events >= ordinary && peak > 0 && peak < LIMIT_KIB )) || verdict=FAIL
  echo "verdict:   $verdict (log: daemon-$BACKEND.log, $(grep -c 'ERROR' "$WORK/daemon-$BACKEND.log") errors)"
  grep -m3 -E 'panicked|ERROR' "$WORK/daemon-$BACKEND.log" | cut -c1-300
  [[ $BACKEND == postgres ]] && psql -Atq "$PG" -c "DROP SCHEMA $SCHEMA CASCADE"
  [[ $verdict == PASS ]]
}

status=0
for backend in $BACKENDS; do
  run_backend "$backend" || status=1
done
exit $status
