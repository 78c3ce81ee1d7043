"""Runs the official `openai` and `anthropic` Python SDKs (Chat Completions,
Responses, Messages; streaming and not) against a local replay upstream twice:
directly, and through `skilltrace proxy`. Every parsed result must be equal,
the upstream must receive the same request bodies both ways, the proxy must
record every exchange, and the API key must not reach the store.

Usage: python sdk_check.py --bin target/debug/skilltrace --fixtures tests/fixtures/wire
Exit 0 when every check passes, 1 otherwise.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import anthropic
import openai

from checks import Checks, start, stop
from replay_upstream import serve

KEY = "sk-proj-SDKCHECKkeyMustNeverBeStored0123456789"

CHAT_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather in a given location",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string", "description": "The city and state, e.g. Boston, MA"}},
                "required": ["location"],
                "additionalProperties": False,
            },
        },
    }
]
RESP_TOOLS = [
    {
        "type": "function",
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": CHAT_TOOLS[0]["function"]["parameters"],
        "strict": True,
    }
]
ANT_TOOLS = [
    {
        "name": "get_weather",
        "description": "Get the current weather in a given location",
        "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
    },
    {
        "name": "get_time",
        "description": "Get the current time in a given time zone",
        "input_schema": {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]},
    },
]
SYSTEM = {"role": "system", "content": "You're a helpful assistant."}
USER = {"role": "user", "content": "What's the weather in Seattle and San Francisco today?"}
ANT_USER = {
    "role": "user",
    "content": "What is the weather like right now in New York? Also what time is it there? Use necessary tools simultaneously.",
}


def scenarios(base):
    """Every call, with its parsed result as plain data."""
    oa = openai.OpenAI(base_url=base + "/v1", api_key=KEY, max_retries=0, timeout=20)
    an = anthropic.Anthropic(base_url=base, api_key=KEY, max_retries=0, timeout=20)
    out = {}
    first = oa.chat.completions.create(model="gpt-4o-mini", messages=[SYSTEM, USER], tools=CHAT_TOOLS)
    out["chat"] = first.model_dump()
    calls = first.choices[0].message.tool_calls
    history = [
        SYSTEM,
        USER,
        {"role": "assistant", "tool_calls": [c.model_dump() for c in calls]},
        {"role": "tool", "tool_call_id": calls[0].id, "content": "50 degrees and raining"},
        {"role": "tool", "tool_call_id": calls[1].id, "content": "70 degrees and sunny"},
    ]
    out["chat_tool_results"] = oa.chat.completions.create(model="gpt-4o-mini", messages=history).model_dump()
    stream = oa.chat.completions.create(
        model="gpt-4o-mini",
        messages=[SYSTEM, USER],
        tools=CHAT_TOOLS,
        stream=True,
        stream_options={"include_usage": True},
    )
    out["chat_stream"] = [c.model_dump() for c in stream]
    out["responses"] = oa.responses.create(
        model="gpt-4o-mini",
        input="What's the weather in Seattle right now?",
        tools=RESP_TOOLS,
        tool_choice={"type": "function", "name": "get_current_weather"},
    ).model_dump()
    events = oa.responses.create(
        model="gpt-4o-mini", input="Say this is a test", instructions="You are a helpful assistant.", stream=True
    )
    out["responses_stream"] = [e.model_dump() for e in events]
    out["messages"] = an.messages.create(
        model="claude-sonnet-4-6", max_tokens=1024, messages=[ANT_USER], tools=ANT_TOOLS
    ).model_dump()
    events = an.messages.create(
        model="claude-sonnet-4-6", max_tokens=1024, messages=[ANT_USER], tools=ANT_TOOLS, stream=True
    )
    out["messages_stream"] = [e.model_dump() for e in events]
    with an.messages.stream(model="claude-sonnet-4-6", max_tokens=1024, messages=[ANT_USER], tools=ANT_TOOLS) as s:
        out["messages_stream_helper"] = s.get_final_message().model_dump()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--fixtures", required=True)
    args = ap.parse_args()
    check = Checks()

    server, replay = serve(Path(args.fixtures))
    upstream = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "sdk.db")
        proxy, addr = start(
            [args.bin, "proxy", "--listen", "127.0.0.1:0", "--db", db,
             "--openai-upstream", upstream, "--anthropic-upstream", upstream]
        )
        try:
            if addr is None:
                print("FAIL  proxy did not start:", proxy.stderr.read()[-500:])
                print("0 passed, 1 failed")
                return 1
            print(f"upstream {upstream}, proxy http://{addr}, openai {openai.__version__}, anthropic {anthropic.__version__}")

            direct = scenarios(upstream)
            direct_log = list(replay.log)
            replay.log.clear()
            proxied = scenarios(f"http://{addr}")
            proxied_log = list(replay.log)
        finally:
            err = stop(proxy)

        for name in direct:
            same = direct[name] == proxied.get(name)
            detail = ""
            if not same:
                detail = "\n  direct:  " + json.dumps(direct[name])[:400] + "\n  proxied: " + json.dumps(proxied.get(name))[:400]
            check(f"{name}: parsed result through the proxy equals direct", same, detail)
        check("chat stream reassembles both tool calls",
              sum(1 for c in proxied["chat_stream"] for ch in c["choices"] for _ in (ch["delta"].get("tool_calls") or [])) >= 2)
        check("messages stream helper parsed tool input",
              [b.get("input") for b in proxied["messages_stream_helper"]["content"] if b["type"] == "tool_use"]
              == [{"location": "New York, NY"}, {"timezone": "America/New_York"}])
        check("upstream received identical request bodies and paths",
              [(r["path"], r["body"]) for r in direct_log] == [(r["path"], r["body"]) for r in proxied_log])
        check("upstream received the API key through the proxy", all(r["has_key"] for r in proxied_log))
        check("proxy exited cleanly on SIGTERM", proxy.returncode == 0, f"(exit {proxy.returncode}: {err[-300:]})")
        n = len(proxied_log)
        check(f"proxy recorded all {n} exchanges", f"{n} requests, {n} exchanges recorded" in err, err[-300:])
        runs = subprocess.run([args.bin, "runs", "--db", db, "--format", "json"], capture_output=True, text=True)
        try:
            run_list = json.loads(runs.stdout)
        except ValueError:
            run_list = []
        check("store lists proxy runs", len(run_list) >= 3, runs.stdout[:300] + runs.stderr[:300])
        blob = b"".join(p.read_bytes() for p in Path(tmp).glob("sdk.db*"))
        check("API key in no byte of the store", KEY.encode() not in blob and b"SDKCHECKkey" not in blob)
    server.shutdown()
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
