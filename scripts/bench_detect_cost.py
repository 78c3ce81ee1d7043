#!/usr/bin/env python3
"""Detection's cost on import, two binaries in one run.

Usage: bench_detect_cost.py CORPUS BASE_BIN NEW_BIN [--rounds R]

For each round, in turn, imports CORPUS into a fresh store with each binary,
detection on and off (`[detection] enabled = false` through SKILLTRACE_CONFIG),
redaction on. Reports, per binary, the median CPU seconds (user + system, GNU
time) and wall seconds of each config with their spread, and detection's added
cost (on / off - 1). The two binaries' added costs side by side are the
before/after figure: measured in the same run, so machine load hits both.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def timed(cmd, env):
    out = tempfile.mktemp(prefix="detcost-")
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-q", "-f", "%U %S", "-o", out] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.stderr.write(p.stderr.decode(errors="replace"))
        raise SystemExit("bench: command failed: %s" % " ".join(cmd))
    u, s = open(out).read().split()[-2:]
    os.remove(out)
    return wall, float(u) + float(s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("base")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="detcost-")
    off = os.path.join(work, "off.toml")
    on = os.path.join(work, "on.toml")
    open(off, "w").write("[detection]\nenabled = false\n")
    open(on, "w").write("")
    res = {}
    try:
        for r in range(a.rounds):
            for name, exe in (("base", a.base), ("new", a.new)):
                for cfg_name, cfg in (("on", on), ("off", off)):
                    db = os.path.join(work, "s.db")
                    for f in (db, db + "-wal", db + "-shm"):
                        if os.path.exists(f):
                            os.remove(f)
                    env = dict(os.environ, SKILLTRACE_CONFIG=cfg)
                    w, c = timed([exe, "import", a.corpus, "--db", db, "--no-index"], env)
                    res.setdefault((name, cfg_name), []).append((w, c))
        for name in ("base", "new"):
            line = [name]
            for cfg_name in ("on", "off"):
                v = res[(name, cfg_name)]
                cpu = sorted(x[1] for x in v)
                wall = sorted(x[0] for x in v)
                line.append("det %s: cpu %.2f s [%.2f-%.2f], wall %.2f s [%.2f-%.2f]" % (
                    cfg_name, statistics.median(cpu), cpu[0], cpu[-1],
                    statistics.median(wall), wall[0], wall[-1]))
            print("  ".join(line))
        for name in ("base", "new"):
            ratios = sorted(res[(name, "on")][i][1] / res[(name, "off")][i][1] - 1 for i in range(a.rounds))
            print("%s: detection adds %.0f%% CPU (rounds %.0f%% to %.0f%%)" % (
                name, 100 * statistics.median(ratios), 100 * ratios[0], 100 * ratios[-1]))
        rel = sorted(res[("new", "on")][i][1] / res[("base", "on")][i][1] for i in range(a.rounds))
        print("new / base, full pipeline CPU: %.3fx (rounds %.3f to %.3f)" % (statistics.median(rel), rel[0], rel[-1]))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
