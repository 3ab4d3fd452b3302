#!/usr/bin/env bash
# The full-scale outage runs of issue 17 (tests/long_outage.rs), one after the other, with
# their figures: a 3,000 events/s live stream, PostgreSQL unreachable for 10 minutes, then the
# SQLite write lock held by another process for 5 minutes. About 25 minutes in all, and some
# 10 GB of spool and archive on the temporary directory's disk.
#   LONG_OUTAGE_RATE            events/s (default here 3000)
#   LONG_OUTAGE_PG_SECS         PostgreSQL outage, seconds (default here 600)
#   LONG_OUTAGE_SQLITE_SECS     SQLite lock, seconds (default here 300)
#   LONG_OUTAGE_SPOOL_MAX_BYTES spool.max_bytes (default here 16 GiB: at 3,000 events/s a
#                               10-minute outage outgrows the daemon's default 4 GiB)
# Extra arguments go to nextest (e.g. a test name filter: `postgres` or `sqlite`).
set -uo pipefail
cd "$(dirname "$0")/.."
export LONG_OUTAGE_RATE="${LONG_OUTAGE_RATE:-3000}"
export LONG_OUTAGE_PG_SECS="${LONG_OUTAGE_PG_SECS:-600}"
export LONG_OUTAGE_SQLITE_SECS="${LONG_OUTAGE_SQLITE_SECS:-300}"
export LONG_OUTAGE_SPOOL_MAX_BYTES="${LONG_OUTAGE_SPOOL_MAX_BYTES:-17179869184}"
cargo nextest run --release --no-fail-fast --no-capture --test long_outage "$@" 2>&1 \
  | grep -Ev '^\s+(Compiling|Blocking)' \
  | sed 's/\x1b\[[0-9;]*m//g'
exit "${PIPESTATUS[0]}"
