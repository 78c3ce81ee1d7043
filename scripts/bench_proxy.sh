#!/usr/bin/env bash
# Added latency of `skilltrace proxy` versus a direct connection to the same local
# upstream (examples/proxy_bench_upstream.rs, replaying a recorded Chat Completions
# body, or its recorded SSE stream for `"stream":true`), measured with wrk in one
# run, and whether every exchange the proxy received was recorded in its store.
# The proxy runs as users run it: release build, recording into a real store.
#
# Two modes per connection count, each direct then through the proxy:
#  - paced: every connection waits between requests so the whole load is about
#    RATE req/s (default 2000): latency of an unsaturated machine, the figure that
#    says what the proxy adds to a request;
#  - flat out: no pause; requests per second, and latency under saturation (on a
#    small machine that is mostly queueing behind the CPU, not proxy work).
# After the last point the proxy is stopped and its store is counted: exchanges
# recorded (llm and http spans from proxy://) against requests received.
#
# Usage: scripts/bench_proxy.sh [seconds per measurement, default 10] [RATE]
# Environment (all optional):
#   BENCH_RATES="500 2000"   paced rates (default: RATE)
#   BENCH_KINDS="json sse"   answers measured (default: json)
#   BENCH_CONNS="32"         connection counts (default: "1 32 256")
#   BENCH_MODES="paced"      paced and/or flat (default: "paced flat")
#   BENCH_BIN=PATH           the skilltrace binary (default: target/release/skilltrace)
#   BENCH_IMPORT=same|other  with BENCH_CORPUS=DIR: `skilltrace import DIR` runs beside
#                            the measurements, into the proxy's store or another one
#                            (restarted on a fresh store, or the next copy, when it ends)
#   BENCH_NO_BUILD=1         use the release binaries already built
#   BENCH_PHASES=1           start the proxy with SKILLTRACE_PROXY_PHASES=1: each
#                            point also prints where its time went inside the proxy
#   BENCH_POLL_US=N          start the proxy with `[proxy] poll_us = N` (its own
#                            config file): the forwarding thread's poll window
#                            before it parks, 0 = off (default: the binary's)
#   BENCH_SPIN=1             keep every core from idling during the measurements
#                            (a SCHED_IDLE busy loop pinned to each core; any other
#                            thread takes the core from it at once): with it, no
#                            vCPU halts, so a wake-up never waits for one to wake
# Under each point a line gives how often the cores entered a halting idle
# state (cpuidle; on a VM each is a vCPU to wake through the host) per 1,000
# requests, direct and proxied; then, per 1,000 requests of that point, the proxy's
# forwarding and recorder+writer CPU and wake-ups and the upstream connections
# it opened, and (polling on) the time its forwarding thread polled, in how many
# windows, and in how many the core was wanted by another thread; after each point the script waits for the recorder and the writer
# to finish that point's exchanges ("settled after, s") before the next.
# At the end: the forwarding thread's CPU over 5 idle seconds (an idle proxy
# must not poll), then the store count.
# Needs wrk (Debian: apt-get install -y wrk) and sqlite3 for the store count.
set -euo pipefail
dur="${1:-10}"
rate="${2:-2000}"
rates="${BENCH_RATES:-$rate}"
kinds="${BENCH_KINDS:-json}"
conns="${BENCH_CONNS:-1 32 256}"
modes="${BENCH_MODES:-paced flat}"
import_mode="${BENCH_IMPORT:-}"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${BENCH_BIN:-$root/target/release/skilltrace}"
command -v wrk >/dev/null || { echo "bench_proxy: wrk not found (apt-get install -y wrk)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "bench_proxy: sqlite3 not found (apt-get install -y sqlite3)" >&2; exit 2; }
if [ -n "$import_mode" ]; then
  case "$import_mode" in same | other) ;; *) echo "bench_proxy: BENCH_IMPORT must be same or other" >&2; exit 2 ;; esac
  [ -d "${BENCH_CORPUS:-}" ] || { echo "bench_proxy: BENCH_IMPORT needs BENCH_CORPUS=DIR (python3 scripts/gen_corpus.py DIR 200 tests/fixtures/formats samples)" >&2; exit 2; }
fi
cd "$root"
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  cargo build -q --release --bin skilltrace --example proxy_bench_upstream
fi
[ -n "${BENCH_PHASES:-}" ] && export SKILLTRACE_PROXY_PHASES=1
. "$root/scripts/proxy_bench_start.sh"

# An import beside the proxy, over and over until the measurements end.
importer() {
  local i=0 db
  while :; do
    i=$((i + 1))
    if [ "$import_mode" = same ]; then
      # A new path each time, so the store takes it as new files.
      ln -sfn "$BENCH_CORPUS" "$tmp/corpus$i"
      db="$tmp/bench.db"
      "$bin" import "$tmp/corpus$i/" --db "$db" >/dev/null 2>>"$tmp/import.err" || echo "import exit $?" >>"$tmp/import.err"
    else
      db="$tmp/other.db"
      rm -f "$db" "$db-wal" "$db-shm"
      "$bin" import "$BENCH_CORPUS" --db "$db" >/dev/null 2>>"$tmp/import.err" || echo "import exit $?" >>"$tmp/import.err"
    fi
    echo "$(date +%s.%N) import $i done" >>"$tmp/import.log"
  done
}
# Keeps each core busy at the lowest priority, so none idles (BENCH_SPIN=1).
if [ -n "${BENCH_SPIN:-}" ]; then
  command -v chrt >/dev/null && command -v taskset >/dev/null || { echo "bench_proxy: BENCH_SPIN needs chrt and taskset (util-linux)" >&2; exit 2; }
  for c in $(seq 0 $(($(nproc) - 1))); do
    taskset -c "$c" chrt --idle 0 sh -c 'while :; do :; done' &
    pids+=($!)
  done
fi

# Halting idle entries of all cores so far (cpuidle states other than POLL).
halts() {
  local n=0 d
  for d in /sys/devices/system/cpu/cpu[0-9]*/cpuidle/state*; do
    [ -r "$d/usage" ] && [ "$(cat "$d/name")" != POLL ] && n=$((n + $(cat "$d/usage")))
  done
  echo "$n"
}

if [ -n "$import_mode" ]; then
  importer &
  import_pid=$!
  pids+=($import_pid)
  sleep 2
fi

cat >"$tmp/json.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench-not-a-real-key"
local f = io.open("$root/tests/fixtures/wire/wire-openai-chat/01_request_with_tools.json", "rb")
wrk.body = f:read("*a")
f:close()
LUA
# The same request asking for a stream: the upstream answers with the recorded SSE.
sed 's/^f:close()$/f:close()\nwrk.body = string.gsub(wrk.body, "^%s*{", "{\\"stream\\":true,", 1)/' "$tmp/json.lua" >"$tmp/sse.lua"

# wrk prints latencies as 123.45us / 1.23ms / 1.02s: convert to ms.
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }

# Paced variant: each connection pauses conns/RATE seconds between requests.
paced_script() { # kind conns rate -> script path
  local f="$tmp/paced_$1_$2_$3.lua"
  cp "$tmp/$1.lua" "$f"
  echo "function delay() return $(awk -v c="$2" -v r="$3" 'BEGIN{printf "%d", c*1000/r}') end" >>"$f"
  echo "$f"
}

sent=0
run() { # conns url script -> "p50 p99 rps"
  local c="$1" url="$2" script="$3" t=2
  [ "$c" -lt 2 ] && t=1
  wrk -t"$t" -c"$c" -d"${dur}s" --latency -s "$script" "$url" >"$tmp/wrk.out" 2>&1
  local p50 p99 rps errs
  p50="$(awk '$1=="50%"{print $2}' "$tmp/wrk.out")"
  p99="$(awk '$1=="99%"{print $2}' "$tmp/wrk.out")"
  rps="$(awk '/^Requests\/sec/{print $2}' "$tmp/wrk.out")"
  errs="$(grep -c "Non-2xx\|Socket errors" "$tmp/wrk.out" || true)"
  [ "$errs" = "0" ] || { echo "bench_proxy: errors during run:" >&2; cat "$tmp/wrk.out" >&2; }
  echo "$(to_ms "$p50") $(to_ms "$p99") $rps $(awk '/requests in/{print $1}' "$tmp/wrk.out")"
}

# A reading of the proxy for one point: its threads' CPU, wake-ups and time
# waiting for a core by role (the recorder and the writer are the niced
# threads), requests received, upstream connections accepted so far (the
# bench upstream prints a line per connection) and, from a binary started with
# SKILLTRACE_PROXY_PHASES=1 (BENCH_PHASES=1), its per-phase histograms.
snap() { # -> JSON on stdout
  python3 - "$proxy_pid" "$proxy_addr" "$tmp/up.log" <<'PY' || echo "{}"
import json, os, sys, urllib.request
pid, addr, uplog = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    health = json.load(urllib.request.urlopen(f"http://{addr}/health", timeout=30))
except Exception:
    health = {}
roles = {}
for t in os.listdir(f"/proc/{pid}/task"):
    try:
        stat = open(f"/proc/{pid}/task/{t}/stat").read().rsplit(")", 1)[1].split()
        status = open(f"/proc/{pid}/task/{t}/status").read()
        sched = open(f"/proc/{pid}/task/{t}/schedstat").read().split()
    except OSError:
        continue
    background = int(stat[16]) > 0 or int(stat[38]) in (3, 5)
    role = "bg" if background else "fwd"
    field = lambda k: int(status.split(k + ":")[1].split()[0])
    r = roles.setdefault(role, [0.0, 0, 0, 0.0])
    r[0] += int(sched[0]) / 1e6
    r[1] += field("voluntary_ctxt_switches")
    r[2] += field("nonvoluntary_ctxt_switches")
    r[3] += int(sched[1]) / 1e6
accepted = sum(1 for l in open(uplog) if l.startswith("accepted "))
# Per core: (idle + iowait, all) jiffies, to show how busy each core was.
cores = {}
for l in open("/proc/stat"):
    f = l.split()
    if f[0].startswith("cpu") and f[0] != "cpu":
        v = [int(x) for x in f[1:]]
        cores[f[0]] = [v[3] + v[4], sum(v[:8])]
# Times the cores entered a halting idle state (cpuidle states other than POLL):
# on a VM each is a vCPU that must be woken through the host.
halts = 0
base = "/sys/devices/system/cpu"
for c in os.listdir(base):
    d = f"{base}/{c}/cpuidle"
    if c.startswith("cpu") and os.path.isdir(d):
        for st in os.listdir(d):
            try:
                if open(f"{d}/{st}/name").read().strip() != "POLL":
                    halts += int(open(f"{d}/{st}/usage").read())
            except OSError:
                pass
print(json.dumps({"roles": roles, "health": health, "accepted": accepted, "cores": cores, "halts": halts}))
PY
}

# What a proxied point cost, from the readings before and after it: per 1,000
# requests, forwarding and recorder+writer CPU and wake-ups; upstream
# connections the proxy opened; how busy each core was (the whole machine);
# the phases' p50 / p99 when measured.
point_costs() { # before.json after.json -> one line
  python3 - "$1" "$2" <<'PY' || echo "?"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
n = b.get("health", {}).get("requests", 0) - a.get("health", {}).get("requests", 0)
per = 1000 / n if n > 0 else 0
def d(role, i):
    return b["roles"].get(role, [0] * 4)[i] - a["roles"].get(role, [0] * 4)[i]
out = [f"{n} req; per 1,000: fwd CPU {d('fwd', 0) * per:.0f} ms, wake-ups {d('fwd', 1) * per:.0f}, waiting {d('fwd', 3) * per:.1f} ms; rec+writer CPU {d('bg', 0) * per:.0f} ms, wake-ups {d('bg', 1) * per:.0f}; upstream conns opened {b['accepted'] - a['accepted']}"]
busy = []
for c in sorted(b.get("cores", {})):
    i0, t0 = a.get("cores", {}).get(c, [0, 0])
    i1, t1 = b["cores"][c]
    if t1 > t0:
        busy.append(f"{100 * (1 - (i1 - i0) / (t1 - t0)):.0f}%")
out.append("cores busy " + " ".join(busy) + f", halted {(b.get('halts', 0) - a.get('halts', 0)) * per:.0f} times")
pa, pb = a.get("health", {}).get("phases"), b.get("health", {}).get("phases")
if pa and pb:
    qs = []
    for ph in ("read", "upstream", "body", "total"):
        before = {e: c for e, c in pa[ph].get("counts", [])}
        diff = sorted((e, c - before.get(e, 0)) for e, c in pb[ph].get("counts", []))
        diff = [(e, c) for e, c in diff if c > 0]
        tot = sum(c for _, c in diff)
        def q(p):
            rank, seen = max(1, -(-int(p * tot * 1000) // 1000)), 0
            for e, c in diff:
                seen += c
                if seen >= rank:
                    return e / 1000
            return float("nan")
        qs.append(f"{ph} {q(.5):.2f}/{q(.99):.2f}" if tot else f"{ph} -")
    out.append("phases p50/p99 ms: " + ", ".join(qs))
    out.append(f"upstream conns used {pb.get('upstream_conns', 0)}")
wa, wb = a.get("health", {}).get("poll"), b.get("health", {}).get("poll")
if wa and wb:
    out.append(f"poll (max {wb['max_us']} us): polled {(wb['polled_us'] - wa['polled_us']) / 1000 * per:.0f} ms per 1,000 requests in {(wb['windows'] - wa['windows']) * per:.0f} windows, {(wb['contended'] - wa['contended']) * per:.0f} closed for another thread, window now {wb['window_us']} us")
print("; ".join(out))
PY
}

# Waits until the proxy has stored what a point left it (nothing queued for
# the recorder, and its niced recorder and writer threads without CPU for
# 0.5 s), so that catch-up never runs during the next point; prints the
# seconds waited.
settle() {
  python3 - "$proxy_pid" "$proxy_addr" <<'PY' || echo "?"
import json, os, sys, time, urllib.request
pid, addr = sys.argv[1], sys.argv[2]
def background_ticks():
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            stat = open(f"/proc/{pid}/task/{t}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[16]) > 0 or int(stat[38]) in (3, 5):
            total += int(stat[11]) + int(stat[12])
    return total
start, still, last = time.time(), 0, background_ticks()
while time.time() - start < 600 and still < 2:
    time.sleep(0.25)
    try:
        queued = json.load(urllib.request.urlopen(f"http://{addr}/health", timeout=30)).get("queued", 0)
    except Exception:
        queued = 0
    now = background_ticks()
    still = still + 1 if queued == 0 and now == last else 0
    last = now
print(f"{max(0.0, time.time() - start - 0.5):.1f}")
PY
}

direct="http://127.0.0.1:$up_port/v1/chat/completions"
proxied="http://$proxy_addr/v1/chat/completions"
echo "proxy benchmark: wrk, ${dur}s per point, POST /v1/chat/completions (1.3 KB request; JSON: 1.3 KB reply, SSE: the recorded tool-call stream), $(nproc) cores, load avg $(cut -d' ' -f1 /proc/loadavg), import beside: ${import_mode:-none}"
printf "%-5s %-10s %-6s | %-28s | %-28s | %-18s | %s\n" "kind" "mode" "conns" "direct p50 / p99 ms, req/s" "proxy p50 / p99 ms, req/s" "added p50 / p99 ms" "settled after, s"
for kind in $kinds; do
  for mode in $modes; do
    mode_rates="$rates"
    [ "$mode" = flat ] && mode_rates="flat"
    for r in $mode_rates; do
      for c in $conns; do
        script="$tmp/$kind.lua"
        label="flat out"
        if [ "$mode" = paced ]; then
          script="$(paced_script "$kind" "$c" "$r")"
          label="~${r}/s"
          [ "$c" = 1 ] && label="1 conn"
        fi
        h0="$(halts)"
        read -r dp50 dp99 drps dn <<<"$(run "$c" "$direct" "$script")"
        dhalts="$(awk -v h="$(($(halts) - h0))" -v n="${dn:-0}" 'BEGIN{printf "%.0f", (n > 0 ? h * 1000 / n : 0)}')"
        snap >"$tmp/before.json"
        read -r pp50 pp99 prps pn <<<"$(run "$c" "$proxied" "$script")"
        snap >"$tmp/after.json"
        sent=$((sent + ${pn:-0}))
        settled="$(settle)"
        a50="$(awk -v a="$pp50" -v b="$dp50" 'BEGIN{printf "%.3f", a-b}')"
        a99="$(awk -v a="$pp99" -v b="$dp99" 'BEGIN{printf "%.3f", a-b}')"
        printf "%-5s %-10s %-6s | %7s / %7s  %10s | %7s / %7s  %10s | %7s / %7s | %s\n" "$kind" "$label" "$c" "$dp50" "$dp99" "$drps" "$pp50" "$pp99" "$prps" "$a50" "$a99" "$settled"
        echo "      direct: halted $dhalts times per 1,000 requests; proxied: $(point_costs "$tmp/before.json" "$tmp/after.json")"
      done
    done
  done
done
if [ -n "$import_mode" ]; then
  kill -TERM "$import_pid" 2>/dev/null || true
  pkill -TERM -P "$import_pid" 2>/dev/null || true
  wait "$import_pid" 2>/dev/null || true
  done_n=0; err_n=0
  [ -f "$tmp/import.log" ] && done_n="$(wc -l <"$tmp/import.log")"
  [ -f "$tmp/import.err" ] && err_n="$(grep -c . "$tmp/import.err" || true)"
  echo "imports beside: $done_n finished during the run; $err_n lines on their stderr"
fi
# CPU time, wake-ups (voluntary context switches), preemptions (involuntary
# ones) and time spent runnable but waiting for a core (schedstat) of the
# proxy's threads, by role, per 1,000 requests: counted figures that separate
# builds even on a busy machine, where latency is mostly waiting for a core.
python3 - "$proxy_pid" "$proxy_addr" <<'PY' || true
import json, os, sys, urllib.request
pid, addr = sys.argv[1], sys.argv[2]
try:
    n = json.load(urllib.request.urlopen(f"http://{addr}/health", timeout=30))["requests"]
except Exception:
    n = 0
roles = {}
for t in os.listdir(f"/proc/{pid}/task"):
    try:
        stat = open(f"/proc/{pid}/task/{t}/stat").read().rsplit(")", 1)[1].split()
        status = open(f"/proc/{pid}/task/{t}/status").read()
        sched = open(f"/proc/{pid}/task/{t}/schedstat").read().split()
    except OSError:
        continue
    # The recorder and the store writer are the threads at a lower priority:
    # niced, or (SCHED_BATCH 3, SCHED_IDLE 5) another policy.
    background = int(stat[16]) > 0 or int(stat[38]) in (3, 5)
    role = "recorder+writer" if background else "forwarding (io + main)"
    field = lambda k: int(status.split(k + ":")[1].split()[0])
    r = roles.setdefault(role, [0.0, 0, 0, 0.0, 0])
    r[0] += int(sched[0]) / 1e6
    r[1] += field("voluntary_ctxt_switches")
    r[2] += field("nonvoluntary_ctxt_switches")
    r[3] += int(sched[1]) / 1e6
    r[4] += 1
per = 1000 / n if n else 0
print(f"proxy threads over {n} requests (totals; per 1,000 requests):")
for k, (cpu, vol, inv, wait, cnt) in sorted(roles.items()):
    print(f"  {k} ({cnt} threads): CPU {cpu:.0f} ms ({cpu*per:.1f}); wake-ups {vol} ({vol*per:.0f}); preempted {inv} ({inv*per:.1f}); waiting for a core {wait:.0f} ms ({wait*per:.2f})")
PY
# An idle proxy must not poll: its CPU over 5 s without requests (after the
# recorder has settled).
snap >"$tmp/idle0.json"
sleep 5
snap >"$tmp/idle1.json"
python3 - "$tmp/idle0.json" "$tmp/idle1.json" <<'PY' || true
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
d = lambda role, i: b["roles"].get(role, [0] * 4)[i] - a["roles"].get(role, [0] * 4)[i]
print(f"idle 5 s: forwarding CPU {d('fwd', 0):.0f} ms, wake-ups {d('fwd', 1)}; recorder+writer CPU {d('bg', 0):.0f} ms")
PY
kill -TERM "$proxy_pid"
wait "$proxy_pid" 2>/dev/null || true
echo "proxy: $(grep '^stopped:' "$tmp/proxy.err" || tail -n 1 "$tmp/proxy.err")"
others="$(grep -v '^stopped:' "$tmp/proxy.err" | head -n 5 || true)"
[ -z "$others" ] || echo "proxy stderr: $others"
received="$(sed -n 's/^stopped: \([0-9]*\) requests.*/\1/p' "$tmp/proxy.err")"
stored="$(sqlite3 -cmd ".timeout 120000" "$tmp/bench.db" "SELECT count(*) FROM spans WHERE kind IN ('llm','http') AND origin_path LIKE 'proxy://%'")"
lost=$((${received:-0} - stored))
echo "store: ${stored} exchanges recorded of ${received:-?} requests received (wrk completed ${sent}); ${lost} not recorded"
