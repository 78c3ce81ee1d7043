#!/usr/bin/env python3
"""What cost budgets cost: an import with `[budgets]` set against the same import without,
and how soon a budget crossing is stored while tailing a large store.

Usage: bench_budget.py BIN CORPUS ROUNDS [SAMPLES]

Import: each round imports CORPUS into a fresh store twice, without budgets and with
run, day and agent-day budgets set (order alternating between rounds), and records wall
time and the child's CPU time. Budgets are set so high that nothing crosses them: every
batch with model calls pays the full check (its runs, its days), none is skipped.

Tail: the store of the last round with budgets is tailed by `BIN tail` with a run
budget of $0.10 (and the same day and agent-day budgets). SAMPLES times, a model call
of a new run is appended to a trace file, dated on the store's busiest day (the day
query reads the most calls there) and costing $0.15 (1,000,000 gpt-4o-mini input
tokens): the time from the write to the span stored, and to its COST-TRACE-001 finding
stored, are measured by polling the store read-only every millisecond.

Prints medians and ranges; the ratio with/without is per round.
"""
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

BUDGETS = """[budgets]
run = 1000000
day = 1000000
agent_day = { claude-code = 1000000, codex = 1000000, unknown = 1000000 }
"""

TAIL_BUDGETS = """[budgets]
run = 0.10
day = 1000000
agent_day = { claude-code = 1000000, codex = 1000000, unknown = 1000000 }
"""


def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_import(binary, corpus, db, config):
    env = dict(os.environ, SKILLTRACE_CONFIG=config, NO_COLOR="1")
    c0, t0 = cpu(), time.perf_counter()
    subprocess.run([binary, "import", corpus, "--db", db], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0, cpu() - c0


def med(xs):
    return "%.3f (%.3f-%.3f)" % (statistics.median(xs), min(xs), max(xs))


def query(db, sql, args=()):
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    binary, corpus, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    samples = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    tmp = tempfile.mkdtemp(prefix="bench_budget")
    none_cfg = os.path.join(tmp, "none.toml")
    budget_cfg = os.path.join(tmp, "budgets.toml")
    tail_cfg = os.path.join(tmp, "tail.toml")
    open(none_cfg, "w").write("")
    open(budget_cfg, "w").write(BUDGETS)
    open(tail_cfg, "w").write(TAIL_BUDGETS)
    walls = {"none": [], "budgets": []}
    cpus = {"none": [], "budgets": []}
    ratios, cpu_ratios = [], []
    kept = None
    for r in range(rounds):
        order = ["none", "budgets"] if r % 2 == 0 else ["budgets", "none"]
        got = {}
        for kind in order:
            db = os.path.join(tmp, "%s-%d.db" % (kind, r))
            w, c = run_import(binary, corpus, db, none_cfg if kind == "none" else budget_cfg)
            walls[kind].append(w)
            cpus[kind].append(c)
            got[kind] = (w, c)
            if kind == "budgets":
                if kept:
                    for ext in ("", "-wal", "-shm"):
                        if os.path.exists(kept + ext):
                            os.remove(kept + ext)
                kept = db
            else:
                for ext in ("", "-wal", "-shm"):
                    if os.path.exists(db + ext):
                        os.remove(db + ext)
        ratios.append(got["budgets"][0] / got["none"][0])
        cpu_ratios.append(got["budgets"][1] / got["none"][1])
        print("round %d: without %.3f s (cpu %.3f), with %.3f s (cpu %.3f)" % (
            r, got["none"][0], got["none"][1], got["budgets"][0], got["budgets"][1]), flush=True)
    spans = query(kept, "SELECT count(*) FROM spans")[0][0]
    calls = query(kept, "SELECT count(*) FROM spans WHERE input_tokens IS NOT NULL OR output_tokens IS NOT NULL")[0][0]
    day, day_calls = query(kept, """SELECT date(COALESCE(s.start_ms, s.end_ms, r.started_ms) / 1000, 'unixepoch', 'localtime') AS d,
        count(*) AS n FROM spans s JOIN runs r ON r.key = s.run_key
        WHERE s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL GROUP BY d ORDER BY n DESC LIMIT 1""")[0]
    print("store: %d spans, %d model calls, busiest day %s with %d calls" % (spans, calls, day, day_calls))
    print("import wall s, median (min-max): without %s, with budgets %s; ratio per round %s" % (
        med(walls["none"]), med(walls["budgets"]), med(ratios)))
    print("import cpu s, median (min-max): without %s, with budgets %s; ratio per round %s" % (
        med(cpus["none"]), med(cpus["budgets"]), med(cpu_ratios)))

    # Tail latency on the large store.
    traces = os.path.join(tmp, "traces")
    os.makedirs(traces)
    f = os.path.join(traces, "calls.jsonl")
    noon = int(time.mktime(time.strptime(day + " 12:00:00", "%Y-%m-%d %H:%M:%S")) * 1000)

    def line(run, sid, tokens):
        span = {"id": sid, "run_id": run, "parent_id": None, "kind": "llm", "name": "chat",
                "start_ms": noon, "end_ms": noon + 1, "status": "ok", "model": "gpt-4o-mini",
                "tool_name": None, "tool_call_id": None, "tool_input": None, "tool_output": None,
                "text": None, "attributes": {}, "input_tokens": tokens, "output_tokens": 0,
                "origin": {"path": "", "line": 0}}
        return json.dumps({"skilltrace": 1, "type": "span", "span": span}) + "\n"

    def append(text):
        with open(f, "a") as fh:
            fh.write(text)
            fh.flush()

    def wait(sql, args, limit=10.0):
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < limit:
            try:
                if query(kept, sql, args):
                    return True
            except sqlite3.OperationalError:
                pass
            time.sleep(0.001)
        return False

    span_sql = "SELECT 1 FROM spans s JOIN runs r ON r.key = s.run_key WHERE r.id = ? AND s.id = 'c1'"
    finding_sql = "SELECT 1 FROM findings WHERE run_id = ? AND rule_id = 'COST-TRACE-001'"
    append(line("warm", "c1", 10))
    env = dict(os.environ, SKILLTRACE_CONFIG=tail_cfg, NO_COLOR="1")
    tail = subprocess.Popen([binary, "tail", traces, "--db", kept, "--from-start"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait(span_sql, ("warm",), 60):
            sys.exit("tail did not start")
        to_span, to_finding = [], []
        for i in range(samples):
            run = "bench-%d-%d" % (os.getpid(), i)
            t0 = time.perf_counter()
            append(line(run, "c1", 1_000_000))
            ok_span = wait(span_sql, (run,))
            t_span = time.perf_counter() - t0
            ok_finding = wait(finding_sql, (run,))
            t_finding = time.perf_counter() - t0
            if not (ok_span and ok_finding):
                sys.exit("sample %d: span %s, finding %s" % (i, ok_span, ok_finding))
            to_span.append(t_span * 1000)
            to_finding.append(t_finding * 1000)
            time.sleep(0.2)
        print("tail, line written -> span stored, ms: median %.1f (%.1f-%.1f)" % (
            statistics.median(to_span), min(to_span), max(to_span)))
        print("tail, line written -> COST-TRACE-001 stored, ms: median %.1f (%.1f-%.1f), n=%d" % (
            statistics.median(to_finding), min(to_finding), max(to_finding), samples))
    finally:
        tail.terminate()
        tail.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
