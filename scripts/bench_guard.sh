#!/usr/bin/env bash
# Latency of the guard, each figure beside a baseline taken in the same run
# (examples/guard_bench.rs does the measuring):
#  - the command hook: `skilltrace guard --agent claude-code` spawned once per
#    decision with a PreToolUse/PostToolUse event on stdin, against `true`
#    spawned the same way, alternating (goal: p99 under 30 ms above `true`);
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
i=0
for b in "${bins[@]}"; do
  i=$((i + 1))
  echo "== command hook ($b), $n decisions (and $n spawns of true)"
  "$bench" command "$b" "$tmp/command-$i.db" "$n"
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
  "$bench" http "$addr" "$sessions" "$m"
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
