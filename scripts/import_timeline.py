#!/usr/bin/env python3
"""Where an import leaves a core without work: its threads' timeline from the scheduler.

Usage: import_timeline.py PERF_DATA [--pid PID] [--cores 2]

Reads `perf sched timehist` of a `perf sched record -- skilltrace import ...`
and rebuilds, for every thread of the import process, when it ran, when it
was runnable but waiting for a core (another process's, on a busy machine),
and when it slept. A thread that is running or runnable *wants* a core; the
import keeps every core busy exactly while at least `--cores` of its threads
want one. The script names each stretch in which fewer did:

- start-up: from the process's first event until both workers want a core;
- alone <thread>: one thread wanted a core (a straggling worker, the store
  thread's last commits, the main thread's index tail and exit);
- none: no thread wanted a core (waiting on I/O: a read, an fsync).

For each it prints the wall seconds and, more useful on a busy machine, the
CPU seconds the import spent in it (run time), since a stretch's wall time
grows with the load but its CPU does not: on a quiet machine with `--cores`
cores, a stretch with one thread wanting a core costs about its CPU seconds
of wall time with the other core idle.
"""
import argparse
import re
import subprocess
import sys

SWITCH = re.compile(
    r"^\s*\[(\d+)\]\s+(\d+\.\d+):\s+sched:sched_switch:\s+prev_comm=(.*?) prev_pid=(\d+) "
    r"prev_prio=\d+ prev_state=(\S+) ==> next_comm=(.*?) next_pid=(\d+)"
)
WAKE = re.compile(
    r"^\s*\[(\d+)\]\s+(\d+\.\d+):\s+sched:sched_wak(?:ing|eup_new):\s+comm=(.*?) pid=(\d+) "
)
FORK = re.compile(
    r"^\s*\[(\d+)\]\s+(\d+\.\d+):\s+sched:sched_process_fork:\s+comm=(.*?) pid=(\d+) "
    r"child_comm=(.*?) child_pid=(\d+)"
)


def parse(path):
    """Each thread's states in time: (tid, start, end, state), state one of
    run, ready (runnable, waiting for a core), sleep, io (uninterruptible);
    the thread ids of each process (from forks); the threads' names."""
    out = subprocess.run(
        ["perf", "script", "-i", path, "-F", "cpu,time,event,trace"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        check=True,
    ).stdout.decode(errors="replace")
    state = {}  # tid -> (state, since)
    spans = []
    parent = {}
    names = {}

    def move(tid, t, new):
        old = state.get(tid)
        if old is not None and t > old[1]:
            spans.append((tid, old[1], t, old[0]))
        state[tid] = (new, t)

    for line in out.splitlines():
        m = SWITCH.match(line)
        if m:
            _cpu, t, pc, pp, ps, nc, np = m.groups()
            t, pp, np = float(t), int(pp), int(np)
            names[pp], names[np] = pc, nc
            if pp:
                move(pp, t, "ready" if ps.startswith("R") else ("io" if "D" in ps else "sleep"))
            if np:
                move(np, t, "run")
            continue
        m = WAKE.match(line)
        if m:
            _cpu, t, c, pid = m.groups()
            t, pid = float(t), int(pid)
            names.setdefault(pid, c)
            if state.get(pid, ("sleep",))[0] in ("sleep", "io"):
                move(pid, t, "ready")
            continue
        m = FORK.match(line)
        if m:
            _cpu, t, _c, pid, cc, cp = m.groups()
            parent[int(cp)] = int(pid)
            names[int(cp)] = cc
    return spans, parent, names


def process_of(tid, parent, threads_of):
    return threads_of.get(tid, tid)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--pid", type=int, help="the import's pid (default: the process with most CPU in skilltrace-import threads)")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--end", type=float, default=0.5, help="seconds at the run's end to list stretch by stretch")
    ap.add_argument("--list", type=float, metavar="MS", help="also list every stretch of the whole run longer than MS ms")
    a = ap.parse_args()
    spans, parent, names = parse(a.data)
    # Threads belong to the process that forked them (threads fork from
    # threads of the same process: follow the chain to a known pid).
    def root(tid):
        seen = 0
        while tid in parent and names.get(tid, "").startswith("skilltrace-") and seen < 64:
            tid = parent[tid]
            seen += 1
        return tid

    pid = a.pid
    if pid is None:
        cpu = {}
        for tid, s, e, st in spans:
            if st == "run" and names.get(tid, "").startswith("skilltrace-impo"):
                cpu[root(tid)] = cpu.get(root(tid), 0) + e - s
        if not cpu:
            sys.exit("import_timeline: no skilltrace-import thread in %s" % a.data)
        pid = max(cpu, key=cpu.get)
    tids = {t for t, *_ in spans if t == pid or root(t) == pid}
    mine = [s for s in spans if s[0] in tids]
    label_of = {t: ("main" if t == pid else short(names.get(t, str(t)))) for t in tids}
    # Several workers share a name: number them.
    workers = sorted(t for t in tids if names.get(t, "").startswith("skilltrace-impo"))
    for i, t in enumerate(workers):
        label_of[t] = "worker%d" % i
    t0 = min(s[1] for s in mine)
    t1 = max(s[2] for s in mine)
    total = {}
    for tid, s, e, st in mine:
        total[(tid, st)] = total.get((tid, st), 0) + e - s
    cpu_all = sum(v for (t, st), v in total.items() if st == "run")
    print("pid %d: %.3f s from its first to its last event, CPU %.3f s" % (pid, t1 - t0, cpu_all))
    for tid in sorted(tids):
        act = [s for s in mine if s[0] == tid and s[3] in ("run", "ready")]
        if not act:
            continue
        print(
            "  %-8s CPU %7.3f s, waiting for a core %7.3f s, for I/O %6.3f s, active %.3f..%.3f"
            % (
                label_of[tid],
                total.get((tid, "run"), 0),
                total.get((tid, "ready"), 0),
                total.get((tid, "io"), 0),
                min(s[1] for s in act) - t0,
                max(s[2] for s in act) - t0,
            )
        )
    ev = []
    for tid, s, e, st in mine:
        ev.append((s, 1, tid, st))
        ev.append((e, -1, tid, st))
    ev.sort(key=lambda x: (x[0], x[1]))
    count = {}
    stretches = []
    both = None
    seen = set()
    last = t0
    for t, d, tid, st in ev:
        if t > last:
            want = sorted(k[0] for k, v in count.items() if v > 0 and k[1] in ("run", "ready"))
            run = sum(1 for k, v in count.items() if v > 0 and k[1] == "run")
            io = any(v > 0 and k[1] == "io" for k, v in count.items())
            if both is None:
                label = "start-up: " + ("+".join(label_of[k] for k in want) or ("I/O" if io else "asleep"))
            elif len(want) >= a.cores:
                label = None
            elif want:
                label = "alone: " + "+".join(label_of[k] for k in want)
            else:
                label = "none: " + ("I/O" if io else "asleep")
            stretches.append((last, t, label, (t - last) * run))
            last = t
        count[(tid, st)] = count.get((tid, st), 0) + d
        if d > 0 and tid in workers and st in ("run", "ready"):
            seen.add(tid)
            if both is None and len(seen) >= min(len(workers), a.cores):
                both = t
    merged = []
    for s, e, label, cpu in stretches:
        if merged and merged[-1][2] == label:
            ps, _pe, pl, pc = merged[-1]
            merged[-1] = (ps, e, pl, pc + cpu)
        else:
            merged.append((s, e, label, cpu))
    totals = {}
    for s, e, label, cpu in merged:
        if label is None:
            continue
        w, c = totals.get(label, (0.0, 0.0))
        totals[label] = (w + e - s, c + cpu)
    print("stretches with fewer than %d of its threads wanting a core:" % a.cores)
    print("  %-40s %8s %8s" % ("", "wall s", "CPU s"))
    for label, (w, c) in sorted(totals.items(), key=lambda x: -x[1][1]):
        print("  %-40s %8.3f %8.3f" % (label, w, c))
    # Where the stretches sit: the run cut into the start-up, the middle and the end.
    last_worker = max(s[2] for s in mine if s[0] in workers and s[3] == "run") if workers else t1
    print("after the last worker ran (%.3f s before the end):" % (t1 - last_worker))
    tail = {}
    for s, e, label, cpu in merged:
        if e > last_worker:
            s2 = max(s, last_worker)
            k = label or "all cores busy"
            w, c = tail.get(k, (0.0, 0.0))
            tail[k] = (w + e - s2, c + cpu * (e - s2) / (e - s))
    for label, (w, c) in sorted(tail.items(), key=lambda x: -x[1][0]):
        print("  %-40s %8.3f %8.3f" % (label, w, c))
    if a.list is not None:
        print("every stretch over %g ms:" % a.list)
        for s, e, label, cpu in merged:
            if label is not None and (e - s) * 1e3 > a.list:
                print("  %7.3f..%7.3f %-40s %.3f CPU" % (s - t0, e - t0, label, cpu))
    print("the last %.2f s, stretch by stretch (over 2 ms):" % a.end)
    for s, e, label, cpu in merged:
        if e >= t1 - a.end and e - s > 0.002:
            print("  %7.3f..%7.3f %-40s %.3f CPU" % (s - t0, e - t0, label or "all cores busy", cpu))


def short(name):
    return {
        "skilltrace-stor": "store",
    }.get(name, name.replace("skilltrace-impo", "worker"))


if __name__ == "__main__":
    main()
