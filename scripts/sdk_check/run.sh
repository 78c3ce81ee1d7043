#!/usr/bin/env bash
# Runs the official openai and anthropic Python SDKs through `skilltrace proxy`
# and directly against a local replay upstream, then the official OpenTelemetry
# SDK's OTLP/HTTP exporter into `skilltrace otlp`; exits 0 when every check passes.
# Env: SKILLTRACE_BIN (skip the cargo build), SDK_CHECK_VENV (venv folder to reuse).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${SDK_CHECK_VENV:-$root/target/sdk-check-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --disable-pip-version-check -q -r "$here/requirements.txt"
bin="${SKILLTRACE_BIN:-}"
if [ -z "$bin" ]; then
  (cd "$root" && cargo build -q --bin skilltrace)
  bin="$root/target/debug/skilltrace"
fi
bin="$(realpath "$bin")"
cd "$here"
status=0
"$venv/bin/python" sdk_check.py --bin "$bin" --fixtures "$root/tests/fixtures/wire" || status=1
"$venv/bin/python" otel_check.py --bin "$bin" || status=1
exit "$status"
