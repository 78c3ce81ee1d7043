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
Full-text indexing is timed separately (import indexes after ingest; the
figure is the rate of that phase alone).
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
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target/release/skilltrace")
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
        modes = [("full", None), ("bare", bare_cfg)]
        # The literal "one core" figure: the bare import pinned to a single CPU,
        # so its two threads share it (needs taskset, from util-linux).
        pin = shutil.which("taskset")
        if pin:
            modes.append(("bare-1core", bare_cfg))
        cats = []
        res = {m: {"wall": [], "cpu": [], "rss": 0} for m, _ in modes}
        spans = 0
        for i in range(a.runs):
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
                cmd = [exe, "import", corpus, "--db", db, "--no-index"]
                if mode.endswith("-1core"):
                    cmd = [pin, "-c", "0"] + cmd
                dt, peak, out, cpu = timed(cmd, env)
                r = res[mode]
                r["wall"].append(dt)
                r["cpu"].append(cpu)
                r["rss"] = max(r["rss"], peak)
                runs = json.loads(timed([exe, "runs", "--db", db, "--format", "json"])[2])
                spans = sum(x["span_count"] for x in runs)
                for suffix in ("", "-wal", "-shm", ".key", ".canaries"):
                    if os.path.exists(db + suffix):
                        os.remove(db + suffix)
        # FTS phase alone: import with indexing minus import without.
        db = os.path.join(work, "fts.db")
        t_fts = timed([exe, "import", corpus, "--db", db])[0]
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
        fts_only = max(t_fts - full, 1e-9)
        print("import + full-text index: %.3fs; indexing alone ~%.1f MB/s" % (t_fts, mb / fts_only))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
