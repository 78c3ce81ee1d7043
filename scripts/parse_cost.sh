#!/usr/bin/env bash
# Instructions the parse alone spends per MB, per file and in total, counted by callgrind (the
# count does not depend on the machine's load): `examples/parse_only.rs` (FileParser::line over
# each file, nothing else) runs once per file under `valgrind --tool=callgrind`.
#
#   scripts/parse_cost.sh PARSE_ONLY_BIN DIR [OUT_DIR]
#
# PARSE_ONLY_BIN: `cargo build --release --example parse_only` puts it in
# target/release/examples/parse_only (copy it aside to compare two builds). DIR: a corpus or a
# slice of one (`scripts/slice_corpus.py`). Prints one line per file: instructions, bytes,
# instructions per byte (= M instr per MB), and the file; then the total. Start-up (a few
# hundred thousand instructions) is included in each file's count.
set -euo pipefail
bin=${1:?usage: parse_cost.sh PARSE_ONLY_BIN DIR [OUT_DIR]}
dir=${2:?usage: parse_cost.sh PARSE_ONLY_BIN DIR [OUT_DIR]}
out=${3:-$(mktemp -d)}
mkdir -p "$out"
total_i=0
total_b=0
for f in "$dir"/*; do
    [ -f "$f" ] || continue
    name=$(basename "$f")
    valgrind --tool=callgrind --callgrind-out-file="$out/$name.cg" "$bin" "$f" >/dev/null 2>"$out/$name.log"
    i=$(awk '/^summary:/{print $2}' "$out/$name.cg")
    b=$(stat -c %s "$f")
    total_i=$((total_i + i))
    total_b=$((total_b + b))
    awk -v i="$i" -v b="$b" -v n="$name" 'BEGIN{printf "%14d %10d %7.2f %s\n", i, b, i / b, n}'
done
awk -v i="$total_i" -v b="$total_b" 'BEGIN{printf "%14d %10d %7.2f TOTAL\n", i, b, i / b}'
