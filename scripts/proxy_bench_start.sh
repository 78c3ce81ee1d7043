# Sourced by scripts/bench_proxy.sh and scripts/proxy_sched_wait.sh (needs
# $root and $bin): a temporary folder removed on exit with every process
# started here, the local replay upstream (examples/proxy_bench_upstream.rs)
# and `skilltrace proxy` in front of it recording into $tmp/bench.db. Sets
# tmp, pids, up_port, proxy_pid and proxy_addr.
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
"$root/target/release/examples/proxy_bench_upstream" "127.0.0.1:$up_port" >"$tmp/up.log" 2>&1 &
pids+=($!)
# BENCH_POLL_US=N: the proxy's own config file with `[proxy] poll_us = N`.
proxy_env=()
if [ -n "${BENCH_POLL_US:-}" ]; then
  printf '[proxy]\npoll_us = %s\n' "$BENCH_POLL_US" >"$tmp/config.toml"
  proxy_env=(env "SKILLTRACE_CONFIG=$tmp/config.toml")
fi
"${proxy_env[@]}" "$bin" proxy --listen 127.0.0.1:0 --db "$tmp/bench.db" \
  --openai-upstream "http://127.0.0.1:$up_port" --anthropic-upstream "http://127.0.0.1:$up_port" \
  >"$tmp/proxy.out" 2>"$tmp/proxy.err" &
proxy_pid=$!
pids+=($proxy_pid)
for _ in $(seq 100); do
  grep -q "listening on" "$tmp/proxy.out" 2>/dev/null && grep -q "listening on" "$tmp/up.log" 2>/dev/null && break
  sleep 0.1
done
proxy_addr="$(sed -n 's/.*listening on http:\/\/\([^,]*\),.*/\1/p' "$tmp/proxy.out")"
[ -n "$proxy_addr" ] || { echo "$(basename "$0"): proxy did not start: $(cat "$tmp/proxy.err")" >&2; exit 1; }
