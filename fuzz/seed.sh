#!/usr/bin/env bash
# Builds the fuzz corpora (fuzz/corpus/<target>/) from the repository's own inputs, so that they
# are reproducible rather than committed: test fixtures, the sample stream, the scenarios, the
# README's configuration examples, and the hand-made seeds in fuzz/seeds/<target>/.
# Safe to rerun: it only adds files (named by content hash); what fuzzing found stays.
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/corpus
mkdir -p "$out"/{ndjson_line,frames,line_splitter,config,scenario,v2_line,spool_segment,import_line,sweep_result}

# put TARGET: stdin becomes one corpus file named by its hash.
put() {
    local tmp
    tmp=$(mktemp)
    cat >"$tmp"
    mv "$tmp" "$out/$1/seed-$(sha1sum "$tmp" | cut -c1-16)"
}
# The frame and splitter targets read byte 0 (line limit) and bytes 1..9 (split seed) first.
prefix() { printf "\\$(printf '%03o' "$1")\\001\\002\\003\\004\\005\\006\\007\\010"; }

# Lines: the fixtures, and the first 300 lines of the sample stream.
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
cat tests/fixtures/*.jsonl >"$lines"
(gzip -dc examples/sample-stream.jsonl.gz || true) | head -n 300 >>"$lines"
while IFS= read -r line; do
    if [ -n "$line" ]; then printf '%s' "$line" | put ndjson_line; fi
done <"$lines"

# v2 lines: our fixtures and the twarc2 stream capture (when the shared reference is beside
# the repository), each line whole; the target also wraps them into the v2 envelopes.
for f in tests/fixtures/v2/*.jsonl tests/fixtures/v2/compliance/*.jsonl ../shared/reference/data/twarc2/streaming_output_with_error.jsonl; do
    [ -f "$f" ] || continue
    while IFS= read -r line; do
        if [ -n "$line" ]; then printf '%s' "$line" | put v2_line; fi
    done <"$f"
done

# Collected files: our import fixtures (the gzip one decompressed) and the twarc2 files (when
# the shared reference is beside the repository), each line whole.
for f in tests/fixtures/import/*.jsonl tests/fixtures/import/*.jsonl.gz ../shared/reference/data/twarc2/*.jsonl; do
    [ -f "$f" ] || continue
    case "$f" in *.gz) reader="gzip -dc" ;; *) reader="cat" ;; esac
    while IFS= read -r line; do
        if [ -n "$line" ]; then printf '%s' "$line" | put import_line; fi
    done < <($reader "$f")
done

# Compliance job results: the fixture's lines (the documented examples), one seed each.
while IFS= read -r line; do
    if [ -n "$line" ]; then printf '%s' "$line" | put sweep_result; fi
done <tests/fixtures/sweep/results.jsonl

# Bodies: groups of 5 lines as JSON lines (CRLF), as SSE events, and raw for the splitter.
split -l 5 "$lines" "$lines.part."
n=0
for part in "$lines".part.*; do
    n=$((n + 1))
    { prefix $((n % 5)); sed 's/$/\r/' "$part"; } | put frames
    { prefix $((n % 5)); printf ':heartbeat\n\n'; sed 's/^/data: /; s/$/\n/' "$part"; } | put frames
    { prefix $((n % 5)); cat "$part"; } | put line_splitter
    rm "$part"
done

# Configurations: every ```toml block of the README and docs, and the hand-made ones.
for doc in README.md docs/*.md; do
    awk -v base="$out/config/doc-$(basename "$doc" .md)-" '
        /^```toml/ { n++; on = 1; next }
        /^```/ { on = 0 }
        on { print > (base n ".toml") }' "$doc"
done

# Scenarios, as files.
cp scenarios/*.toml scenarios/*.json "$out/scenario/"

# Spool segments: the magic, then frames (length, CRC-32, payload) around fixture lines, one
# whole, one cut short, one with a flipped CRC, as a crash or a bit flip leaves them.
python3 - "$out/spool_segment" tests/fixtures/*.jsonl <<'PY'
import sys, zlib, struct, hashlib, os
out, files = sys.argv[1], sys.argv[2:]
lines = [l.rstrip(b"\n") for f in files for l in open(f, "rb") if l.strip()][:40]
def frame(p, crc=None):
    return struct.pack("<II", len(p), zlib.crc32(p) if crc is None else crc) + p
whole = b"SVSPOOL1" + b"".join(frame(l) for l in lines)
for seed in (whole, whole[: len(whole) // 2], b"SVSPOOL1" + frame(lines[0], 0) + frame(lines[1])):
    name = "seed-" + hashlib.sha1(seed).hexdigest()[:16]
    open(os.path.join(out, name), "wb").write(seed)
PY

# Hand-made seeds (the known hostile shapes).
for target in ndjson_line frames config scenario v2_line sweep_result; do
    if [ -d "fuzz/seeds/$target" ]; then cp "fuzz/seeds/$target"/* "$out/$target/"; fi
done
for target in ndjson_line frames line_splitter config scenario v2_line spool_segment import_line sweep_result; do
    echo "$target: $(ls "$out/$target" | wc -l) seeds"
done
