#!/usr/bin/env python3
"""The pages an import wrote, by B-tree: frames of a copied WAL mapped with `dbstat`.

Usage: wal_frames_by_btree.py DB WAL_COPY

Hold a read transaction on DB in another process while the import runs (so
nothing is checkpointed), copy DB-wal to WAL_COPY when it ends, then run this
with DB still beside its WAL. Prints frames, commit frames, frames per commit,
and the frames of each B-tree, most first (BENCHMARKS.md, "The findings'
dedup key at 1 GB").
"""
import collections
import sqlite3
import struct
import sys


def main():
    db, wal = sys.argv[1], sys.argv[2]
    data = open(wal, "rb").read()
    psize = struct.unpack(">I", data[8:12])[0]
    off, frames, commits = 32, [], 0
    while off + 24 + psize <= len(data):
        page, after = struct.unpack(">II", data[off : off + 8])
        frames.append(page)
        commits += after != 0
        off += 24 + psize
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    names = {p: n for n, p in con.execute("SELECT name, pageno FROM dbstat")}
    by = collections.Counter(names.get(p, "(free/other)") for p in frames)
    print("page_size", psize, "frames", len(frames), "commits", commits,
          "per_commit", round(len(frames) / max(commits, 1), 1))
    for name, n in by.most_common():
        print("%-34s %6d" % (name, n))


if __name__ == "__main__":
    main()
