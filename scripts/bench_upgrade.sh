#!/usr/bin/env bash
# The one-time upgrade of a big store to schema 12 (parent keys of every span),
# two builds side by side on the same store: wall time, CPU and peak RSS.
#
# Usage: scripts/bench_upgrade.sh STORE ROUNDS NEW_BIN BASE_BIN
#   STORE: a store an older skilltrace wrote (schema 10 or 11), e.g.
#     python3 scripts/gen_corpus.py /tmp/c 1000 tests/fixtures/formats samples
#     OLD_BIN import /tmp/c --db /tmp/old.db      # OLD_BIN: a build before schema 12 (453c7b4)
#   Each round runs `BIN replay nope --db STORE` for each build in turn
#   (alternating which goes first): it opens the store, which upgrades it, and
#   stops at once (no run `nope`: exit 2), so the figures are the upgrade's
#   alone (`runs` would add its own listing: 225 MB on 1.2M spans). Then the
#   store is put back to schema 11
#   with SQL (migration 12 undone: its indexes dropped, `parent_key` dropped),
#   so no copy of the store is made. Needs the sqlite3 tool and GNU time.
set -euo pipefail
store=$1 rounds=$2 new=$3 base=$4
down() {
  sqlite3 "$store" "DROP INDEX IF EXISTS spans_tree; DROP INDEX IF EXISTS spans_orphans;
    DROP INDEX IF EXISTS spans_unresolved; ALTER TABLE spans DROP COLUMN parent_key;
    PRAGMA user_version=11; PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
}
one() {
  local name=$1 bin=$2 v
  v=$(sqlite3 "$store" "PRAGMA user_version")
  [ "$v" -ge 12 ] && down
  local t
  t=$(mktemp)
  /usr/bin/time -o "$t" -f "%e %U %S %M" "$bin" replay nope --db "$store" >/dev/null 2>&1 || true
  read -r wall user sys rss < <(tail -1 "$t")
  rm -f "$t"
  printf '%s\twall %s s\tcpu %.2f s\tpeak_rss %d MB\tload %s\n' "$name" "$wall" \
    "$(echo "$user + $sys" | bc)" $((rss / 1024)) "$(cut -d' ' -f1 /proc/loadavg)"
}
spans=$(sqlite3 "$store" "SELECT count(*) FROM spans")
echo "store $store: $spans spans, $(du -m "$store" | cut -f1) MB"
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then one new "$new"; one base "$base"; else one base "$base"; one new "$new"; fi
done
