"""Produce real trace captures with the official PyPI packages, offline.

A fake OpenAI Chat Completions server on 127.0.0.1 replays two recorded
responses (tool calls, then the final answer); the OpenAI Agents SDK runs a
"weather" agent against it with one of three tracing set-ups:

  agents         the SDK's own tracing: a TracingProcessor writes each
                 Trace.export() / Span.export() dict as one JSON line
                 (on_trace_start / on_span_end order, as the SDK calls them);
                 plus the same objects as one {"data":[...]} batch file,
                 the shape BackendSpanExporter POSTs.
  openinference  OTel SDK + openinference-instrumentation-openai(-agents),
                 exported as OTLP/JSON lines by opentelemetry-exporter-otlp-json-file.
  genai          OTel SDK + opentelemetry-instrumentation-openai-v2 and
                 opentelemetry-instrumentation-openai-agents-v2 (GenAI semconv,
                 latest experimental, content on spans), same exporter.

Usage: python capture.py MODE OUT_DIR   (see README in this folder)
No network beyond loopback: the OpenAI client points at the fake server and
the SDK's default trace exporter (which would POST to the internet) is replaced.
"""

import asyncio
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESPONSES = [json.loads((HERE / n).read_text()) for n in ("response_tool_calls.json", "response_final_text.json")]


class FakeOpenAI(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        has_tool_result = any(m.get("role") == "tool" for m in body.get("messages", []))
        data = json.dumps(RESPONSES[1 if has_tool_result else 0]).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def start_server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def run_agent(port):
    from agents import Agent, Runner, function_tool, set_default_openai_api, set_default_openai_client
    from openai import AsyncOpenAI

    set_default_openai_client(AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="test_openai_api_key"), use_for_tracing=False)
    set_default_openai_api("chat_completions")

    @function_tool
    def get_current_weather(location: str) -> str:
        """Get the current weather in a given location"""
        return {"Seattle, WA": "50 degrees and raining"}.get(location, "70 degrees and sunny")

    agent = Agent(name="Assistant", instructions="You're a helpful assistant.", model="gpt-4o-mini", tools=[get_current_weather])
    result = asyncio.run(Runner.run(agent, "What's the weather in Seattle and San Francisco today?"))
    print("final:", result.final_output, file=sys.stderr)


def mode_agents(out: Path, port):
    from agents import set_trace_processors
    from agents.tracing.processor_interface import TracingProcessor

    items = []

    class JsonLines(TracingProcessor):
        def __init__(self, f):
            self.f = f

        def _write(self, obj):
            exported = obj.export()
            if exported:
                items.append(exported)
                self.f.write(json.dumps(exported) + "\n")

        def on_trace_start(self, trace):
            self._write(trace)

        def on_trace_end(self, trace):
            pass

        def on_span_start(self, span):
            pass

        def on_span_end(self, span):
            self._write(span)

        def shutdown(self):
            pass

        def force_flush(self):
            pass

    with open(out / "agents_sdk_trace.jsonl", "w") as f:
        set_trace_processors([JsonLines(f)])
        run_agent(port)
    (out / "agents_sdk_batch.json").write_text(json.dumps({"data": items}, indent=2) + "\n")


def otel_provider(path: Path):
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.json.file import FileSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "weather-agent"}))
    provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(str(path))))
    trace.set_tracer_provider(provider)
    return provider


def mode_openinference(out: Path, port):
    from agents import set_trace_processors
    from openinference.instrumentation.openai import OpenAIInstrumentor
    from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    set_trace_processors([])
    provider = otel_provider(out / "otlp_openinference_agent_run.jsonl")
    OpenAIInstrumentor().instrument(tracer_provider=provider)
    OpenAIAgentsInstrumentor().instrument(tracer_provider=provider)
    run_agent(port)
    provider.shutdown()


def mode_genai(out: Path, port):
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_ONLY"
    from agents import set_trace_processors
    from opentelemetry.instrumentation.openai_agents import OpenAIAgentsInstrumentor
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    set_trace_processors([])
    provider = otel_provider(out / "otlp_genai_agent_run.jsonl")
    OpenAIInstrumentor().instrument(tracer_provider=provider)
    OpenAIAgentsInstrumentor().instrument(tracer_provider=provider)
    run_agent(port)
    provider.shutdown()


def main():
    mode, out = sys.argv[1], Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    srv = start_server()
    try:
        {"agents": mode_agents, "openinference": mode_openinference, "genai": mode_genai}[mode](out, srv.server_address[1])
    finally:
        srv.shutdown()


if __name__ == "__main__":
    main()
