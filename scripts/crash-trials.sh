#!/usr/bin/env bash
# kill -9 in seeded trials over both backends (tests/crash.rs; issue 17), with a line per trial
# and a table of figures per backend and phase (steady, spooling, draining, delete→purge).
#   CRASH_TRIALS  trials to run (default here 100; the test's own default, in CI, is 8)
#   CRASH_SEED    the seed that picks each trial's backend, phase and kill moment
# Builds with --release (the daemon and the simulator as shipped; pass --cargo-profile dev or
# other nextest options after the script's name to change that). Needs PostgreSQL on
# 127.0.0.1:5432 as for `cargo nextest run` (STREAMVAULT_TEST_PG overrides).
set -uo pipefail
cd "$(dirname "$0")/.."
export CRASH_TRIALS="${CRASH_TRIALS:-100}"
profile=(--release)
[[ " $* " == *" --cargo-profile "* ]] && profile=()
cargo nextest run "${profile[@]}" --no-fail-fast --no-capture --test crash "$@" 2>&1 \
  | grep -Ev '^\s+(Compiling|Blocking)' \
  | sed 's/\x1b\[[0-9;]*m//g'
exit "${PIPESTATUS[0]}"
