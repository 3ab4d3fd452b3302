#!/usr/bin/env bash
# Crash and fault-safety tests (issue 7, item 6) with their figures printed:
#   - tests/crash.rs:  kill -9 during heavy ingest on SQLite (CRASH_TRIALS, default 20; CRASH_SEED)
#   - tests/outage.rs: PostgreSQL unreachable mid-stream (OUTAGE_SECS, default 30), PostgreSQL down
#                      for good (exit 4), a lost COMMIT answer, SQLite disk full (tmpfs: needs
#                      mount rights) and a file-size limit.
# Needs PostgreSQL on 127.0.0.1:5432 as for `cargo nextest run` (STREAMVAULT_TEST_PG overrides).
# --no-capture runs the tests one at a time, so that their figures are not interleaved.
set -uo pipefail
cd "$(dirname "$0")/.."
cargo nextest run --no-fail-fast --no-capture --test crash --test outage "$@" 2>&1 \
  | grep -Ev '^\s+(Compiling|Blocking)' \
  | sed 's/\x1b\[[0-9;]*m//g'
exit "${PIPESTATUS[0]}"
