"""Sessions as agents write them: the step model and the Claude Code and Codex writers.

A session is a user prompt, 2-6 tool steps and a closing message. A step is a small
dict made by one of the constructors below (`sh`, `read`, `write`, `edit`, `fetch`,
`mcp`, `grep`, `glob`); each writer turns the same steps into its agent's real record
shapes (see tests/fixtures/formats/claude-code and codex, and formats.md):

- Claude Code: one JSONL record per content block, `tool_use` in an assistant record,
  `tool_result` (+ the tool-specific `toolUseResult`) in the next user record, records
  chained by `uuid`/`parentUuid`, shared `sessionId`, `cwd`, `version`, `gitBranch`.
- Codex: `session_meta`, `turn_context`, `response_item` messages, `function_call`
  (`exec_command` / `shell` / `shell_command` or an MCP tool) and `function_call_output`
  paired by `call_id`, `custom_tool_call` `apply_patch` for file writes and edits,
  `event_msg` copies of the user and agent messages, `task_started`/`task_complete`.
"""

import datetime
import json
import os
import posixpath

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# ----- step constructors ----------------------------------------------------------
def sh(cmd, out="", desc=None, say=None):
    return {"tool": "shell", "cmd": cmd, "out": out, "desc": desc, "say": say}


def read(path, content, say=None):
    return {"tool": "read", "path": path, "content": content, "say": say}


def write(path, content, say=None):
    return {"tool": "write", "path": path, "content": content, "say": say}


def edit(path, old, new, original=None, say=None):
    return {"tool": "edit", "path": path, "old": old, "new": new, "original": original, "say": say}


def fetch(url, content, prompt="Summarise the relevant part of this page.", say=None):
    return {"tool": "fetch", "url": url, "content": content, "prompt": prompt, "say": say}


def mcp(server, name, args, out, say=None):
    return {"tool": "mcp", "server": server, "name": name, "args": args, "out": out, "say": say}


def grep(pattern, path, out, say=None):
    return {"tool": "grep", "pattern": pattern, "path": path, "out": out, "say": say}


def glob(pattern, out, say=None):
    return {"tool": "glob", "pattern": pattern, "out": out, "say": say}


# ----- helpers ----------------------------------------------------------------------
def _abs(cwd, path):
    if path.startswith("/"):
        return path
    return posixpath.normpath(posixpath.join(cwd, path))


def _rel(cwd, path):
    """The path as an agent inside `cwd` would type it."""
    if path.startswith(cwd + "/"):
        return path[len(cwd) + 1:]
    return path


def _numbered(content):
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    return "\n".join(f"{i + 1:>6}\u2192{line}" for i, line in enumerate(lines))


class Clock:
    """Monotonic fake time for one session."""

    def __init__(self, world):
        w = world
        start = datetime.datetime(2026, w.randint(1, 5), w.randint(1, 28), w.randint(7, 22),
                                  w.randint(0, 59), w.randint(0, 59), w.randint(0, 999) * 1000,
                                  tzinfo=datetime.timezone.utc)
        self.t = start
        self.start = start
        self.w = world

    def tick(self, lo=0.2, hi=9.0):
        self.t += datetime.timedelta(milliseconds=int(self.w.rng.uniform(lo, hi) * 1000))
        return self.stamp()

    def stamp(self):
        return self.t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.t.microsecond // 1000:03d}Z"


def _b62(w, n):
    return "".join(w.rng.choice(B62) for _ in range(n))


# ----- Claude Code --------------------------------------------------------------------
CLAUDE_MODELS = ["claude-opus-4-6", "claude-sonnet-4-5-20250929", "claude-sonnet-4-6", "claude-opus-4-5-20251101"]
CLAUDE_VERSIONS = ["2.1.39", "2.1.42", "2.0.76", "2.1.14", "2.1.50"]


def _claude_tool(step, cwd):
    """(name, input, result content, toolUseResult) for one step."""
    t = step["tool"]
    if t == "shell":
        inp = {"command": step["cmd"], "description": step.get("desc") or "Run command"}
        out = step["out"]
        return "Bash", inp, out, {"stdout": out, "stderr": "", "interrupted": False, "isImage": False}
    if t == "read":
        path = _abs(cwd, step["path"])
        content = step["content"]
        n = content.count("\n") + (0 if content.endswith("\n") else 1)
        return "Read", {"file_path": path}, _numbered(content), {
            "type": "text", "file": {"filePath": path, "content": content, "numLines": n, "startLine": 1, "totalLines": n}}
    if t == "write":
        path = _abs(cwd, step["path"])
        return "Write", {"file_path": path, "content": step["content"]}, f"File created successfully at: {path}", {
            "type": "create", "filePath": path, "content": step["content"], "structuredPatch": [], "originalFile": None}
    if t == "edit":
        path = _abs(cwd, step["path"])
        original = step.get("original") or step["old"]
        inp = {"file_path": path, "old_string": step["old"], "new_string": step["new"], "replace_all": False}
        snippet = _numbered(original.replace(step["old"], step["new"]))
        res = f"The file {path} has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n{snippet}"
        return "Edit", inp, res, {"filePath": path, "oldString": step["old"], "newString": step["new"],
                                  "originalFile": original, "structuredPatch": [], "userModified": False, "replaceAll": False}
    if t == "fetch":
        inp = {"url": step["url"], "prompt": step["prompt"]}
        body = step["content"]
        return "WebFetch", inp, body, {"bytes": len(body.encode()) * 7, "code": 200, "codeText": "OK",
                                       "result": body, "durationMs": 1800, "url": step["url"]}
    if t == "mcp":
        name = f"mcp__{step['server']}__{step['name']}"
        return name, step["args"], [{"type": "text", "text": step["out"]}], [{"type": "text", "text": step["out"]}]
    if t == "grep":
        inp = {"pattern": step["pattern"], "path": _abs(cwd, step["path"]), "output_mode": "content", "-n": True}
        out = step["out"]
        return "Grep", inp, out, {"mode": "content", "numFiles": 1, "filenames": [], "content": out,
                                  "numLines": out.count("\n") + 1}
    if t == "glob":
        files = [_abs(cwd, f) for f in step["out"].split("\n") if f]
        return "Glob", {"pattern": step["pattern"]}, "\n".join(files), {
            "filenames": files, "durationMs": 12, "numFiles": len(files), "truncated": False}
    raise ValueError(f"unknown step tool {t}")


def write_claude(session, w, clock):
    """Claude Code JSONL lines for a session."""
    cwd = session["cwd"]
    sid = session["id"]
    model = w.choice(CLAUDE_MODELS)
    version = w.choice(CLAUDE_VERSIONS)
    base = {"isSidechain": False, "userType": "external", "cwd": cwd, "sessionId": sid,
            "version": version, "gitBranch": session["branch"]}
    lines = []
    parent = None

    def usage():
        return {"input_tokens": w.randint(3, 12), "cache_creation_input_tokens": w.randint(0, 4000),
                "cache_read_input_tokens": w.randint(10000, 60000), "output_tokens": w.randint(20, 900),
                "service_tier": "standard"}

    def rec(extra):
        nonlocal parent
        u = w.uuid4()
        r = {"parentUuid": parent}
        r.update(base)
        r.update(extra)
        r["uuid"] = u
        r["timestamp"] = clock.tick()
        lines.append(r)
        parent = u
        return u

    rec({"type": "user", "message": {"role": "user", "content": session["prompt"]},
         "permissionMode": w.choice(["default", "acceptEdits", "bypassPermissions"])})
    for step in session["steps"]:
        msg_id = "msg_01" + _b62(w, 22)
        req = "req_011C" + _b62(w, 20)
        if step.get("say"):
            rec({"message": {"model": model, "id": msg_id, "type": "message", "role": "assistant",
                             "content": [{"type": "text", "text": step["say"]}], "stop_reason": None,
                             "stop_sequence": None, "usage": usage()}, "requestId": req, "type": "assistant"})
        name, inp, result, tur = _claude_tool(step, cwd)
        tid = "toolu_01" + _b62(w, 22)
        au = rec({"message": {"model": model, "id": msg_id, "type": "message", "role": "assistant",
                              "content": [{"type": "tool_use", "id": tid, "name": name, "input": inp}],
                              "stop_reason": "tool_use", "stop_sequence": None, "usage": usage()},
                  "requestId": req, "type": "assistant"})
        clock.tick(0.1, 25.0)
        rec({"type": "user", "message": {"role": "user", "content": [
            {"tool_use_id": tid, "type": "tool_result", "content": result, "is_error": False}]},
            "toolUseResult": tur, "sourceToolAssistantUUID": au})
    rec({"message": {"model": model, "id": "msg_01" + _b62(w, 22), "type": "message", "role": "assistant",
                     "content": [{"type": "text", "text": session["final"]}], "stop_reason": "end_turn",
                     "stop_sequence": None, "usage": usage()}, "requestId": "req_011C" + _b62(w, 20), "type": "assistant"})
    rec({"type": "system", "subtype": "turn_duration", "durationMs": w.randint(20000, 400000), "isMeta": False})
    return lines


def claude_path(session):
    slug = session["cwd"].replace("/", "-").replace(".", "-")
    return posixpath.join("claude", "projects", slug, session["id"] + ".jsonl")


# ----- Codex --------------------------------------------------------------------------
CODEX_MODELS = ["gpt-5.3-codex", "gpt-5.2-codex", "gpt-5-codex", "gpt-5.1-codex-max"]


def _patch_add(path, content):
    body = "\n".join("+" + line for line in content.rstrip("\n").split("\n"))
    return f"*** Begin Patch\n*** Add File: {path}\n{body}\n*** End Patch\n"


def _patch_update(path, old, new):
    minus = "\n".join("-" + line for line in old.rstrip("\n").split("\n"))
    plus = "\n".join("+" + line for line in new.rstrip("\n").split("\n"))
    return f"*** Begin Patch\n*** Update File: {path}\n@@\n{minus}\n{plus}\n*** End Patch\n"


def _codex_read_cmd(w, path):
    return w.choice([f"cat {path}", f"sed -n '1,200p' {path}", f"nl -ba {path} | sed -n '1,160p'", f"cat {path}"])


def _shq(path):
    return "'" + path + "'" if (" " in path or "'" in path) else path


def _codex_calls(step, w, cwd):
    """[(kind, name, payload, output)] for one step; kind is function or custom."""
    t = step["tool"]
    if t == "shell":
        return [("shell", None, step["cmd"], step["out"])]
    if t == "read":
        content = step["content"]
        if posixpath.basename(step["path"]) and step["path"].startswith(cwd + "/"):
            p = _rel(cwd, step["path"])
        else:
            p = step["path"]
        cmd = _codex_read_cmd(w, _shq(p))
        if cmd.startswith("nl -ba"):
            content = "\n".join(f"{i + 1:>6}\t{line}" for i, line in enumerate(content.rstrip("\n").split("\n")))
        return [("shell", None, cmd, content)]
    if t == "write":
        p = _rel(cwd, _abs(cwd, step["path"]))
        return [("custom", "apply_patch", _patch_add(p, step["content"]),
                 json.dumps({"output": f"Success. Updated the following files:\nA {p}\n",
                             "metadata": {"exit_code": 0, "duration_seconds": 0.0}}))]
    if t == "edit":
        p = _rel(cwd, _abs(cwd, step["path"]))
        return [("custom", "apply_patch", _patch_update(p, step["old"], step["new"]),
                 json.dumps({"output": f"Success. Updated the following files:\nM {p}\n",
                             "metadata": {"exit_code": 0, "duration_seconds": 0.0}}))]
    if t == "fetch":
        cmd = w.choice([f"curl -sL {step['url']}", f"curl -fsSL '{step['url']}'", f"curl -s {step['url']} | head -c 20000"])
        return [("shell", None, cmd, step["content"])]
    if t == "mcp":
        return [("function", f"mcp__{step['server']}__{step['name']}", json.dumps(step["args"]), step["out"])]
    if t == "grep":
        return [("shell", None, f"rg -n \"{step['pattern']}\" {_rel(cwd, step['path'])}", step["out"])]
    if t == "glob":
        return [("shell", None, f"rg --files -g '{step['pattern']}'", step["out"])]
    raise ValueError(f"unknown step tool {t}")


def write_codex(session, w, clock):
    """Codex rollout JSONL lines for a session."""
    cwd = session["cwd"]
    model = w.choice(CODEX_MODELS)
    shell_tool = w.choice(["exec_command", "exec_command", "shell", "shell_command"])
    turn = w.uuid4()
    lines = []

    def rec(typ, payload):
        lines.append({"timestamp": clock.tick(0.05, 3.0), "type": typ, "payload": payload})

    def usage():
        i, c, o = w.randint(20000, 90000), w.randint(0, 60000), w.randint(50, 900)
        u = {"input_tokens": i, "cached_input_tokens": c, "output_tokens": o,
             "reasoning_output_tokens": w.randint(0, o), "total_tokens": i + o}
        return {"total_token_usage": u, "last_token_usage": u, "model_context_window": 258400}

    start = clock.stamp()
    rec("session_meta", {"id": session["id"], "timestamp": start, "cwd": cwd,
                         "originator": w.choice(["codex_cli_rs", "codex_exec", "Codex Desktop"]),
                         "cli_version": w.choice(["0.104.0", "0.98.0", "0.101.2"]), "source": w.choice(["cli", "exec", "vscode"]),
                         "model_provider": "openai", "base_instructions": {"text": "You are Codex, a coding agent based on GPT-5."},
                         "git": {"commit_hash": w.hexstr(40), "branch": session["branch"],
                                 "repository_url": f"git@github.com:{session['org']}/{session['project']}.git"}})
    rec("response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text":
        f"<environment_context>\n  <cwd>{cwd}</cwd>\n  <approval_policy>on-request</approval_policy>\n"
        f"  <sandbox_mode>workspace-write</sandbox_mode>\n  <network_access>restricted</network_access>\n"
        f"  <shell>{w.choice(['bash', 'zsh'])}</shell>\n</environment_context>"}]})
    rec("event_msg", {"type": "task_started", "turn_id": turn, "model_context_window": 258400,
                      "collaboration_mode_kind": "default"})
    rec("response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": session["prompt"]}]})
    rec("event_msg", {"type": "user_message", "message": session["prompt"], "images": [], "local_images": [], "text_elements": []})
    rec("turn_context", {"turn_id": turn, "cwd": cwd, "approval_policy": "on-request",
                         "sandbox_policy": {"type": "workspace-write", "writable_roots": [cwd], "network_access": False},
                         "model": model, "effort": w.choice(["medium", "high"]), "summary": "auto"})
    for step in session["steps"]:
        if step.get("say"):
            rec("event_msg", {"type": "agent_message", "message": step["say"]})
            rec("response_item", {"type": "message", "role": "assistant",
                                  "content": [{"type": "output_text", "text": step["say"]}], "phase": "commentary"})
        for kind, name, payload, out in _codex_calls(step, w, cwd):
            call_id = "call_" + _b62(w, 24)
            if kind == "custom":
                rec("response_item", {"type": "custom_tool_call", "status": "completed", "call_id": call_id,
                                      "name": name, "input": payload})
                rec("response_item", {"type": "custom_tool_call_output", "call_id": call_id, "output": out})
                continue
            if kind == "shell":
                if shell_tool == "exec_command":
                    args = {"cmd": payload, "workdir": cwd, "yield_time_ms": 10000, "max_output_tokens": 10000}
                    output = (f"Chunk ID: {w.hexstr(6)}\nWall time: {w.rng.uniform(0.01, 3):.4f} seconds\n"
                              f"Process exited with code 0\nOriginal token count: {max(1, len(out) // 4)}\nOutput:\n{out}")
                elif shell_tool == "shell":
                    args = {"command": ["bash", "-lc", payload], "workdir": cwd, "timeout_ms": 120000}
                    output = json.dumps({"output": out, "metadata": {"exit_code": 0, "duration_seconds": round(w.rng.uniform(0.01, 3), 1)}})
                else:
                    args = {"command": payload, "workdir": cwd}
                    output = f"Exit code: 0\nWall time: {w.rng.uniform(0.01, 3):.1f} seconds\nOutput:\n{out}"
                name = shell_tool
            else:
                args = json.loads(payload)
                output = out
            rec("response_item", {"type": "function_call", "name": name, "arguments": json.dumps(args), "call_id": call_id})
            rec("event_msg", {"type": "token_count", "info": usage(), "rate_limits": None})
            clock.tick(0.1, 25.0)
            rec("response_item", {"type": "function_call_output", "call_id": call_id, "output": output})
    rec("event_msg", {"type": "agent_message", "message": session["final"]})
    rec("response_item", {"type": "message", "role": "assistant",
                          "content": [{"type": "output_text", "text": session["final"]}], "phase": "final_answer"})
    rec("event_msg", {"type": "task_complete", "turn_id": turn, "last_agent_message": session["final"]})
    return lines


def codex_path(session, clock):
    t = clock.start
    name = f"rollout-{t.strftime('%Y-%m-%dT%H-%M-%S')}-{session['id']}.jsonl"
    return posixpath.join("codex", t.strftime("%Y"), t.strftime("%m"), t.strftime("%d"), name)


def codex_id(w, clock):
    """A UUIDv7-shaped id whose time prefix is the session start."""
    ms = int(clock.start.timestamp() * 1000)
    h = f"{ms:012x}" + "7" + w.hexstr(3) + w.choice("89ab") + w.hexstr(15)
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def render(session, w):
    """(relative file path, JSONL text) for a session in its agent's format."""
    clock = Clock(w)
    if session["agent"] == "claude":
        session["id"] = w.uuid4()
        lines = write_claude(session, w, clock)
        path = claude_path(session)
    else:
        session["id"] = codex_id(w, clock)
        lines = write_codex(session, w, clock)
        path = codex_path(session, clock)
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    return path, text


def write_file(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
