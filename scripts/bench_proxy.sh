#!/usr/bin/env bash
# Added latency of `skilltrace proxy` versus a direct connection to the same local
# upstream (examples/proxy_bench_upstream.rs, replaying a recorded Chat Completions
# body), measured with wrk at 1, 32 and 256 concurrent connections in one run.
# The proxy runs as users run it: release build, recording into a real store.
#
# Two modes per connection count, each direct then through the proxy:
#  - paced: every connection waits between requests so the whole load is about
#    RATE req/s (default 2000): latency of an unsaturated machine, the figure that
#    says what the proxy adds to a request;
#  - flat out: no pause; requests per second, and latency under saturation (on a
#    small machine that is mostly queueing behind the CPU, not proxy work).
# Usage: scripts/bench_proxy.sh [seconds per measurement, default 10] [RATE]
# Needs wrk (Debian: apt-get install -y wrk). BENCH_NO_BUILD=1 uses the release binaries already built.
set -euo pipefail
dur="${1:-10}"
rate="${2:-2000}"
root="$(cd "$(dirname "$0")/.." && pwd)"
command -v wrk >/dev/null || { echo "bench_proxy: wrk not found (apt-get install -y wrk)" >&2; exit 2; }
cd "$root"
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  cargo build -q --release --bin skilltrace --example proxy_bench_upstream
fi
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up_port="$(free_port)"
target/release/examples/proxy_bench_upstream "127.0.0.1:$up_port" >"$tmp/up.log" 2>&1 &
pids+=($!)
target/release/skilltrace proxy --listen 127.0.0.1:0 --db "$tmp/bench.db" \
  --openai-upstream "http://127.0.0.1:$up_port" --anthropic-upstream "http://127.0.0.1:$up_port" \
  >"$tmp/proxy.out" 2>"$tmp/proxy.err" &
proxy_pid=$!
pids+=($proxy_pid)
for _ in $(seq 100); do
  grep -q "listening on" "$tmp/proxy.out" 2>/dev/null && grep -q "listening on" "$tmp/up.log" 2>/dev/null && break
  sleep 0.1
done
proxy_addr="$(sed -n 's/.*listening on http:\/\/\([^,]*\),.*/\1/p' "$tmp/proxy.out")"
[ -n "$proxy_addr" ] || { echo "bench_proxy: proxy did not start: $(cat "$tmp/proxy.err")" >&2; exit 1; }

cat >"$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench-not-a-real-key"
local f = io.open("$root/tests/fixtures/wire/wire-openai-chat/01_request_with_tools.json", "rb")
wrk.body = f:read("*a")
f:close()
LUA

# wrk prints latencies as 123.45us / 1.23ms / 1.02s: convert to ms.
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }

# Paced variant: each connection pauses conns/RATE seconds between requests.
paced_script() { # conns -> script path
  local f="$tmp/paced_$1.lua"
  cp "$tmp/post.lua" "$f"
  echo "function delay() return $(awk -v c="$1" -v r="$rate" 'BEGIN{printf "%d", c*1000/r}') end" >>"$f"
  echo "$f"
}

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
  echo "$(to_ms "$p50") $(to_ms "$p99") $rps"
}

direct="http://127.0.0.1:$up_port/v1/chat/completions"
proxied="http://$proxy_addr/v1/chat/completions"
echo "proxy benchmark: wrk, ${dur}s per point, POST /v1/chat/completions (1.3 KB request, 1.3 KB JSON reply), $(nproc) cores, load avg $(cut -d' ' -f1 /proc/loadavg)"
printf "%-10s %-6s | %-28s | %-28s | %-18s\n" "mode" "conns" "direct p50 / p99 ms, req/s" "proxy p50 / p99 ms, req/s" "added p50 / p99 ms"
for mode in paced flat; do
  for c in 1 32 256; do
    script="$tmp/post.lua"
    label="flat out"
    if [ "$mode" = paced ]; then
      script="$(paced_script "$c")"
      label="~${rate}/s"
      [ "$c" = 1 ] && label="1 conn"
    fi
    read -r dp50 dp99 drps <<<"$(run "$c" "$direct" "$script")"
    read -r pp50 pp99 prps <<<"$(run "$c" "$proxied" "$script")"
    a50="$(awk -v a="$pp50" -v b="$dp50" 'BEGIN{printf "%.3f", a-b}')"
    a99="$(awk -v a="$pp99" -v b="$dp99" 'BEGIN{printf "%.3f", a-b}')"
    printf "%-10s %-6s | %7s / %7s  %10s | %7s / %7s  %10s | %7s / %7s\n" "$label" "$c" "$dp50" "$dp99" "$drps" "$pp50" "$pp99" "$prps" "$a50" "$a99"
  done
done
kill -TERM "$proxy_pid"
wait "$proxy_pid" 2>/dev/null || true
echo "proxy: $(tail -n 1 "$tmp/proxy.err")"
