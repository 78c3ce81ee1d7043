#!/bin/sh
# Import speed of an archived Codex rollout (`.jsonl.zst`) against its plain twin
# (issue 15): a ~30 MB rollout made from the real Codex fixture (fresh call and turn
# ids per copy, the redacted texts replaced by random words so it compresses like
# prose, ~7:1 at zstd -3), imported with `import --no-index` into a fresh store,
# plain and compressed alternating, ROUNDS rounds. Needs python3 and the `zstd` command.
# Usage: scripts/bench_codex_zst.sh [EXE] [ROUNDS]
set -eu
EXE=${1:-target/release/skilltrace}
ROUNDS=${2:-5}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
NAME=rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl
mkdir -p "$W/p" "$W/z"
python3 - "$W/p/$NAME" <<'PY'
import random, string, sys
random.seed(7)
src = "tests/fixtures/formats/codex/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl"
lines = open(src).read().splitlines()
words = ["".join(random.choice(string.ascii_lowercase) for _ in range(random.randint(2, 9))) for _ in range(5000)]
size, i = 0, 0
with open(sys.argv[1], "w") as out:
    out.write(lines[0] + "\n")
    while size < 30_000_000:
        for l in lines[1:]:
            l = l.replace("call_", "call_r%d_" % i).replace('"turn_id":"', '"turn_id":"r%d-' % i)
            l = l.replace("[REDACTED_", "[" + " ".join(random.choice(words) for _ in range(40)) + " ")
            out.write(l + "\n")
            size += len(l) + 1
        i += 1
PY
zstd -q -3 "$W/p/$NAME" -o "$W/z/$NAME.zst"
ls -l "$W/p/$NAME" "$W/z/$NAME.zst" | awk '{print $5, $NF}'
for r in $(seq "$ROUNDS"); do
  for k in p z; do
    rm -f "$W/$k.db"*
    s=$(date +%s.%N)
    SKILLTRACE_CONFIG=/nonexistent "$EXE" import --no-index "$W/$k" --db "$W/$k.db" >/dev/null
    e=$(date +%s.%N)
    echo "$k $(echo "$e - $s" | bc) load=$(cut -d' ' -f1 /proc/loadavg)"
  done
done
for k in p z; do
  echo "$k spans: $(sqlite3 "$W/$k.db" 'SELECT count(*) FROM spans')"
done
