#!/usr/bin/env bash
# Where the proxy's forwarding threads wait for a core: one paced point (32
# connections, wrk, 6 s) through `skilltrace proxy` against the local replay
# upstream, with `perf sched record` for 3 s inside it; each wake-up of a
# forwarding thread that had to wait is charged to the task that held the core
# just before it ran (the proxy's own recorder and store writer, its other
# forwarding threads, the bench's wrk and upstream, anything else, or no one:
# an idle core, where the wait is the time a halted vCPU took to wake).
# A counted figure: it separates builds on a busy machine where latency does not.
#
# Usage: scripts/proxy_sched_wait.sh [json|sse] [RATE]   (default: json 2000)
# Environment: BENCH_BIN=PATH (default target/release/skilltrace).
# Needs wrk and perf (Debian: apt-get install -y wrk linux-perf), and the right
# to trace the scheduler (root, or kernel.perf_event_paranoid <= -1).
set -euo pipefail
kind="${1:-json}"
rate="${2:-2000}"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${BENCH_BIN:-$root/target/release/skilltrace}"
for t in wrk perf; do command -v "$t" >/dev/null || { echo "proxy_sched_wait: $t not found" >&2; exit 2; }; done
case "$kind" in json | sse) ;; *) echo "proxy_sched_wait: kind must be json or sse" >&2; exit 2 ;; esac
. "$root/scripts/proxy_bench_start.sh"
ppid=$proxy_pid
addr=$proxy_addr
cat >"$tmp/s.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$root/tests/fixtures/wire/wire-openai-chat/01_request_with_tools.json", "rb")
wrk.body = f:read("*a")
f:close()
LUA
[ "$kind" = sse ] && echo 'wrk.body = string.gsub(wrk.body, "^%s*{", "{\"stream\":true,", 1)' >>"$tmp/s.lua"
echo "function delay() return $((32 * 1000 / rate)) end" >>"$tmp/s.lua"
# The recorder and the writer: the threads at a lower priority (niced, or SCHED_BATCH/SCHED_IDLE).
(
  sleep 1.5
  for t in /proc/$ppid/task/*; do
    s="$(cat "$t/stat")"; s="${s##*) }"; set -- $s
    if [ "${17}" != 0 ] || [ "${39}" = 3 ] || [ "${39}" = 5 ]; then echo "${t##*/}"; fi
  done >"$tmp/bg.tids"
  perf sched record -q -o "$tmp/perf.data" -- sleep 3 >/dev/null 2>&1
) &
perfpid=$!
wrk -t2 -c32 -d6s --latency -s "$tmp/s.lua" "http://$addr/v1/chat/completions" >"$tmp/wrk.out"
wait "$perfpid"
echo "$kind ~$rate/s, 32 connections, load avg $(cut -d' ' -f1 /proc/loadavg), $(basename "$bin"): wrk $(grep -E '^ +(50|99)%|Requests/sec' "$tmp/wrk.out" | tr -s ' ' | tr '\n' ' ')"
perf sched timehist -i "$tmp/perf.data" 2>/dev/null >"$tmp/th.txt"
python3 - "$tmp/th.txt" "$ppid" "$tmp/bg.tids" <<'PY'
import collections, re, sys
pid = sys.argv[2]
bg = set(open(sys.argv[3]).read().split())
# time [cpu] comm[tid/pid] wait sch-delay run: the task that ran until `time`
# (an idle core is `<idle>`, without ids).
row = re.compile(r"^\s*([\d.]+)\s+\[(\d+)\]\s+(.+?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$")
name = re.compile(r"^(.*)\[(\d+)(?:/(\d+))?\]$")
def who(comm, tid, tpid):
    if comm.startswith("<idle>"):
        return "idle core (vCPU woken)"
    if pid in (tpid, tid):
        return "proxy recorder+writer" if tid in bg else "proxy forwarding"
    if comm.startswith(("wrk", "proxy_bench", "tokio-runtime")):
        return "bench (wrk, upstream)"
    return "others"
last, total, count, waits = {}, collections.Counter(), collections.Counter(), []
over = collections.Counter()
by_role = collections.defaultdict(list)
for line in open(sys.argv[1]):
    m = row.match(line)
    if not m:
        continue
    _, cpu, task, _, sch, _ = m.groups()
    n = name.match(task)
    comm, tid, tpid = (n.group(1), n.group(2), n.group(3)) if n else (task, "0", None)
    me = who(comm, tid, tpid)
    if float(sch) > 0:
        by_role[me].append(float(sch))
    if me == "proxy forwarding" and float(sch) > 0:
        held = last.get(cpu, "?")
        total[held] += float(sch)
        count[held] += 1
        if float(sch) >= 0.5:
            over[held] += 1
        waits.append(float(sch))
    last[cpu] = me
waits.sort()
q = lambda p: waits[min(len(waits) - 1, int(p * len(waits)))] if waits else 0.0
print(f"forwarding-thread wake-ups that waited for a core: {len(waits)}; wait p50 {q(.5):.3f}, p99 {q(.99):.3f}, max {q(1):.3f} ms; charged to the task that held the core:")
for k, v in total.most_common():
    print(f"  {k:24} {count[k]:6} waits {v:9.1f} ms  (mean {v / count[k]:.3f} ms; {over[k]} of them >= 0.5 ms)")
print("wake-up to running (sch delay) by role, every wake-up that waited: n, p50 / p99 / max ms")
for k in sorted(by_role):
    w = sorted(by_role[k])
    qq = lambda p: w[min(len(w) - 1, int(p * len(w)))]
    print(f"  {k:24} {len(w):6}  {qq(.5):.3f} / {qq(.99):.3f} / {w[-1]:.3f}")
PY
