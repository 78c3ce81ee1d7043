#!/usr/bin/env python3
"""Detection's cost on import, two binaries compared in one run.

Usage: bench_detection_cost.py BASELINE_BIN NEW_BIN CORPUS_DIR ROUNDS

Each round runs `skilltrace import CORPUS --no-index` into a fresh store for
each binary with detection on and off (a config file with
`[detection] enabled = false`), alternating, and reports wall and CPU time
(user + system of the child) medians and spreads. Detection's cost is the
difference between on and off for the same binary; CPU time is the steadier
figure on a shared machine.
"""
import os, resource, subprocess, sys, tempfile, time, statistics
if len(sys.argv) != 5:
    sys.exit(__doc__)
bins = {"baseline": sys.argv[1], "new": sys.argv[2]}
corpus = sys.argv[3]; rounds = int(sys.argv[4])
off = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False); off.write("[detection]\nenabled = false\n"); off.close()
on = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False); on.write("\n"); on.close()
res = {}
for r in range(rounds):
    for name, b in bins.items():
        for det, cfg in (("on", on.name), ("off", off.name)):
            d = tempfile.mkdtemp()
            env = dict(os.environ, SKILLTRACE_CONFIG=cfg, SKILLTRACE_DB=d + "/s.db", XDG_DATA_HOME=d)
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN); t = time.perf_counter()
            subprocess.run([b, "import", corpus, "--no-index"], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            w = time.perf_counter() - t; r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
            res.setdefault((name, det), []).append((w, cpu))
            subprocess.run(["rm", "-rf", d])
for k, v in sorted(res.items()):
    ws = [x[0] for x in v]; cs = [x[1] for x in v]
    print(f"{k[0]:8} detection {k[1]:3}: wall median {statistics.median(ws):.3f} s ({min(ws):.3f}-{max(ws):.3f}), cpu median {statistics.median(cs):.3f} s ({min(cs):.3f}-{max(cs):.3f})")
for name in bins:
    on_w = statistics.median(x[0] for x in res[(name, "on")]); off_w = statistics.median(x[0] for x in res[(name, "off")])
    on_c = statistics.median(x[1] for x in res[(name, "on")]); off_c = statistics.median(x[1] for x in res[(name, "off")])
    print(f"{name}: detection adds {on_w-off_w:.3f} s wall ({100*(on_w/off_w-1):.0f}%), {on_c-off_c:.3f} s cpu ({100*(on_c/off_c-1):.0f}%)")
dm = statistics.median(x[1] for x in res[("baseline","on")]) - statistics.median(x[1] for x in res[("baseline","off")])
dn = statistics.median(x[1] for x in res[("new","on")]) - statistics.median(x[1] for x in res[("new","off")])
wm = statistics.median(x[0] for x in res[("baseline","on")]); wn = statistics.median(x[0] for x in res[("new","on")])
cm = statistics.median(x[1] for x in res[("baseline","on")]); cn = statistics.median(x[1] for x in res[("new","on")])
print(f"detection cpu cost new/baseline: {dn/dm:.2f}x; full import cpu new/baseline: {cn/cm:.2f}x; wall {wn/wm:.2f}x")
