#!/usr/bin/env python3
"""Imports one corpus with two binaries and checks they store the same findings.

Usage: compare_findings.py BASE_BIN NEW_BIN CORPUS [--jobs N] [--keep DIR]

Each binary imports CORPUS (`skilltrace import CORPUS --no-index --jobs N`) into
a fresh store that has the same store key beside it (`<db>.key`, 32 random
bytes written once for both), so keyed hashes in evidence and redaction
markers are comparable. Then it compares, exactly:

* findings: fingerprint, rule, severity, confidence, run, span ids, title,
  message, evidence, origin, skill, time, related (not the row id or
  `created_ms`, which are the import's own);
* skill hits: every column but the row id;
* spans: a digest of every stored column (detection's disguised secrets and
  canaries are redacted in them before they are stored).

Prints the counts and the first differences; exit 0 when both stores agree,
1 when they differ, 2 when an import fails. Tools for a change that must not
change what detection finds (a speed-up): run it on the default corpus.
"""
import argparse
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

FINDING_COLS = (
    "fingerprint, rule_id, severity, confidence, run_id, span_id, span_ids, title, message, "
    "evidence, origin_path, origin_line, skill_id, ts_ms, related"
)
HIT_COLS = "skill_id, version, name, method, confidence, run_id, span_id, ts_ms"


def import_into(binary, corpus, db, jobs):
    # an empty config file of its own (a device path is no config file to the binary)
    cfg = os.path.join(os.path.dirname(os.path.abspath(db)), "empty-config.toml")
    open(cfg, "w").close()
    env = dict(os.environ, SKILLTRACE_CONFIG=cfg)
    cmd = [binary, "import", corpus, "--db", db, "--no-index", "--jobs", str(jobs)]
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.stderr.write("error: import with %s: %s\n" % (binary, r.stderr.strip()[:500]))
        sys.exit(2)
    return r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.stdout.strip()


def rows(db, sql):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def span_digest(db):
    h = hashlib.sha256()
    n = 0
    con = sqlite3.connect(db)
    try:
        cols = [r[1] for r in con.execute("PRAGMA table_info(spans)") if r[1] not in ("key", "run_key", "parent_key")]
        sql = "SELECT r.id, %s FROM spans s JOIN runs r ON r.key = s.run_key ORDER BY r.id, s.id" % ", ".join(
            "s." + c for c in cols
        )
        for row in con.execute(sql):
            h.update(repr(row).encode())
            n += 1
    finally:
        con.close()
    return n, h.hexdigest()


def diff(name, a, b, limit=5):
    sa, sb = set(a), set(b)
    only_a = sorted(sa - sb)
    only_b = sorted(sb - sa)
    if len(a) != len(sa) or len(b) != len(sb):
        print("%s: duplicate rows (base %d/%d, new %d/%d)" % (name, len(a), len(sa), len(b), len(sb)))
    if not only_a and not only_b:
        print("%s: %d identical" % (name, len(sa)))
        return True
    print("%s: base %d, new %d; only in base %d, only in new %d" % (name, len(sa), len(sb), len(only_a), len(only_b)))
    for r in only_a[:limit]:
        print("  - base: %s" % (repr(r)[:400],))
    for r in only_b[:limit]:
        print("  + new:  %s" % (repr(r)[:400],))
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("new")
    ap.add_argument("corpus")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--keep", help="keep both stores in this folder")
    a = ap.parse_args()
    work = a.keep or tempfile.mkdtemp(prefix="cmpfind-")
    os.makedirs(work, exist_ok=True)
    key = os.urandom(32)
    dbs = {}
    for name, binary in (("base", a.base), ("new", a.new)):
        db = os.path.join(work, name + ".db")
        for suffix in ("", "-wal", "-shm", ".key"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        with open(db + ".key", "wb") as fh:
            fh.write(key)
        os.chmod(db + ".key", 0o600)
        print("%s: %s" % (name, import_into(binary, a.corpus, db, a.jobs)))
        dbs[name] = db
    ok = diff(
        "findings",
        rows(dbs["base"], "SELECT %s FROM findings" % FINDING_COLS),
        rows(dbs["new"], "SELECT %s FROM findings" % FINDING_COLS),
    )
    ok &= diff(
        "skill hits",
        rows(dbs["base"], "SELECT %s FROM skill_hits" % HIT_COLS),
        rows(dbs["new"], "SELECT %s FROM skill_hits" % HIT_COLS),
    )
    sa, sb = span_digest(dbs["base"]), span_digest(dbs["new"])
    if sa == sb:
        print("spans: %d identical (sha256 %s)" % (sa[0], sa[1][:16]))
    else:
        print("spans: differ: base %d %s, new %d %s" % (sa[0], sa[1][:16], sb[0], sb[1][:16]))
        ok = False
    if not a.keep:
        shutil.rmtree(work)
    print("same" if ok else "DIFFERENT")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
