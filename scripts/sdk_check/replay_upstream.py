"""A local stand-in for the OpenAI and Anthropic APIs that replays real recorded
response bodies (tests/fixtures/wire) and logs every request it receives.

Routing: POST /v1/chat/completions, /v1/responses, /v1/messages; a request with
"stream": true gets the recorded SSE stream (sent in several chunked pieces),
otherwise the recorded JSON body. Chat requests carrying tool results get the
final-text response.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Replay:
    def __init__(self, fixtures: Path):
        def read(rel):
            return (fixtures / rel).read_bytes()

        self.bodies = {
            ("chat", False, False): read("wire-openai-chat/02_response_tool_calls.json"),
            ("chat", False, True): read("wire-openai-chat/04_response_final_text.json"),
            ("chat", True, False): read("wire-openai-chat/06_stream_tool_calls.sse"),
            ("responses", False, False): read("wire-openai-responses/04_response_function_call.json"),
            ("responses", True, False): read("wire-openai-responses/02_stream_text.sse"),
            ("messages", False, False): read("wire-anthropic/02_response_tool_use.json"),
            ("messages", True, False): read("wire-anthropic/04_stream_tool_use.sse"),
        }
        self.log = []
        self.lock = threading.Lock()

    def pick(self, path, body):
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            return None
        stream = bool(req.get("stream"))
        if path.startswith("/v1/chat/completions"):
            has_results = any(m.get("role") == "tool" for m in req.get("messages", []))
            return self.bodies.get(("chat", stream, has_results and not stream))
        if path.startswith("/v1/responses"):
            return self.bodies.get(("responses", stream, False))
        if path.startswith("/v1/messages"):
            return self.bodies.get(("messages", stream, False))
        return None


def serve(fixtures: Path):
    replay = Replay(fixtures)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def do_POST(self):
            n = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(n)
            with replay.lock:
                replay.log.append(
                    {
                        "path": self.path,
                        "body": body,
                        "has_key": bool(self.headers.get("authorization") or self.headers.get("x-api-key")),
                    }
                )
            out = replay.pick(self.path, body)
            if out is None:
                self.send_response(404)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
                return
            if out.startswith(b"event:") or out.startswith(b"data:"):
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.send_header("request-id", "req_replay")
                self.end_headers()
                step = max(1, len(out) // 7)
                for i in range(0, len(out), step):
                    piece = out[i : i + step]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            else:
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(out)))
                self.send_header("x-request-id", "req_replay")
                self.end_headers()
                self.wfile.write(out)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, replay
