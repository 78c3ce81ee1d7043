#!/usr/bin/env python3
"""Import throughput benchmark: `skilltrace import` against `cat` of the same files.

Usage: bench_import.py [--size-mb N] [--runs R] [--sources DIR ...]

Builds a release binary, generates a corpus (scripts/gen_corpus.py) from the
bundled samples and fixtures, then times `cat` and `skilltrace import` into a
fresh store R times each, in the same run, and prints median, spread (min-max),
MB/s, spans/s and peak RSS. Each round imports in turn: the full pipeline; a
bare one (redaction and detection off through a config file, the baseline
issue 2 sets its goal on); and, where taskset exists, the bare one pinned to a
single CPU, whose wall rate is the literal "one core" figure. Import parses and
scans on one thread and writes SQLite on a second, so besides wall-clock MB/s
the script reports MB per CPU-second (user + system time of the process).
Each round also times the default import (with the full-text index) and two
floors on the same bytes: the `sqlite3` tool importing the corpus lines into a
one-column table (same page size, WAL), and FTS5's own bulk path, one
`INSERT … SELECT` of the stored span text into a fresh table of the store's
shape (run with the bundled SQLite the store uses: `examples/sqlite_floor.rs`).
The index's share is the default import's CPU minus `--no-index`'s. The load
average is printed before each round (the machine is shared).

`--jobs N` passes `--jobs N` to every import (default: the binary's own, one
worker per core). `--exe PATH` times a given binary instead of building one; given twice, each
binary is timed in turn on the same corpus, with its own floors beside it.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(cmd, env=None):
    """Runs cmd; returns (seconds, peak RSS in KB, stdout, CPU seconds user + system).

    Peak RSS comes from GNU time (-f %M) when present: RUSAGE_CHILDREN would also
    count earlier children such as the compiler."""
    rss_file = tempfile.mktemp(prefix="skilltrace-rss-")
    wrapped = ["/usr/bin/time", "-q", "-f", "%M %U %S", "-o", rss_file] + cmd if os.path.exists("/usr/bin/time") else cmd
    t = time.perf_counter()
    p = subprocess.run(wrapped, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        sys.stderr.write(p.stderr.decode(errors="replace"))
        raise SystemExit("bench: command failed: %s" % " ".join(cmd))
    rss, cpu = 0, dt
    try:
        fields = open(rss_file).read().split()[-3:]
        rss, cpu = int(fields[0]), float(fields[1]) + float(fields[2])
        os.remove(rss_file)
    except (OSError, ValueError, IndexError):
        pass
    return dt, rss, p.stdout.decode(errors="replace"), cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=float, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sources", nargs="*", default=[os.path.join(ROOT, "tests/fixtures/formats"), os.path.join(ROOT, "samples")])
    ap.add_argument("--extra-env", default="")
    ap.add_argument("--exe", action="append", default=[])
    ap.add_argument("--no-pin", action="store_true", help="skip the bare import pinned to one core")
    ap.add_argument("--jobs", type=int, default=0, help="pass --jobs N to every import (0: the binary's default, one worker per core; give 0 for a binary older than --jobs)")
    a = ap.parse_args()
    if not a.exe:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        a.exe = [os.path.join(ROOT, "target/release/skilltrace")]
    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "sqlite_floor"], cwd=ROOT, check=True)
    floor_exe = os.path.join(ROOT, "target/release/examples/sqlite_floor")
    for exe in a.exe:
        print("== %s" % exe)
        one(a, exe, floor_exe)


def floors(work, files, db, i, floor_exe):
    """The round's floors: (sqlite3 one-column import CPU s, wall s; FTS5 bulk CPU s, wall s)."""
    out = {}
    if shutil.which("sqlite3"):
        fdb = os.path.join(work, "floor%d.db" % i)
        script = os.path.join(work, "floor.sql")
        with open(script, "w") as f:
            f.write("PRAGMA page_size=16384;\nPRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\n"
                    "CREATE TABLE lines(line TEXT);\n.mode ascii\n.separator \"\\037\" \"\\n\"\nBEGIN;\n")
            for p in files:
                f.write(".import %s lines\n" % p)
            f.write("COMMIT;\n")
        dt, _, _, cpu = timed(["sh", "-c", 'sqlite3 "$1" < "$2" > /dev/null', "sqlite3", fdb, script])
        out["sqlite3"] = (cpu, dt)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(fdb + suffix):
                os.remove(fdb + suffix)
    sql = ("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768; "
           "CREATE VIRTUAL TABLE floor_fts USING fts5(body, content='', contentless_delete=1, tokenize='unicode61'); "
           "BEGIN; INSERT INTO floor_fts(rowid, body) SELECT key, "
           "concat_ws(' ', name, tool_name, tool_input, tool_output, text) FROM spans; COMMIT;")
    dt, _, so, cpu = timed([floor_exe, db, sql])
    out["fts5"] = (cpu, float(so.strip() or dt))
    return out


def one(a, exe, floor_exe):
    work = tempfile.mkdtemp(prefix="skilltrace-bench-")
    try:
        corpus = os.path.join(work, "corpus")
        srcs = [s for s in a.sources if os.path.isdir(s)]
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts/gen_corpus.py"), corpus, str(a.size_mb)] + srcs, check=True)
        files = sorted(os.path.join(corpus, f) for f in os.listdir(corpus))
        size = sum(os.path.getsize(f) for f in files)
        timed(["cat"] + files)  # warm the page cache
        bare_cfg = os.path.join(work, "bare.toml")
        with open(bare_cfg, "w") as f:
            f.write("[redaction]\nenabled = false\n[detection]\nenabled = false\n")
        modes = [("full", None), ("bare", bare_cfg), ("default", None)]
        # The literal "one core" figure: the bare import pinned to a single CPU,
        # so its two threads share it (needs taskset, from util-linux).
        pin = shutil.which("taskset")
        if pin and not a.no_pin:
            modes.append(("bare-1core", bare_cfg))
        cats = []
        res = {m: {"wall": [], "cpu": [], "rss": 0} for m, _ in modes}
        fl = {"sqlite3": [], "fts5": []}
        spans = 0
        for i in range(a.runs):
            print("round %d: load average %s" % (i + 1, " ".join(open("/proc/loadavg").read().split()[:3])), flush=True)
            dt, _, _, _ = timed(["sh", "-c", 'cat "$@" > /dev/null', "cat"] + files)
            cats.append(dt)
            for mode, cfg in modes:
                db = os.path.join(work, "b%d-%s.db" % (i, mode))
                env = dict(os.environ)
                env.pop("SKILLTRACE_CONFIG", None)
                if cfg:
                    env["SKILLTRACE_CONFIG"] = cfg
                for kv in filter(None, a.extra_env.split(",")):
                    k, v = kv.split("=", 1)
                    env[k] = v
                cmd = [exe, "import", corpus, "--db", db] + ([] if mode == "default" else ["--no-index"])
                if a.jobs:
                    cmd += ["--jobs", str(a.jobs)]
                if mode.endswith("-1core"):
                    cmd = [pin, "-c", "0"] + cmd
                dt, peak, out, cpu = timed(cmd, env)
                r = res[mode]
                r["wall"].append(dt)
                r["cpu"].append(cpu)
                r["rss"] = max(r["rss"], peak)
                runs = json.loads(timed([exe, "runs", "--db", db, "--format", "json"])[2])
                spans = sum(x["span_count"] for x in runs)
                if mode == "full":
                    for k, v in floors(work, files, db, i, floor_exe).items():
                        fl[k].append(v)
                for suffix in ("", "-wal", "-shm", ".key", ".canaries"):
                    if os.path.exists(db + suffix):
                        os.remove(db + suffix)
        mb = size / 1e6
        med_c = statistics.median(cats)
        print("corpus: %.1f MB in %d files, %d spans" % (mb, len(files), spans))
        print("cat:    median %.3fs (min %.3f, max %.3f) = %.0f MB/s" % (med_c, min(cats), max(cats), mb / med_c))
        for mode, _ in modes:
            r = res[mode]
            w, c = r["wall"], r["cpu"]
            mw, mc = statistics.median(w), statistics.median(c)
            print("import %s: median %.3fs (min %.3f, max %.3f) = %.1f MB/s, %.0f spans/s; "
                  "CPU %.3fs (min %.3f, max %.3f) = %.1f MB per CPU-second; peak RSS %.0f MB"
                  % (mode, mw, min(w), max(w), mb / mw, spans / mw, mc, min(c), max(c), mb / mc, r["rss"] / 1024))
        full, bare = (statistics.median(res[m]["wall"]) for m in ("full", "bare"))
        print("redaction + detection add %.0f%% (wall, medians)" % (100 * (full / bare - 1)))
        for k, v in fl.items():
            if v:
                c = [x[0] for x in v]
                w = [x[1] for x in v]
                print("floor %s: CPU median %.3fs (min %.3f, max %.3f), wall median %.3fs"
                      % (k, statistics.median(c), min(c), max(c), statistics.median(w)))
        if fl["sqlite3"]:
            ratios = [f / s[0] for f, s in zip(res["full"]["cpu"], fl["sqlite3"])]
            print("full pipeline CPU / sqlite3 floor CPU, per round: %s (median %.2fx)"
                  % (", ".join("%.2f" % r for r in ratios), statistics.median(ratios)))
        share = [d - f for d, f in zip(res["default"]["cpu"], res["full"]["cpu"])]
        wshare = [d - f for d, f in zip(res["default"]["wall"], res["full"]["wall"])]
        ratios = [s / f[0] for s, f in zip(share, fl["fts5"])]
        print("index share (default - --no-index), CPU per round: %s s; wall: %s s; "
              "against the FTS5 floor's CPU: %s (median %.2fx)"
              % (", ".join("%.2f" % x for x in share), ", ".join("%.2f" % x for x in wshare),
                 ", ".join("%.2f" % r for r in ratios), statistics.median(ratios)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
