#!/usr/bin/env python3
"""Peak memory of `skilltrace otlp` and `skilltrace proxy` under the attacks of
issue 13, one fresh process per case, on any build (so a change is measured
against its baseline in the same run):

    python3 scripts/bench_limits.py --bin target/release/skilltrace [--bin OTHER] [--cases a,b]

Cases: 64 held-open request bodies (receiver and proxy), a one-byte-per-5-s
drip to the receiver, gzip bombs to the receiver (32 MiB of spans, a 30 MiB
string, 700,000 tiny attributes), a gzip protobuf of 637,370 spans, a brotli
bomb through the proxy (578 bytes -> 60 MiB of JSON), one SSE stream of 200
tool calls x 4 MiB. Prints, per binary and case, peak RSS (VmHWM), the answer,
the seconds taken and the bytes stored. Linux only (reads /proc).
"""
import argparse
import gzip
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

MIB = 1 << 20
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def peak_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Server:
    def __init__(self, binary, args, config=""):
        self.dir = tempfile.mkdtemp(prefix="bench-limits-")
        cfg = os.path.join(self.dir, "config.toml")
        with open(cfg, "w") as f:
            f.write(config)
        self.db = os.path.join(self.dir, "st.db")
        env = dict(os.environ, SKILLTRACE_CONFIG=cfg, NO_COLOR="1")
        self.p = subprocess.Popen(
            [binary] + args + ["--listen", "127.0.0.1:0", "--db", self.db],
            stdout=subprocess.PIPE, stderr=open(os.path.join(self.dir, "stderr"), "w"), env=env)
        first = self.p.stdout.readline().decode()
        self.addr = first.split("http://")[1].split("/")[0].split(",")[0].strip()
        self.host, port = self.addr.rsplit(":", 1)
        self.port = int(port)

    def peak(self):
        return peak_mib(self.p.pid)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()

    def stored(self):
        return sum(os.path.getsize(self.db + s) for s in ("", "-wal") if os.path.exists(self.db + s))


def read_head(s):
    """An HTTP head off `s`, the bytes read past it, and its Content-Length (None if absent)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = None
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    return head, rest, length


def read_answer(s, timeout=120):
    s.settimeout(timeout)
    head, rest, length = read_head(s)
    status = int(head[9:12] or 0) if len(head) >= 12 else 0
    n = len(rest)
    while length is None or n < length:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        n += len(chunk)
    return status, head.decode(errors="replace"), rest[:300], n


def post(srv, path, headers, body):
    s = socket.create_connection((srv.host, srv.port))
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    try:
        s.sendall(head.encode() + body)
    except OSError:
        pass
    try:
        return read_answer(s)
    except OSError as e:
        return 0, str(e), b"", 0
    finally:
        s.close()


def held_open(srv, path, announced, sent, clients=64, hold=5.0):
    socks, lock = [], threading.Lock()
    body = b'{"resourceSpans":[],"messages":[],"pad":"' + b"a" * sent

    def one():
        s = socket.create_connection((srv.host, srv.port))
        s.settimeout(10)
        try:
            s.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      f"Content-Length: {announced}\r\n\r\n".encode())
            for k in range(0, sent, 256 << 10):
                s.sendall(body[k:k + (256 << 10)])
        except OSError:
            pass
        with lock:
            socks.append(s)

    ts = [threading.Thread(target=one) for _ in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    time.sleep(hold)
    small = post(srv, path, [("Content-Type", "application/json")],
                 b'{"resourceSpans":[]}' if "traces" in path else
                 b'{"model":"m","messages":[{"role":"user","content":"hi"}]}')
    peak = srv.peak()
    for s in socks:
        s.close()
    return peak, f"a small request meanwhile: {small[0]}"


JSON = [("Content-Type", "application/json")]
GZJSON = JSON + [("Content-Encoding", "gzip")]
SPAN = (b'{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",'
        b'"name":"execute_tool bash","startTimeUnixNano":"1700000000000000000",'
        b'"endTimeUnixNano":"1700000001000000000","attributes":[{"key":"gen_ai.tool.name",'
        b'"value":{"stringValue":"bash"}}]}')


def otlp_request(spans_json):
    return b'{"resourceSpans":[{"resource":{},"scopeSpans":[{"spans":[' + spans_json + b"]}]}]}"


def case_otlp_held_open(b):
    srv = Server(b, ["otlp"], "[limits]\nbody_timeout_secs = 60\n")
    peak, said = held_open(srv, "/v1/traces", 32 * MIB - 1, 31 * MIB)
    srv.stop()
    return peak, said, 0


def case_otlp_drip(b):
    srv = Server(b, ["otlp"])
    s = socket.create_connection((srv.host, srv.port))
    s.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              b"Content-Length: 100\r\n\r\n")
    t0, answer = time.time(), None
    stop = threading.Event()

    def drip():
        while not stop.is_set():
            try:
                s.sendall(b"{")
            except OSError:
                return
            stop.wait(5)

    threading.Thread(target=drip, daemon=True).start()
    try:
        answer = read_answer(s, timeout=45)[0]
        said = f"{answer} after {time.time() - t0:.1f} s"
    except (socket.timeout, OSError):
        said = f"still open after {time.time() - t0:.0f} s"
    stop.set()
    peak = srv.peak()
    s.close()
    srv.stop()
    return peak, said, 0


def gz_case(make):
    def run(b):
        body = gzip.compress(make(), 9)
        srv = Server(b, ["otlp"])
        st, _, text, _ = post(srv, "/v1/traces", GZJSON, body)
        peak = srv.peak()
        srv.stop()
        return peak, f"{st} ({len(body)} bytes of gzip) {text[:90].decode(errors='replace')}", srv.stored()
    return run


def attributes(n):
    parts = b",".join(b'{"key":"k%d","value":{"intValue":"1"}}' % i for i in range(n))
    return otlp_request(b'{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175",'
                        b'"name":"s","attributes":[' + parts + b"]}")


def long_string(n):
    return otlp_request(b'{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b176",'
                        b'"name":"s","attributes":[{"key":"tool.output","value":{"stringValue":"'
                        + b"x" * n + b'"}}]}')


def varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def ld(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def case_otlp_protobuf(b):
    spans = []
    for i in range(637_370):
        sid = (i + 1).to_bytes(8, "big")
        tid = (i // 64 + 1).to_bytes(8, "big") * 2
        spans.append(ld(2, ld(1, tid) + ld(2, sid) + ld(5, b"s")))
    body = gzip.compress(ld(1, ld(2, b"".join(spans))), 9)
    srv = Server(b, ["otlp"])
    st, _, text, _ = post(srv, "/v1/traces",
                          [("Content-Type", "application/x-protobuf"), ("Content-Encoding", "gzip")], body)
    time.sleep(1)
    peak = srv.peak()
    srv.stop()
    return peak, f"{st} ({len(body)} bytes of gzip) {text[:60].decode(errors='replace')}", srv.stored()


class Upstream:
    """Answers every request (after reading it) with `respond(sock)`."""

    def __init__(self, respond):
        self.l = socket.socket()
        self.l.bind(("127.0.0.1", 0))
        self.l.listen(128)
        self.url = "http://127.0.0.1:%d" % self.l.getsockname()[1]
        self.respond = respond
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            c, _ = self.l.accept()
            threading.Thread(target=self.one, args=(c,), daemon=True).start()

    def one(self, c):
        head, rest, n = read_head(c)
        n = n or 0
        while len(rest) < n:
            chunk = c.recv(1 << 20)
            if not chunk:
                return
            rest += chunk
        try:
            self.respond(c)
        except OSError:
            pass
        c.close()


def answer(body, headers):
    def respond(c):
        h = "HTTP/1.1 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
        c.sendall((h + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body)
    return respond


CHAT = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"list the files"}]}'


def case_proxy_held_open(b):
    up = Upstream(answer(b'{"id":"x","choices":[]}', [("Content-Type", "application/json")]))
    srv = Server(b, ["proxy", "--openai-upstream", up.url], "[limits]\nbody_timeout_secs = 60\n")
    peak, said = held_open(srv, "/v1/chat/completions", 16 * MIB, 15 * MIB)
    srv.stop()
    return peak, said, 0


def through_proxy(b, respond):
    """One chat request through a fresh proxy whose upstream answers with `respond`:
    (status, bytes the client got, peak MiB, bytes stored)."""
    up = Upstream(respond)
    srv = Server(b, ["proxy", "--openai-upstream", up.url])
    st, _, _, n = post(srv, "/v1/chat/completions", JSON, CHAT)
    time.sleep(2)
    peak = srv.peak()
    srv.stop()
    return st, n, peak, srv.stored()


def case_proxy_brotli(b):
    with open(os.path.join(ROOT, "tests/fixtures/bombs/chat-completion-60mib.json.br"), "rb") as f:
        bomb = f.read()
    st, n, peak, stored = through_proxy(
        b, answer(bomb, [("Content-Type", "application/json"), ("Content-Encoding", "br")]))
    return peak, f"{st}, {n} of {len(bomb)} bytes forwarded", stored


def case_proxy_sse(b):
    piece = b"a" * (64 << 10)
    events = []
    for i in range(200):
        events.append(b'data: {"id":"c1","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":'
                      b'[{"index":%d,"id":"call_%d","type":"function","function":{"name":"write_file",'
                      b'"arguments":""}}]}}]}\n\n' % (i, i))
        events.append(b'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":%d,"function":'
                      b'{"arguments":"' % i + piece + b'"}}]}}]}\n\n')
    done = b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}\n\ndata: [DONE]\n\n'
    total = sum(len(events[2 * i]) + 64 * len(events[2 * i + 1]) for i in range(200)) + len(done)

    def respond(c):
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                  b"Content-Length: %d\r\nConnection: close\r\n\r\n" % total)
        for i in range(200):
            c.sendall(events[2 * i])
            for _ in range(64):
                c.sendall(events[2 * i + 1])
        c.sendall(done)

    st, n, peak, stored = through_proxy(b, respond)
    return peak, f"{st}, {n // MIB} of {total // MIB} MiB forwarded", stored


CASES = {
    "otlp_held_open": case_otlp_held_open,
    "otlp_drip": case_otlp_drip,
    "otlp_gzip_spans": gz_case(lambda: otlp_request(b",".join([SPAN] * (32 * MIB // 260)))),
    "otlp_gzip_string": gz_case(lambda: long_string(30 * MIB)),
    "otlp_gzip_attributes": gz_case(lambda: attributes(700_000)),
    "otlp_protobuf_637k": case_otlp_protobuf,
    "proxy_held_open": case_proxy_held_open,
    "proxy_brotli_bomb": case_proxy_brotli,
    "proxy_sse_200x4mib": case_proxy_sse,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", action="append", required=True, help="skilltrace binary (repeatable)")
    ap.add_argument("--cases", default=",".join(CASES))
    a = ap.parse_args()
    print(f"{'case':22} {'binary':34} {'peak MiB':>9} {'secs':>6} {'stored MiB':>10}  answer")
    for name in a.cases.split(","):
        for b in a.bin:
            t0 = time.time()
            peak, said, stored = CASES[name](b)
            label = b if len(b) <= 34 else "…" + b[-33:]
            print(f"{name:22} {label:34} {peak:9.0f} {time.time() - t0:6.1f} {stored / MIB:10.1f}  {said}",
                  flush=True)


if __name__ == "__main__":
    sys.exit(main())
