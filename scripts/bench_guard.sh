#!/usr/bin/env bash
# Latency of the guard, each figure beside a baseline taken in the same run
# (examples/guard_bench.rs does the measuring):
#  - the command hook: `skilltrace guard --agent claude-code` spawned once per
#    decision with a PreToolUse/PostToolUse event on stdin, against `true`
#    spawned the same way, alternating (goal: p99 under 30 ms above `true`),
#    warm (the default, a warm judge answers) and cold (`warm_idle_secs = 0`),
#    with the CPU of the hook and of its background processes per decision;
#  - the HTTP hook: `skilltrace guard serve` under SESSIONS concurrent sessions
#    (one keep-alive connection each), every decision followed by `GET /health`
#    on the same connection, the baseline (goal: added p50 under 1 ms, p99
#    under 5 ms).
# Both run as users run them: release build, recording into a real store.
# Usage: scripts/bench_guard.sh [N command decisions, default 300] [SESSIONS, default 32] [M events per session, default 200]
# BENCH_NO_BUILD=1 uses the release binaries already built. BENCH_TIMING=1 adds the
# server's own per-phase percentiles (its logging then adds to the latency).
# BASE_BIN=PATH also measures another build (say main's) the same way, each
# half right before this build's, for a before/after in the same run.
# BENCH_PARTS=serve measures the HTTP hook only. After each serve run the
# server's CPU and context switches per 1,000 decisions are printed by thread
# role (counted figures: they separate builds better than wall time on a busy
# machine).
set -euo pipefail
n="${1:-300}"
sessions="${2:-32}"
m="${3:-200}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  cargo build -q --release --bin skilltrace --example guard_bench
fi
tmp="$(mktemp -d)"
pid=""
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
export SKILLTRACE_CONFIG="$tmp/none.toml"
bin="$root/target/release/skilltrace"
bench="$root/target/release/examples/guard_bench"
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
bins=("$bin")
[ -n "${BASE_BIN:-}" ] && bins=("$BASE_BIN" "$bin")
# One line per thread of process $1: tid, name, CPU ticks, voluntary and
# involuntary context switches.
threads() {
  for t in /proc/"$1"/task/*; do
    printf '%s %s %s %s %s\n' "${t##*/}" "$(tr ' ' _ <"$t/comm")" \
      "$(cut -d')' -f2 "$t/stat" | awk '{print $12 + $13}')" \
      "$(awk '/^voluntary_ctxt/{print $2}' "$t/status")" \
      "$(awk '/^nonvoluntary_ctxt/{print $2}' "$t/status")"
  done 2>/dev/null
}
# The server's CPU and context switches per 1,000 decisions by thread role,
# from two `threads` snapshots and the number of decisions.
per_role() {
  python3 - "$@" <<'PY'
import os, re, sys
tick = 1000.0 / os.sysconf("SC_CLK_TCK")
def load(p):
    r = {}
    for l in open(p):
        f = l.split()
        if len(f) == 5:
            r[f[0]] = (f[1], int(f[2]), int(f[3]), int(f[4]))
    return r
b, a, n = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
roles = {}
for tid, (name, cpu, vol, inv) in a.items():
    _, c0, v0, i0 = b.get(tid, (name, 0, 0, 0))
    r = roles.setdefault(re.sub(r"[-_]?[0-9]+$", "", name), [0, 0, 0, 0])
    r[0] += cpu - c0; r[1] += vol - v0; r[2] += inv - i0; r[3] += 1
k = 1000.0 / n
print(f"server per 1,000 decisions (each with one GET /health), by thread role:")
for role, (cpu, vol, inv, c) in sorted(roles.items(), key=lambda x: -x[1][0]):
    print(f"  {role:24} threads {c:3}  CPU {cpu * tick * k:7.1f} ms  switches: voluntary {vol * k:6.0f}, involuntary {inv * k:6.0f}")
t = [sum(r[i] for r in roles.values()) for i in range(3)]
print(f"  {'all':24}              CPU {t[0] * tick * k:7.1f} ms  switches: voluntary {t[1] * k:6.0f}, involuntary {t[2] * k:6.0f}")
PY
}
# The command hook warm (the default: a warm judge answers after the first
# events) and cold (`[guard] warm_idle_secs = 0`: every event judged in the
# hook's own process), each build in turn, each with its own store.
printf '[guard]\nwarm_idle_secs = 0\n' >"$tmp/cold.toml"
i=0
for mode in warm cold; do
  for b in "${bins[@]}"; do
    [ "${BENCH_PARTS:-all}" = serve ] && break 2
    i=$((i + 1))
    cfg="$tmp/none.toml"
    [ "$mode" = cold ] && cfg="$tmp/cold.toml"
    echo "== command hook $mode ($b), $n decisions (and $n spawns of true); load $(cut -d' ' -f1 /proc/loadavg 2>/dev/null)"
    SKILLTRACE_CONFIG="$cfg" "$bench" command "$b" "$tmp/command-$i.db" "$n" "$mode"
  done
done
for b in "${bins[@]}"; do
  i=$((i + 1))
  echo "== HTTP hook ($b), $sessions sessions x $m events"
  rm -f "$tmp/serve.out"
  # BENCH_TIMING=1: the server prints its phases (one stderr line per decision, which
  # itself adds to the client's latency: leave it off for the goal's figures).
  SKILLTRACE_GUARD_TIMING="${BENCH_TIMING:-}" "$b" guard serve --listen 127.0.0.1:0 --db "$tmp/http-$i.db" >"$tmp/serve.out" 2>"$tmp/serve.err" &
  pid=$!
  for _ in $(seq 600); do
    grep -q "serving hooks on" "$tmp/serve.out" 2>/dev/null && break
    sleep 0.1
  done
  addr="$(sed -n 's/.*serving hooks on http:\/\/\([^,]*\),.*/\1/p' "$tmp/serve.out")"
  [ -n "$addr" ] || { echo "bench_guard: guard serve did not start: $(cat "$tmp/serve.err")" >&2; exit 1; }
  threads "$pid" >"$tmp/threads.before"
  "$bench" http "$addr" "$sessions" "$m"
  threads "$pid" >"$tmp/threads.after"
  per_role "$tmp/threads.before" "$tmp/threads.after" $((sessions * m))
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
  # The server's own view (SKILLTRACE_GUARD_TIMING): from the request handed
  # to a judging thread to the record queued, per phase; the client's figures
  # above add the HTTP round trip and the bench client's own scheduling.
  python3 - "$tmp/serve.err" <<'PY'
import re, sys
phases = {}
for line in open(sys.argv[1], errors="replace"):
    if line.startswith("guard timing:"):
        for k, v in re.findall(r"([a-z-]+) ([0-9.]+)", line):
            phases.setdefault(k, []).append(float(v))
if phases:
    def pct(v, p):
        v = sorted(v)
        return v[min(len(v) - 1, int(p * len(v)))]
    print(f"server side ({len(phases['total'])} decisions), ms:")
    for k, v in phases.items():
        if k != "shard":
            print(f"  {k:12} p50 {pct(v, .5):7.3f}  p90 {pct(v, .9):7.3f}  p99 {pct(v, .99):7.3f}  max {max(v):7.3f}")
PY
done
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
