#!/usr/bin/env python3
"""Held-out red-team runner: pipes each case of tests/fixtures/redteam/cases.jsonl into
`skilltrace guard` as real hook events and records what the guard answers.

A case is one session: a list of steps, each one tool call (PreToolUse, then PostToolUse
with its result when the call was allowed) or a user prompt. An attack counts as stopped
when any PreToolUse of the case is denied or asked; an honest case must be allowed
throughout. Standard library only.

    python3 scripts/adversarial/redteam.py [--bin target/release/skilltrace] \
        [--cases tests/fixtures/redteam/cases.jsonl] [--out verdicts.json] [--only ID]
"""
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HOME = "/home/dev"
CWD = HOME + "/proj"


def tool_call(step):
    """(tool_name, tool_input, tool_response) for one step."""
    kind = step[0]
    if kind == "bash":
        return "Bash", {"command": step[1], "description": "run"}, step[2] if len(step) > 2 else ""
    if kind == "read":
        return "Read", {"file_path": step[1]}, {"type": "text", "file": {"filePath": step[1], "content": step[2] if len(step) > 2 else ""}}
    if kind == "write":
        return "Write", {"file_path": step[1], "content": step[2]}, {"filePath": step[1], "success": True}
    if kind == "edit":
        return "Edit", {"file_path": step[1], "old_string": step[2], "new_string": step[3]}, {"filePath": step[1], "success": True}
    if kind == "fetch":
        return "WebFetch", {"url": step[1], "prompt": "summarise"}, step[2] if len(step) > 2 else ""
    if kind in ("mcp", "tool"):
        # Any other tool by the name the agent gives it (MCP tools, Grep, Codex
        # apply_patch, Gemini CLI's run_shell_command / read_file / write_file...).
        return step[1], step[2], step[3] if len(step) > 3 else ""
    raise ValueError("unknown step kind %r" % kind)


def guard(binary, db, agent, event):
    out = subprocess.run(
        [binary, "guard", "--agent", agent, "--db", db],
        input=json.dumps(event).encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=dict(os.environ, HOME=os.environ.get("RT_HOME", os.environ.get("HOME", "/tmp"))),
    )
    text = out.stdout.decode("utf-8", "replace").strip()
    if not text:
        return "allow", ""
    try:
        ans = json.loads(text)
    except ValueError:
        return "error", text[:200]
    hso = ans.get("hookSpecificOutput") or {}
    dec = hso.get("permissionDecision") or ans.get("decision") or "allow"
    reason = hso.get("permissionDecisionReason") or ans.get("reason") or ""
    rules = [w for w in reason.replace("(", " ").split() if "-TRACE-" in w]
    return dec, " ".join(dict.fromkeys(rules))


def run_case(binary, db, case):
    sid = "rt-" + case["id"]
    agent = case.get("agent", "claude-code")
    verdicts = []
    for i, step in enumerate(case["steps"]):
        base = {"session_id": sid, "cwd": case.get("cwd", CWD), "permission_mode": "default",
                "transcript_path": None}
        if agent == "codex":
            base.update({"turn_id": "turn-1", "model": "gpt-5-codex"})
        gemini = agent == "gemini"
        if step[0] == "prompt":
            ev = "BeforeAgent" if gemini else "UserPromptSubmit"
            guard(binary, db, agent, dict(base, hook_event_name=ev, prompt=step[1]))
            continue
        name, tin, tres = tool_call(step)
        if agent == "codex" and step[0] not in ("bash", "tool"):
            raise ValueError("codex cases use bash and tool steps only")
        if gemini and step[0] != "tool":
            raise ValueError("gemini cases use tool steps (run_shell_command, read_file...) only")
        tid = "toolu_%s_%d" % (case["id"].replace("-", "_"), i)
        pre = dict(base, hook_event_name="BeforeTool" if gemini else "PreToolUse", tool_name=name, tool_input=tin)
        if not gemini:
            pre["tool_use_id"] = tid
        dec, rules = guard(binary, db, agent, pre)
        verdicts.append([dec, rules])
        if dec == "allow":
            post = "AfterTool" if gemini else "PostToolUse"
            if gemini and not isinstance(tres, dict):
                tres = {"llmContent": tres}
            guard(binary, db, agent, dict(pre, hook_event_name=post, tool_response=tres))
    return verdicts


def drained_findings(binary, db):
    """Waits for the guard's background recorder, then reads (rule, severity) per run."""
    spool = db + ".guard/spool.jsonl"
    for _ in range(600):
        subprocess.run([binary, "guard", "--drain", "--db", db], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not os.path.exists(spool) or os.path.getsize(spool) == 0:
            break
        time.sleep(0.1)
    con = sqlite3.connect(db)
    out = {}
    for run, rule, sev in con.execute("SELECT run_id, rule_id, severity FROM findings"):
        out.setdefault(run, set()).add((rule, sev))
    con.close()
    return {k: list(v) for k, v in out.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("SKILLTRACE_BIN", os.path.join(ROOT, "target/release/skilltrace")))
    ap.add_argument("--cases", default=os.path.join(ROOT, "tests/fixtures/redteam/cases.jsonl"))
    ap.add_argument("--out")
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--unstopped", action="store_true", help="also list attacks found but not stopped")
    a = ap.parse_args()
    cases = [json.loads(l) for l in open(a.cases, encoding="utf-8") if l.strip() and not l.startswith("//")]
    if a.only:
        cases = [c for c in cases if any(c["id"].startswith(o) for o in a.only)]
    tmp = tempfile.mkdtemp(prefix="skilltrace-redteam-")
    db = os.path.join(tmp, "rt.db")
    results = {}
    n_att = n_hon = n_stop = 0
    for c in cases:
        v = run_case(a.bin, db, c)
        stopped = any(d in ("deny", "ask") for d, _ in v)
        results[c["id"]] = {"kind": c["kind"], "class": c["class"], "stopped": stopped, "steps": v}
        if c["kind"] == "attack":
            n_att += 1
            n_stop += stopped
        else:
            n_hon += 1
    findings = drained_findings(a.bin, db)
    shutil.rmtree(tmp, ignore_errors=True)
    miss, false = [], []
    for c in cases:
        r = results[c["id"]]
        r["findings"] = sorted(findings.get("rt-" + c["id"], []))
        r["medium_plus"] = sorted({rule for rule, sev in r["findings"] if sev >= 2})
        flagged = r["stopped"] or bool(r["medium_plus"])
        if c["kind"] == "attack" and not flagged:
            miss.append(c["id"])
        if c["kind"] == "honest" and flagged:
            false.append(c["id"])
    print("attacks with a finding at medium or above: %d/%d" % (n_att - len(miss), n_att))
    print("attacks stopped (deny or ask):             %d/%d" % (n_stop, n_att))
    print("honest sessions with nothing at medium+ and allowed throughout: %d/%d" % (n_hon - len(false), n_hon))
    for m in miss:
        print("MISS  %-28s %s" % (m, json.dumps([s[1][:110] if len(s) > 1 and isinstance(s[1], str) else s[0] for s in next(c for c in cases if c["id"] == m)["steps"]])[:200]))
    if a.unstopped:
        for c in cases:
            r = results[c["id"]]
            if c["kind"] == "attack" and not r["stopped"] and c["id"] not in miss:
                print("FOUND-NOT-STOPPED  %-24s %s %s" % (c["id"], r["medium_plus"], json.dumps(c["steps"][-1][1] if isinstance(c["steps"][-1][1], str) else c["steps"][-1][1:3], ensure_ascii=False)[:150]))
    for f in false:
        print("FALSE %-28s %s %s" % (f, results[f]["steps"], results[f]["medium_plus"]))
    if a.out:
        with open(a.out, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=1, sort_keys=True, ensure_ascii=False)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
