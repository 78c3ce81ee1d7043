#!/bin/sh
# Times the index phase alone on copies of a `skilltrace import --no-index` store
# (argument 1): the FTS5 bulk floor, main's sequence before import4 (range
# transactions then optimize), import4's (merging off, range transactions,
# optimize) and the one `import` runs now (index11: FTS5's merging on, one
# 16 MiB flush per range transaction, no optimize).
# Needs `cargo build --release --example sqlite_floor`. Prints CPU s (user, system).
F="$(dirname "$0")/../target/release/examples/sqlite_floor"
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
B="concat_ws(' ', name, tool_name, tool_input, tool_output, text)"
P="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768;"
CH=""
for r in "key<=50000" "key>50000 and key<=100000" "key>100000 and key<=150000" "key>150000 and key<=200000" "key>200000"; do
  CH="$CH BEGIN; INSERT INTO spans_fts(rowid, body) SELECT key, $B FROM spans WHERE $r; COMMIT;"
done
OPT="INSERT INTO spans_fts(spans_fts) VALUES('optimize');"
BULK="INSERT INTO spans_fts(spans_fts, rank) VALUES('automerge', 0); INSERT INTO spans_fts(spans_fts, rank) VALUES('crisismerge', 256); INSERT INTO spans_fts(spans_fts, rank) VALUES('hashsize', 16777216);"
NOW="INSERT INTO spans_fts(spans_fts, rank) VALUES('hashsize', 16777216);"
NOWBACK="INSERT INTO spans_fts(spans_fts, rank) VALUES('hashsize', 1048576);"
BACK="INSERT INTO spans_fts(spans_fts, rank) VALUES('automerge', 4); INSERT INTO spans_fts(spans_fts, rank) VALUES('crisismerge', 16); INSERT INTO spans_fts(spans_fts, rank) VALUES('hashsize', 1048576);"
for i in 1 2 3; do
  echo "round $i load $(cut -d' ' -f1-3 /proc/loadavg)"
  for m in floor main import4 now; do
    cp "$1" "$W/x.db"; rm -f "$W/x.db-wal" "$W/x.db-shm"
    case $m in
      floor) S="$P CREATE VIRTUAL TABLE floor_fts USING fts5(body, content='', contentless_delete=1, tokenize='unicode61'); BEGIN; INSERT INTO floor_fts(rowid, body) SELECT key, $B FROM spans; COMMIT;";;
      main) S="$P $CH $OPT";;
      import4) S="$P $BULK $CH $OPT $BACK";;
      now) S="$P $NOW $CH $NOWBACK";;
    esac
    /usr/bin/time -f "$m %U %S" $F "$W/x.db" "$S" 2>&1 >/dev/null | tail -1
  done
done
