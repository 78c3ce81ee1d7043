#!/usr/bin/env python3
"""Many writers on one store, at the scale issue 13 reported them, for any binary.

Runs, against each `--bin` given (e.g. a baseline build and this one, in the
same run):

  six     tail, two imports, `otlp`, `proxy` and the TUI (`tui --tail`, in tmux
          when installed) on one existing store: spans/exchanges sent vs stored,
          exit codes, stderr lines;
  new     five imports started together on a new store, five rounds: how many
          exited 0, and the stderr of those that did not;
  burst   the proxy while another connection holds the store's write lock for
          a while: exchanges sent vs recorded;
  c2000   2,000 concurrent requests through the proxy: sent vs recorded;
  full    the proxy with its store on a tmpfs filled to the last byte, then
          freed (root only): exchanges sent vs recorded, and when stderr said so.

Usage: python3 scripts/many_writers.py --bin target/release/skilltrace [--bin OTHER] [--only six,new,...]
"""

import argparse
import asyncio
import http.server
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

REPLY = json.dumps({
    "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}).encode()


class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("content-length") or 0)
        self.rfile.read(n)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(REPLY)))
        self.end_headers()
        self.wfile.write(REPLY)

    def log_message(self, *a):
        pass


def upstream():
    http.server.ThreadingHTTPServer.request_queue_size = 4096
    s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    s.daemon_threads = True
    threading.Thread(target=s.serve_forever, daemon=True).start()
    return "http://127.0.0.1:%d" % s.server_address[1]


def native(run, start, n, text):
    return "".join(
        json.dumps({"skilltrace": 1, "type": "span", "span": {
            "id": "s%d" % i, "run_id": run, "kind": "tool", "name": "Bash", "status": "ok",
            "start_ms": 1700000000000 + i, "text": "%s %d" % (text, i),
            "origin": {"path": "", "line": 0}}}) + "\n"
        for i in range(start, start + n))


def otlp_body(trace, start, n):
    spans = [{"traceId": trace, "spanId": "%016x" % (i + 1), "name": "op %d" % i, "kind": 1,
              "startTimeUnixNano": str(1700000000000000000 + i * 1000000),
              "endTimeUnixNano": str(1700000000000000000 + i * 1000000 + 500000)}
             for i in range(start, start + n)]
    return json.dumps({"resourceSpans": [{"resource": {"attributes": []},
                                          "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]}).encode()


def env():
    e = dict(os.environ)
    e["SKILLTRACE_CONFIG"] = "/nonexistent/skilltrace.toml"
    e["NO_COLOR"] = "1"
    return e


class Server:
    """A `skilltrace otlp|proxy` process: its address from the banner, stderr collected."""

    def __init__(self, args):
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(), text=True)
        first = self.p.stdout.readline()
        self.addr = first.split("http://")[1].split("/")[0].split(",")[0].strip()
        self.err = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stderr:
            self.err.append((time.time(), line.rstrip("\n")))

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            code = self.p.wait(120)
        except subprocess.TimeoutExpired:
            self.p.kill()
            code = "killed"
        time.sleep(0.2)
        return code, [l for _, l in self.err]


def post(addr, path, body, headers=()):
    """One request on its own connection: (status, raw response head)."""
    import socket
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=300)
    head = "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nConnection: close\r\n" % (path, addr, len(body))
    for k, v in headers:
        head += "%s: %s\r\n" % (k, v)
    s.sendall(head.encode() + b"\r\n" + body)
    data = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    s.close()
    try:
        return int(data[9:12]), data.decode("latin-1")
    except ValueError:
        return 0, data.decode("latin-1")


def export(addr, body):
    """An exporter: retries 429/503 after Retry-After. Returns (accepted, retries, other failures)."""
    retries = 0
    while True:
        code, resp = post(addr, "/v1/traces", body, [("Content-Type", "application/json")])
        if code == 200:
            return True, retries, 0
        if code in (429, 503) and retries < 300:
            retries += 1
            time.sleep(0.2)
            continue
        return False, retries, 1


def chat(addr, i, big=""):
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "question %d %s" % (i, big)}]}).encode()
    code, _ = post(addr, "/v1/chat/completions", body,
                   [("Content-Type", "application/json"), ("Authorization", "Bearer sk-test-0123456789abcdef")])
    return code


def count(db, where):
    for _ in range(50):
        try:
            c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
            n = c.execute("SELECT count(*) FROM spans WHERE " + where).fetchone()[0]
            c.close()
            return n
        except sqlite3.Error:
            time.sleep(0.2)
    return -1


def wait_count(db, where, want, secs):
    end = time.time() + secs
    n = count(db, where)
    while n < want and time.time() < end:
        time.sleep(0.5)
        n = count(db, where)
    return n


def bad(lines):
    return [l for l in lines if l.lower().startswith("error") or "panicked" in l or "locked" in l]


def six(bin, tmp):
    db = os.path.join(tmp, "store", "st.db")
    seed = os.path.join(tmp, "seed.jsonl")
    open(seed, "w").write(native("r-seed", 0, 100, "seed"))
    subprocess.run([bin, "import", "--db", db, seed], env=env(), capture_output=True)
    tdir, udir = os.path.join(tmp, "tailed"), os.path.join(tmp, "tui")
    os.makedirs(tdir)
    os.makedirs(udir)
    tfile, ufile = os.path.join(tdir, "a.jsonl"), os.path.join(udir, "b.jsonl")
    open(tfile, "w").close()
    open(ufile, "w").close()
    imports = []
    N_IMPORT, N_TAIL, N_TUI, REQS, PER, EXCH = 50000, 5000, 2000, 110, 20, 200
    for k in (1, 2):
        f = os.path.join(tmp, "imp%d.jsonl" % k)
        open(f, "w").write(native("r-imp%d" % k, 0, N_IMPORT, "import %d" % k))
        imports.append(f)
    tail = subprocess.Popen([bin, "tail", "--db", db, tdir], env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    otlp = Server([bin, "otlp", "--listen", "127.0.0.1:0", "--db", db])
    proxy = Server([bin, "proxy", "--listen", "127.0.0.1:0", "--openai-upstream", upstream(), "--db", db])
    tui = None
    if shutil.which("tmux"):
        sock = "mw%d" % os.getpid()
        cmd = "env SKILLTRACE_CONFIG=/nonexistent.toml TERM=xterm-256color '%s' tui --db '%s' --tail '%s' 2>'%s/tui.err'; echo $? > '%s/tui.exit'" % (
            bin, db, udir, tmp, tmp)
        subprocess.run(["tmux", "-L", sock, "new-session", "-d", "-s", "w", "-x", "120", "-y", "30", cmd], check=True)
        tui = sock
    imps = [subprocess.Popen([bin, "import", "--db", db, f], env=env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True) for f in imports]
    results = {"otlp_retries": 0, "otlp_failed": 0, "proxy_non200": 0}

    def tailer(path, run, total, chunk, pause):
        for c in range(total // chunk):
            with open(path, "a") as f:
                f.write(native(run, c * chunk, chunk, run))
            time.sleep(pause)

    def exporter():
        for r in range(REQS):
            ok, retries, failed = export(otlp.addr, otlp_body("%032x" % (0xabc0 + r), 0, PER))
            results["otlp_retries"] += retries
            results["otlp_failed"] += failed

    def chatter(w):
        for i in range(w, EXCH, 4):
            if chat(proxy.addr, i) != 200:
                results["proxy_non200"] += 1

    threads = [threading.Thread(target=tailer, args=(tfile, "r-tail", N_TAIL, 250, 0.05)),
               threading.Thread(target=tailer, args=(ufile, "r-tui", N_TUI, 200, 0.1)),
               threading.Thread(target=exporter)] + [threading.Thread(target=chatter, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    imp_codes, imp_err = [], []
    for p in imps:
        _, e = p.communicate(timeout=900)
        imp_codes.append(p.returncode)
        imp_err += e.splitlines()
    tailed = wait_count(db, "origin_path = '%s'" % tfile, N_TAIL, 120)
    tui_tailed = wait_count(db, "origin_path = '%s'" % ufile, N_TUI, 120) if tui else None
    tail.send_signal(signal.SIGTERM)
    try:
        _, tail_err = tail.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        tail.kill()
        _, tail_err = tail.communicate()
    tui_code = None
    if tui:
        for _ in range(120):
            if os.path.exists(os.path.join(tmp, "tui.exit")):
                break
            subprocess.run(["tmux", "-L", tui, "send-keys", "-t", "w", "q"], stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        subprocess.run(["tmux", "-L", tui, "kill-server"], stderr=subprocess.DEVNULL)
        try:
            tui_code = open(os.path.join(tmp, "tui.exit")).read().strip()
        except OSError:
            tui_code = "hung"
    otlp_code, otlp_err = otlp.stop()
    proxy_code, proxy_err = proxy.stop()
    imported = [count(db, "origin_path = '%s'" % f) for f in imports]
    print("  six writers on one store:")
    print("    tail    %5d / %5d spans stored, exit %s, %d stderr lines (%d errors)" % (
        tailed, N_TAIL, tail.returncode, len(tail_err.splitlines()), len(bad(tail_err.splitlines()))))
    print("    imports %s / %d spans each, exits %s, %d stderr lines (%d errors)" % (
        imported, N_IMPORT, imp_codes, len(imp_err), len(bad(imp_err))))
    print("    otlp    %5d / %5d spans stored, exit %s, %d stderr lines (%d errors), %d retries asked, %d requests failed" % (
        count(db, "origin_path LIKE 'otlp://%'"), REQS * PER, otlp_code, len(otlp_err), len(bad(otlp_err)),
        results["otlp_retries"], results["otlp_failed"]))
    print("    proxy   %5d / %5d exchanges stored, exit %s, %d stderr lines (%d errors), %d answers not 200" % (
        count(db, "origin_path LIKE 'proxy://%' AND kind='llm'"), EXCH, proxy_code, len(proxy_err), len(bad(proxy_err)),
        results["proxy_non200"]))
    if tui:
        tui_errs = open(os.path.join(tmp, "tui.err")).read().splitlines()
        print("    tui     %5d / %5d spans stored, exit %s, %d stderr lines" % (tui_tailed, N_TUI, tui_code, len(tui_errs)))
    for who, lines in (("tail", tail_err.splitlines()), ("imports", imp_err), ("otlp", otlp_err), ("proxy", proxy_err)):
        for l in lines[:3]:
            print("      %s: %s" % (who, l[:200]))


def new(bin, tmp):
    files = []
    for i in range(5):
        f = os.path.join(tmp, "w%d.jsonl" % i)
        open(f, "w").write(native("r%d" % i, 0, 500, "w%d" % i))
        files.append(f)
    ok, errs = 0, []
    for r in range(5):
        db = os.path.join(tmp, "round%d" % r, "new", "st.db")
        ps = [subprocess.Popen([bin, "import", "--db", db, f], env=env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True) for f in files]
        for p in ps:
            _, e = p.communicate(timeout=300)
            if p.returncode == 0:
                ok += 1
            else:
                errs.append(e.strip().splitlines()[-1] if e.strip() else "exit %s" % p.returncode)
    print("  five writers started together on a new store, 5 rounds: %d / 25 exited 0" % ok)
    for e in sorted(set(errs)):
        print("      %dx %s" % (errs.count(e), e[:160]))


def burst(bin, tmp, hold=5.0, n=500):
    db = os.path.join(tmp, "st.db")
    proxy = Server([bin, "proxy", "--listen", "127.0.0.1:0", "--openai-upstream", upstream(), "--db", db])
    chat(proxy.addr, -1)
    time.sleep(1)
    c = sqlite3.connect(db, timeout=30, isolation_level=None)
    c.execute("BEGIN IMMEDIATE")
    t0 = time.time()
    codes = []
    lock = threading.Lock()

    def w(k):
        for i in range(k, n, 32):
            code = chat(proxy.addr, i)
            with lock:
                codes.append(code)

    ts = [threading.Thread(target=w, args=(k,)) for k in range(32)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    took = time.time() - t0
    time.sleep(max(0.0, hold - took))
    c.execute("COMMIT")
    c.close()
    got = wait_count(db, "kind='llm'", n + 1, 120)
    code, err = proxy.stop()
    got = count(db, "kind='llm'")
    said = [l for l in err if "spool" in l or "dropped" in l]
    print("  proxy burst, store write-locked for %.0f s by another connection: %d sent (%d answered 200, burst took %.1f s), %d recorded, exit %s" % (
        max(hold, took), n, codes.count(200), took, got - 1, code))
    for l in said[:3] + err[-1:]:
        print("      %s" % l[:200])


async def _c2000(addr, n):
    host, port = addr.rsplit(":", 1)

    async def one(i):
        body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "q %d" % i}]}).encode()
        r, w = await asyncio.open_connection(host, int(port))
        w.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                 "Content-Length: %d\r\nConnection: close\r\n\r\n" % (addr, len(body))).encode() + body)
        await w.drain()
        data = await r.read()
        w.close()
        return int(data[9:12]) if len(data) > 12 else 0

    return await asyncio.gather(*[one(i) for i in range(n)])


def c2000(bin, tmp, n=2000):
    db = os.path.join(tmp, "st.db")
    proxy = Server([bin, "proxy", "--listen", "127.0.0.1:0", "--openai-upstream", upstream(), "--db", db])
    codes = asyncio.run(_c2000(proxy.addr, n))
    code, err = proxy.stop()
    print("  %d concurrent requests: %d answered 200, %d recorded, exit %s; %s" % (
        n, codes.count(200), count(db, "kind='llm'"), code, err[-1][:160] if err else ""))


def full(bin, tmp, n=40):
    mnt = os.path.join(tmp, "disk")
    os.makedirs(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs", mnt], stderr=subprocess.DEVNULL).returncode:
        print("  full disk: cannot mount a tmpfs here (needs root); skipped")
        return
    try:
        db = os.path.join(mnt, "st.db")
        proxy = Server([bin, "proxy", "--listen", "127.0.0.1:0", "--openai-upstream", upstream(), "--db", db])
        ballast = os.path.join(mnt, "ballast")
        fd = os.open(ballast, os.O_WRONLY | os.O_CREAT, 0o600)
        for size in (65536, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
        os.close(fd)
        t0 = time.time()
        big = "lorem ipsum " * 2000
        codes = [chat(proxy.addr, i, big) for i in range(n)]
        time.sleep(3)
        said = [(t - t0, l) for t, l in proxy.err if "full" in l or "spool" in l or "dropped" in l]
        os.remove(ballast)
        got = wait_count(db, "kind='llm'", n, 60)
        code, err = proxy.stop()
        print("  full disk (64 MB tmpfs filled, then freed): %d sent (%d answered 200), %d recorded, exit %s" % (
            n, codes.count(200), count(db, "kind='llm'"), code))
        if said:
            print("      first said %.1f s after the disk filled: %s" % (said[0][0], said[0][1][:160]))
        else:
            print("      nothing said on stderr while the disk was full")
        for l in err[1:]:
            print("      %s" % l[:200])
        left = os.path.join(mnt, "st.db.spool")
        if os.path.isdir(left) and os.listdir(left):
            print("      left in the spool: %s" % os.listdir(left))
    finally:
        subprocess.run(["umount", "-l", mnt])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", action="append", required=True)
    ap.add_argument("--only", default="six,new,burst,c2000,full")
    a = ap.parse_args()
    for b in a.bin:
        b = os.path.abspath(b)
        print("== %s" % b)
        for name in a.only.split(","):
            with tempfile.TemporaryDirectory() as tmp:
                os.chmod(tmp, 0o700)
                globals()[name](b, tmp)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
