#!/usr/bin/env bash
# Fuzzes every parser with cargo-fuzz (libFuzzer, AddressSanitizer, nightly):
# each target in fuzz/fuzz_targets/ runs for SECONDS (default 60), its corpus
# seeded from tests/fixtures/ and samples/ (trace lines, SSE streams, shell
# commands found in them, and OTLP/JSON trace and log requests re-encoded as
# protobuf).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Installs cargo-fuzz (and the nightly toolchain) when missing. Prints, per
# target, the executions run and whether any crashed; a crash leaves its input
# in fuzz/artifacts/TARGET/ and makes the script exit 1. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

cd fuzz
if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# Seeds: small files, one input each.
python3 - "${targets[@]}" <<'PY'
import glob, hashlib, json, os, struct, sys

ROOT = os.path.abspath("..")
fixtures = [p for d in ("tests/fixtures", "samples")
            for p in glob.glob(os.path.join(ROOT, d, "**", "*"), recursive=True)
            if os.path.isfile(p)]

def lines():
    for p in fixtures:
        if p.endswith((".jsonl", ".ndjson", ".json")):
            with open(p, "rb") as f:
                data = f.read()
            if p.endswith(".json") and len(data) <= 64 << 10:
                yield data
            for line in data.split(b"\n"):
                if 0 < len(line) <= 64 << 10:
                    yield line

def put(target, data):
    d = os.path.join("corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)

# --- OTLP/JSON -> protobuf, for the transcoder's seeds -------------------
def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)

def field(num, wire, payload):
    key = varint(num << 3 | wire)
    if wire == 2:
        return key + varint(len(payload)) + payload
    return key + payload

def s(num, v):
    return field(num, 2, v.encode() if isinstance(v, str) else v)

def anyvalue(v):
    if not isinstance(v, dict):
        return b""
    if "stringValue" in v:
        return s(1, str(v["stringValue"]))
    if "boolValue" in v:
        return field(2, 0, varint(1 if v["boolValue"] else 0))
    if "intValue" in v:
        return field(3, 0, varint(int(v["intValue"])))
    if "doubleValue" in v:
        return field(4, 1, struct.pack("<d", float(v["doubleValue"])))
    if "arrayValue" in v:
        return s(5, b"".join(s(1, anyvalue(x)) for x in v["arrayValue"].get("values", [])))
    if "kvlistValue" in v:
        return s(6, b"".join(s(1, kv(x)) for x in v["kvlistValue"].get("values", [])))
    return b""

def kv(a):
    return s(1, a.get("key", "")) + s(2, anyvalue(a.get("value")))

def nanos(v):
    return struct.pack("<Q", int(v or 0) & ((1 << 64) - 1))

def span(sp):
    out = s(1, bytes.fromhex(sp.get("traceId", ""))) + s(2, bytes.fromhex(sp.get("spanId", "")))
    if sp.get("parentSpanId"):
        out += s(4, bytes.fromhex(sp["parentSpanId"]))
    out += s(5, sp.get("name", "")) + field(6, 0, varint(int(sp.get("kind", 0))))
    out += field(7, 1, nanos(sp.get("startTimeUnixNano"))) + field(8, 1, nanos(sp.get("endTimeUnixNano")))
    out += b"".join(s(9, kv(a)) for a in sp.get("attributes", []))
    for e in sp.get("events", []):
        out += s(11, field(1, 1, nanos(e.get("timeUnixNano"))) + s(2, e.get("name", ""))
                 + b"".join(s(3, kv(a)) for a in e.get("attributes", [])))
    if "status" in sp:
        st = sp["status"]
        out += s(15, s(2, st.get("message", "")) + field(3, 0, varint(int(st.get("code", 0)))))
    return out

def export(req, kind, scopes, items, item):
    """An Export*ServiceRequest: resource `kind`s of scopes of encoded items."""
    out = b""
    for r in req.get(kind, []):
        body = s(1, b"".join(s(1, kv(a)) for a in r.get("resource", {}).get("attributes", [])))
        for sc_items in r.get(scopes, []):
            sc = sc_items.get("scope", {})
            body += s(2, s(1, s(1, sc.get("name", "")) + s(2, sc.get("version", "")))
                      + b"".join(s(2, item(x)) for x in sc_items.get(items, [])))
        out += s(1, body)
    return out

def request(req):
    return export(req, "resourceSpans", "scopeSpans", "spans", span)

def log_record(r):
    out = field(1, 1, nanos(r.get("timeUnixNano"))) + field(11, 1, nanos(r.get("observedTimeUnixNano")))
    out += field(2, 0, varint(int(r.get("severityNumber", 0))))
    if r.get("severityText"):
        out += s(3, r["severityText"])
    if "body" in r:
        out += s(5, anyvalue(r["body"]))
    out += b"".join(s(6, kv(a)) for a in r.get("attributes", []))
    if r.get("traceId"):
        out += s(9, bytes.fromhex(r["traceId"]))
    if r.get("spanId"):
        out += s(10, bytes.fromhex(r["spanId"]))
    if r.get("eventName"):
        out += s(12, r["eventName"])
    return out

def logs_request(req):
    return export(req, "resourceLogs", "scopeLogs", "logRecords", log_record)

def commands(v, out):
    if isinstance(v, dict):
        for k, x in v.items():
            if k in ("command", "cmd") and isinstance(x, str):
                out.append(x)
            elif k in ("command", "cmd") and isinstance(x, list) and all(isinstance(i, str) for i in x):
                out.append(" ".join(x))
            elif isinstance(x, str) and x.startswith("{"):
                try:
                    commands(json.loads(x), out)
                except ValueError:
                    pass
            else:
                commands(x, out)
    elif isinstance(v, list):
        for x in v:
            commands(x, out)

targets = sys.argv[1:]
shell = []
for line in lines():
    for t in targets:
        if (t.startswith("format_") and t != "format_otlp_logs") or t == "redact":
            put(t, line)
    try:
        v = json.loads(line)
    except ValueError:
        continue
    commands(v, shell)
    if isinstance(v, dict) and "resourceLogs" in v:
        if "format_otlp_logs" in targets:
            put("format_otlp_logs", line)
        if "otlp_logs_proto" in targets:
            try:
                put("otlp_logs_proto", logs_request(v))
            except (ValueError, TypeError, AttributeError):
                pass
    if isinstance(v, dict) and "resourceSpans" in v and "otlp_proto" in targets:
        try:
            put("otlp_proto", request(v))
        except (ValueError, TypeError, AttributeError):
            pass
if "shell" in targets:
    for c in shell[:2000]:
        put("shell", c.encode())
if "sse" in targets:
    for p in fixtures:
        if p.endswith(".sse"):
            with open(p, "rb") as f:
                put("sse", b"\x80\x40" + f.read())
for t in ("otlp_proto", "otlp_logs_proto"):
    if t in targets:
        put(t, b"")
PY

mkdir -p logs
cargo +nightly fuzz build >/dev/null 2>logs/build.txt || { cat logs/build.txt; exit 2; }

status=0
printf '%-22s %14s  %s\n' target executions result
for t in "${targets[@]}"; do
    log="logs/$t.txt"
    if cargo +nightly fuzz run "$t" "corpus/$t" -- \
        -max_total_time="$secs" -max_len=65536 -timeout=20 -rss_limit_mb=4096 \
        -print_final_stats=1 >"$log" 2>&1; then
        result=clean
    else
        result="CRASH (see fuzz/$log, input in fuzz/artifacts/$t/)"
        status=1
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    printf '%-22s %14s  %s\n' "$t" "${execs:-?}" "$result"
done
exit $status
