#!/usr/bin/env python3
"""Times the real `skilltrace tui` binary in tmux: what a person waits for.

Usage:
  bench_tui.py [--big DB] --run DB [--bin BIN] [--rounds N] [--word W]
               [--baseline BIN [--baseline-big DB] [--baseline-run DB]]

`--big` (optional: without it only run_open_100k is timed) is a store of about a million spans (e.g. `skilltrace import` of
`scripts/gen_corpus.py OUT 1000 tests/fixtures/formats samples`, or the TUI
bench's `target/bench-tui/big-1m-v4.db`); `--run` holds one run of about
100,000 spans (the TUI bench's `target/bench-tui/run-100k-v4.db`). With
`--baseline`, every round runs the baseline binary and then `--bin`, on the
same stores, so the two are compared at the same load.

Each figure is the wall time from the keystroke (or from starting the
process) until tmux's copy of the screen shows the answer, found by polling
`capture-pane` through a tmux control-mode client (its resolution, about a
millisecond per look, is printed). Measured in a
160x45 pane on a private tmux server:

  first_frame      start -> the Runs view lists runs ("Runs (N)", not "loading")
  search           (2 s after the first frame) `/WORD` Enter -> the Search
                   view's first page of hits
  findings_j       Findings view, `j` -> the screen changed
  findings_pgdn    Findings view, PgDn -> changed
  triage_x_u       `x` -> changed, then `u` -> changed (the two summed)
  run_next_flag    from a finding, Enter (its span in the Run view), then `n` -> changed
  run_open_100k    (on --run) Enter on the run -> its first page of spans
  peak_rss_mb      VmHWM of the TUI process after all of the above

Prints each round, then per binary the median and the spread (min-max).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

SOCK = f"skilltrace-bench-tui-{os.getpid()}"
W, H = 160, 45


def tmux(*args, check=True):
    return subprocess.run(["tmux", "-L", SOCK, *args], check=check,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True).stdout


class Control:
    """A tmux control-mode client: captures the pane without starting a
    process per look (spawning `tmux capture-pane` costs tens of ms on a
    busy machine; a command on this pipe costs about one)."""

    def __init__(self):
        self.p = subprocess.Popen(["tmux", "-L", SOCK, "-C", "attach", "-t", "b"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, bufsize=1,
                                  encoding="utf-8", errors="replace")
        self.cmd("refresh-client -f no-output")

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        out, inside = [], False
        while True:
            l = self.p.stdout.readline()
            if not l:
                raise SystemExit("error: bench_tui: the tmux control client stopped")
            l = l.rstrip("\n")
            if l.startswith("%begin"):
                inside, out = True, []
            elif l.startswith("%end") or l.startswith("%error"):
                if inside:
                    return "\n".join(out)
            elif inside:
                out.append(l)

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(timeout=2)
        except Exception:
            self.p.kill()


CTL = None


def screen(escapes=False):
    return CTL.cmd("capture-pane -p -t b" + (" -e" if escapes else ""))


def wait(pred, timeout=30.0, escapes=False):
    """Polls the pane until pred(screen) holds; returns the time it first held."""
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        s = screen(escapes)
        if pred(s):
            return time.perf_counter(), s
    raise SystemExit(f"error: bench_tui: timed out; the screen was:\n{screen()}")


def keys(*k):
    tmux("send-keys", "-t", "b", *k)


def changed_after(*k, settle=0.3):
    """Sends keys once the screen has been still; returns ms until it changes."""
    time.sleep(settle)
    before = screen(escapes=True)
    t0 = time.perf_counter()
    keys(*k)
    t1, _ = wait(lambda s: s != before, escapes=True)
    return (t1 - t0) * 1e3


def listed(s, title):
    """The view titled `title` ("` Runs (`") shows rows: a count above 0, not loading."""
    for line in s.splitlines():
        i = line.find(title)
        if i >= 0:
            n = line[i + len(title):].split(")")[0]
            return n.isdigit() and int(n) > 0 and "loading…" not in s
    return False


def runs_listed(s):
    return listed(s, " Runs (")


def start(binary, db):
    """Starts the TUI in a held pane; returns ms from its start to its first
    page of runs, and its pid."""
    global CTL
    stop()
    # The pane waits for a signal so the control client is attached before the clock starts.
    tmux("new-session", "-d", "-s", "b", "-x", str(W), "-y", str(H),
         f"tmux -L {SOCK} wait-for go; exec {binary} tui --db {db}")
    CTL = Control()
    t0 = time.perf_counter()
    tmux("wait-for", "-S", "go")
    t1, _ = wait(runs_listed, timeout=120)
    pid = tmux("display", "-p", "-t", "b", "#{pane_pid}").strip()
    return (t1 - t0) * 1e3, pid


def stop():
    global CTL
    if CTL is not None:
        CTL.close()
        CTL = None
    tmux("kill-server", check=False)


def vmhwm_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def resolution_ms():
    t0 = time.perf_counter()
    for _ in range(20):
        screen(escapes=True)
    return (time.perf_counter() - t0) / 20 * 1e3


def one_round(binary, big, run, word):
    out = {}
    if big is not None:
        big_store_round(out, binary, big, word)
    _, pid = start(binary, run)
    time.sleep(0.5)
    t0 = time.perf_counter()
    keys("Enter")
    t1, _ = wait(lambda s: " spans) " in s and "loading…" not in s)
    out["run_open_100k"] = (t1 - t0) * 1e3
    out["peak_rss_mb_100k"] = vmhwm_mb(pid)
    keys("q")
    stop()
    return out


def big_store_round(out, binary, big, word):
    out["first_frame"], pid = start(binary, big)
    # A person reads the first screen before typing: side queries (counts,
    # costs, sparklines) finish meanwhile.
    time.sleep(2.0)
    keys("/")
    time.sleep(0.2)
    keys("-l", word)
    time.sleep(0.2)
    t0 = time.perf_counter()
    keys("Enter")
    t1, _ = wait(lambda s: f"Search “{word}” ·" in s and "searching…" not in s
                 and f"Search “{word}” · 0 hits" not in s)
    out["search"] = (t1 - t0) * 1e3
    keys("Escape")
    time.sleep(0.3)
    keys("Tab")
    wait(lambda s: listed(s, " Findings ("), timeout=120)
    out["findings_j"] = changed_after("j")
    out["findings_pgdn"] = changed_after("PageDown")
    out["triage_x_u"] = changed_after("x") + changed_after("u")
    # Drill from the finding to its span, then jump to the next flagged span.
    keys("Enter")
    wait(lambda s: " Run " in s and "loading…" not in s)
    out["run_next_flag"] = changed_after("n")
    out["peak_rss_mb"] = vmhwm_mb(pid)
    keys("q")
    time.sleep(0.2)


def load():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", help="the big store (left out: only run_open_100k is timed)")
    ap.add_argument("--run", required=True)
    ap.add_argument("--bin", default="target/release/skilltrace")
    ap.add_argument("--baseline")
    ap.add_argument("--baseline-big", help="the baseline's copy of --big (a newer binary "
                    "upgrades a store's schema, which an older one then refuses)")
    ap.add_argument("--baseline-run", help="the baseline's copy of --run")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--word", default="the")
    a = ap.parse_args()
    for p in [a.big or a.run, a.run, a.bin] + ([a.baseline] if a.baseline else []):
        if not os.path.exists(p):
            print(f"error: bench_tui: {p}: no such file", file=sys.stderr)
            sys.exit(2)
    bins = ([("baseline", a.baseline, a.baseline_big or a.big if a.big else None,
              a.baseline_run or a.run)]
            if a.baseline else []) + [("this", a.bin, a.big, a.run)]
    global CTL
    tmux("new-session", "-d", "-s", "b", "-x", str(W), "-y", str(H), "sleep 30")
    CTL = Control()
    print(f"capture-pane poll: {resolution_ms():.1f} ms per look")
    stop()
    results = {b[0]: [] for b in bins}
    try:
        for r in range(a.rounds):
            for name, b, big, run in bins:
                la = load()
                res = one_round(os.path.abspath(b), big, run, a.word)
                res["load"] = float(la)
                results[name].append(res)
                print(f"round {r + 1} {name} (load {la}): "
                      + ", ".join(f"{k} {v:.1f}" for k, v in res.items() if k != "load"),
                      flush=True)
    finally:
        stop()
    for name, rs in results.items():
        print(f"\n{name}: median (min-max) over {len(rs)} rounds, "
              f"load {min(x['load'] for x in rs):.1f}-{max(x['load'] for x in rs):.1f}")
        for k in rs[0]:
            if k == "load":
                continue
            v = sorted(x[k] for x in rs)
            print(f"  {k:18} {statistics.median(v):8.1f}  ({v[0]:.1f}-{v[-1]:.1f})")


if __name__ == "__main__":
    main()
