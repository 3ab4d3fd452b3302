#!/usr/bin/env bash
# Runs every cargo-fuzz target (issue 16, item 2) for SECONDS each (default 60) and prints, per
# target, executions per second, corpus size, peak RSS and whether anything was found.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain (`rustup toolchain
# install nightly`). The corpora are built from the repository by fuzz/seed.sh (added to, never
# replaced: what a run finds is kept for the next); findings land in fuzz/artifacts/TARGET/.
# Limits: -rss_limit_mb=512 (FUZZ_RSS_MB), -timeout=10 s per input (FUZZ_TIMEOUT). Builds
# without a sanitizer (the crate is safe Rust: panics, overflows, stack overflows, leaks past the
# RSS limit and hangs are what is looked for) and with debug assertions, so that arithmetic
# overflow panics as well. FUZZ_KEEP_GOING=1 keeps fuzzing past a finding (libFuzzer's fork mode),
# to collect several at once. Exit status: 0 when nothing was found.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift $(($# > 0 ? 1 : 0))
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(ndjson_line frames line_splitter config scenario v2_line spool_segment import_line sweep_result)
flags=(-s none -a)

fuzz/seed.sh >/dev/null
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: cargo-fuzz is not installed for nightly: cargo install cargo-fuzz" >&2
    exit 2
fi
# A failed build is a failure of the script, never a finding of each target.
if ! build_log=$(cargo +nightly fuzz build "${flags[@]}" 2>&1); then
    grep -E '^error' <<<"$build_log" >&2
    exit 2
fi
grep -E '^warning: unused' <<<"$build_log" && exit 2
mkdir -p fuzz/logs
extra=()
[ "${FUZZ_KEEP_GOING:-0}" = 1 ] && extra=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)

status=0
printf '%-14s %10s %12s %14s %8s  %s\n' target seconds exec/s corpus rss_mb found
for t in "${targets[@]}"; do
    mkdir -p "fuzz/artifacts/$t"
    before=$(ls "fuzz/artifacts/$t" | wc -l)
    log="fuzz/logs/$t.log"
    # The chunked targets are state machines: short inputs cover them far faster than the
    # sample stream's long lines (which the seeds still bring in, cut to this length).
    len=()
    case $t in frames | line_splitter) len=(-max_len="${FUZZ_MAX_LEN:-4096}") ;; esac
    cargo +nightly fuzz run "${flags[@]}" "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$secs" -rss_limit_mb="${FUZZ_RSS_MB:-512}" \
        -timeout="${FUZZ_TIMEOUT:-10}" -print_final_stats=1 "${len[@]}" "${extra[@]}" >"$log" 2>&1
    rc=$?
    after=$(ls "fuzz/artifacts/$t" | wc -l)
    execs=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
    [ -z "$execs" ] && execs=$(grep -o 'exec/s: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
    rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
    [ -z "$rss" ] && rss=$(grep -o 'rss: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
    files=$(ls "fuzz/corpus/$t" | wc -l)
    kb=$(du -sk "fuzz/corpus/$t" | cut -f1)
    if [ "$rc" -ne 0 ] || [ "$after" -ne "$before" ]; then
        found="YES: $((after - before)) new in fuzz/artifacts/$t (exit $rc; see $log)"
        status=1
    else
        found=no
    fi
    printf '%-14s %10s %12s %14s %8s  %s\n' "$t" "$secs" "${execs:-?}" "$files/${kb}K" "${rss:-?}" "$found"
done
exit $status
