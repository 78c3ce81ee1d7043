"""Sends traces and logs from the official OpenTelemetry Python SDK (its OTLP/HTTP
exporters: protobuf, plain and gzip) to `skilltrace otlp`, then checks what the
store holds: the run under its conversation id, the span tree, the model and
tokens, the tool call, a finding for the credential read, and no byte of the
secret planted in the tool's output; for logs, Claude Code's and Codex's
telemetry events (as those agents emit them) become a run per session with
the prompt, the model call's tokens and the tool's status, the secret in the
prompt redacted.

Usage: python otel_check.py --bin target/debug/skilltrace
Exit 0 when every check passes, 1 otherwise.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from opentelemetry import trace
from opentelemetry import version as otel_version
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from checks import Checks, start, stop

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzOTELCHECKKEY"


def agent_run(tracer, conversation):
    """One agent turn as GenAI-instrumented code records it."""
    common = {"gen_ai.conversation.id": conversation, "gen_ai.provider.name": "openai"}
    with tracer.start_as_current_span("invoke_agent researcher", attributes={
        **common, "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "researcher",
    }):
        with tracer.start_as_current_span("chat gpt-4o-mini", attributes={
            **common,
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": 120,
            "gen_ai.usage.output_tokens": 35,
            "gen_ai.input.messages": json.dumps([
                {"role": "user", "parts": [{"type": "text", "content": "Check my AWS setup"}]}
            ]),
        }):
            pass
        with tracer.start_as_current_span("execute_tool run_shell", attributes={
            **common,
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "run_shell",
            "gen_ai.tool.call.id": "call_1",
            "gen_ai.tool.call.arguments": json.dumps({"command": "cat ~/.aws/credentials"}),
            "gen_ai.tool.call.result": f"[default]\naws_secret_access_key = {SECRET}\n",
        }):
            pass


def telemetry_events(logger, session, agent):
    """One prompt, one model call and one tool call, as the agent's telemetry logs them."""
    t0 = 1_765_015_200_000_000_000
    if agent == "claude_code":
        common = {"session.id": session, "prompt.id": "p-" + session, "app.version": "2.0.61"}
        events = [
            ("user_prompt", {"prompt_length": "60", "prompt": f"deploy it; aws_secret_access_key = {SECRET}"}),
            ("api_request", {"model": "claude-sonnet-4-5-20250929", "cost_usd": "0.01", "duration_ms": "900",
                             "input_tokens": "100", "output_tokens": "50", "cache_read_tokens": "20",
                             "cache_creation_tokens": "0"}),
            ("tool_result", {"tool_name": "Bash", "success": "true", "duration_ms": "40",
                             "tool_parameters": json.dumps({"full_command": "cat ~/.aws/credentials"})}),
        ]
    else:
        common = {"conversation.id": session, "model": "gpt-5-codex", "app.version": "0.63.0"}
        events = [
            ("user_prompt", {"prompt_length": "60", "prompt": f"deploy it; aws_secret_access_key = {SECRET}"}),
            ("sse_event", {"event.kind": "response.completed", "input_token_count": "100",
                           "output_token_count": "50", "cached_token_count": "20"}),
            ("tool_result", {"tool_name": "shell", "call_id": "call_1", "success": "true", "duration_ms": "40",
                             "arguments": json.dumps({"command": ["bash", "-lc", "cat ~/.aws/credentials"]}),
                             "output": "[default]"}),
        ]
    for i, (name, attrs) in enumerate(events):
        logger.emit(timestamp=t0 + i * 1_000_000_000, body=f"{agent}.{name}", event_name=f"{agent}.{name}",
                    attributes={"event.name": name if agent == "claude_code" else f"codex.{name}", **common, **attrs})
    return len(events)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    args = ap.parse_args()
    check = Checks()

    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "otel.db")
        recv, addr = start([args.bin, "otlp", "--listen", "127.0.0.1:0", "--db", db])
        try:
            if addr is None:
                print("FAIL  receiver did not start:", recv.stderr.read()[-500:])
                print("0 passed, 1 failed")
                return 1
            endpoint = "http://" + addr
            print(f"receiver {endpoint}, opentelemetry-sdk {otel_version.__version__}")
            for conversation, compression in [("conv-otel-plain", Compression.NoCompression),
                                              ("conv-otel-gzip", Compression.Gzip)]:
                provider = TracerProvider(resource=Resource.create({"service.name": "otel-check"}))
                exporter = OTLPSpanExporter(endpoint=endpoint, compression=compression, timeout=10)
                provider.add_span_processor(SimpleSpanProcessor(exporter))
                agent_run(provider.get_tracer("otel_check"), conversation)
                provider.shutdown()
            logs_endpoint = endpoint.replace("/v1/traces", "/v1/logs")
            sent = 6
            for session, agent, compression in [("cc-otel-logs", "claude_code", Compression.NoCompression),
                                                ("codex-otel-logs", "codex", Compression.Gzip)]:
                service = "claude-code" if agent == "claude_code" else "codex_cli_rs"
                logs = LoggerProvider(resource=Resource.create({"service.name": service}))
                logs.add_log_record_processor(SimpleLogRecordProcessor(
                    OTLPLogExporter(endpoint=logs_endpoint, compression=compression, timeout=10)))
                sent += telemetry_events(logs.get_logger(agent), session, agent)
                logs.shutdown()
        finally:
            err = stop(recv)

        check("receiver exited cleanly on SIGTERM", recv.returncode == 0, f"(exit {recv.returncode}: {err[-300:]})")
        check("every export request was accepted", f"{sent} requests, {sent} accepted, 0 refused" in err, err[-300:])
        runs = subprocess.run([args.bin, "runs", "--db", db, "--format", "json"], capture_output=True, text=True)
        try:
            run_list = {r["id"]: r for r in json.loads(runs.stdout)}
        except ValueError:
            run_list = {}
        for conversation in ("conv-otel-plain", "conv-otel-gzip"):
            r = run_list.get(conversation)
            check(f"{conversation}: one run with 3 spans, 1 tool, 120/35 tokens",
                  r is not None and (r["span_count"], r["tool_count"], r["input_tokens"], r["output_tokens"]) == (3, 1, 120, 35),
                  json.dumps(r)[:300])
            check(f"{conversation}: the model is recorded", r is not None and "gpt-4o-mini" in r.get("models", []),
                  json.dumps(r)[:300])
        # Claude Code reports cache reads beside input tokens; Codex's input count includes them.
        for session, agent, tokens_in in [("cc-otel-logs", "claude-code", 120), ("codex-otel-logs", "codex", 100)]:
            r = run_list.get(session)
            check(f"{session}: a {agent} run with 3 spans, 1 tool, {tokens_in}/50 tokens",
                  r is not None and r.get("agent") == agent
                  and (r["span_count"], r["tool_count"], r["input_tokens"], r["output_tokens"]) == (3, 1, tokens_in, 50),
                  json.dumps(r)[:300])
        found = subprocess.run([args.bin, "findings", "--db", db, "--format", "json"], capture_output=True, text=True)
        try:
            findings = json.loads(found.stdout)
        except ValueError:
            findings = []
        reads = [f for f in findings if f["rule_id"] == "EXF-TRACE-003"]
        check("the credential read is a finding in each run, traces and logs alike",
              sorted({f["run_id"] for f in reads})
              == ["cc-otel-logs", "codex-otel-logs", "conv-otel-gzip", "conv-otel-plain"], found.stdout[:400])
        blob = b"".join(p.read_bytes() for p in Path(tmp).glob("otel.db*"))
        check("the secret in the tool output is in no byte of the store", SECRET.encode() not in blob)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
