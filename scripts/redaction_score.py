#!/usr/bin/env python3
"""Score a skilltrace binary's redaction on the labelled corpus: recall per provider, false
redactions per case.

Usage:
    python3 scripts/redaction_score.py --bin BIN [--cases FILE] [--json] [--verbose]

Every case of `tests/fixtures/redaction/cases.jsonl` ({id, provider, text, secrets, keep}) becomes
one Claude Code session of its own (one run, so the known-secret memory of one case never helps
another) whose Bash tool output is the case's text; all are imported with `BIN import` into one
temporary store and read back with `BIN export --format json`, so the score is what reaches disk.

* A secret is caught when no 8-character piece of it (the whole secret when shorter) that does
  not also occur in the case's text outside its secrets is left in the stored output.
* A keep is lost when the stored output no longer holds it; in a case with no secret, every
  redaction marker is false too. False redactions of a case = keeps lost, or its markers when it
  has no secret, whichever is more.

Prints recall per provider, every missed secret and every false redaction by case id, and the
totals. The exit code is 0 unless the import or export fails (exit 2): the script reports, the
test `src/redact/corpus_tests.rs` holds the floor.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

MARKER = re.compile(r"\[(?:REDACTED|HASH):([a-z0-9_]+)(?::[0-9a-f]{8})?\]")
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CASES = os.path.join(HERE, "..", "tests", "fixtures", "redaction", "cases.jsonl")


def session_lines(sid: str, text: str) -> list[str]:
    def rec(kind, uuid, parent, msg):
        return json.dumps({
            "parentUuid": parent, "isSidechain": False, "userType": "external", "cwd": "/home/dev/app",
            "sessionId": sid, "version": "2.1.39", "gitBranch": "main", "type": kind, "message": msg,
            "uuid": uuid, "timestamp": "2026-03-12T16:05:00.000Z"})
    return [
        rec("user", "u1", None, {"role": "user", "content": "show me the output"}),
        rec("assistant", "a1", "u1", {
            "model": "claude-opus-4-6", "id": "msg_01", "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "cat notes.txt"}}],
            "usage": {"input_tokens": 3, "output_tokens": 5}}),
        rec("user", "u2", "a1", {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": text}]}),
    ]


def leaked(secret: str, text: str, secrets: list[str], out: str) -> bool:
    """True when a piece of `secret` that only the secrets hold is in `out`."""
    rest = text
    for s in sorted(secrets, key=len, reverse=True):
        rest = rest.replace(s, "\0")
    n = min(8, len(secret))
    for i in range(len(secret) - n + 1):
        piece = secret[i:i + n]
        if piece in out and piece not in rest:
            return True
    return False


def score(cases: list[dict], outputs: dict[str, str]) -> dict:
    per = collections.OrderedDict()
    missed, false = [], []
    for c in cases:
        out = outputs.get(c["id"])
        if out is None:
            raise SystemExit("error: case %s: no tool output in the export" % c["id"])
        p = per.setdefault(c["provider"], [0, 0])
        for s in c["secrets"]:
            p[0] += 1
            if leaked(s, c["text"], c["secrets"], out):
                missed.append((c["id"], c["provider"]))
            else:
                p[1] += 1
        lost = [k for k in c["keep"] if k not in out]
        markers = MARKER.findall(out) if not c["secrets"] else []
        n = max(len(lost), len(markers))
        if n:
            false.append((c["id"], n, lost, markers))
    total = sum(v[0] for v in per.values())
    caught = sum(v[1] for v in per.values())
    return {
        "cases": len(cases),
        "secrets": total,
        "caught": caught,
        "recall": caught / total if total else 1.0,
        "keeps": sum(len(c["keep"]) for c in cases),
        "false_redactions": sum(f[1] for f in false),
        "cases_with_false": len(false),
        "per_provider": {k: {"secrets": v[0], "caught": v[1]} for k, v in per.items()},
        "missed": [m[0] for m in missed],
        "false": [{"id": f[0], "count": f[1], "keeps_lost": f[2], "markers": f[3]} for f in false],
    }


def run(binary: str, cases: list[dict]) -> dict[str, str]:
    with tempfile.TemporaryDirectory(prefix="redaction-score-") as tmp:
        traces = os.path.join(tmp, "traces")
        os.mkdir(traces)
        ids = {}
        for i, c in enumerate(cases):
            sid = "00000000-0000-4000-8000-%012d" % i
            ids[sid] = c["id"]
            with open(os.path.join(traces, "case-%04d.jsonl" % i), "w") as f:
                f.write("\n".join(session_lines(sid, c["text"])) + "\n")
        db = os.path.join(tmp, "s.db")
        env = {**os.environ, "NO_COLOR": "1"}
        imp = subprocess.run([binary, "import", "--db", db, traces], capture_output=True, text=True, env=env)
        if imp.returncode != 0:
            print("error: import failed: %s" % (imp.stdout + imp.stderr).strip(), file=sys.stderr)
            sys.exit(2)
        exp = subprocess.run([binary, "export", "--format", "json", "--db", db], capture_output=True, text=True, env=env)
        if exp.returncode != 0:
            print("error: export failed: %s" % exp.stderr.strip(), file=sys.stderr)
            sys.exit(2)
    outputs = {}
    for line in exp.stdout.splitlines():
        rec = json.loads(line)
        span = rec.get("span") if rec.get("type") == "span" else None
        if span and span.get("kind") == "tool" and span.get("run_id") in ids:
            outputs[ids[span["run_id"]]] = span.get("tool_output") or ""
    return outputs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="the skilltrace binary to score")
    ap.add_argument("--cases", default=DEFAULT_CASES)
    ap.add_argument("--json", action="store_true", help="print the score as JSON")
    ap.add_argument("--verbose", action="store_true", help="print each false case's stored output")
    a = ap.parse_args()
    with open(a.cases) as f:
        cases = [json.loads(l) for l in f if l.strip()]
    outputs = run(a.bin, cases)
    s = score(cases, outputs)
    if a.json:
        print(json.dumps(s, indent=2))
        return
    print("%-20s %7s %7s %7s" % ("provider", "secrets", "caught", "recall"))
    for k, v in s["per_provider"].items():
        if v["secrets"]:
            print("%-20s %7d %7d %6.0f%%" % (k, v["secrets"], v["caught"], 100.0 * v["caught"] / v["secrets"]))
    print("%-20s %7d %7d %6.1f%%" % ("all", s["secrets"], s["caught"], 100.0 * s["recall"]))
    print("missed (%d): %s" % (len(s["missed"]), " ".join(s["missed"]) or "none"))
    print("false redactions: %d in %d of %d cases (%d keeps)" % (
        s["false_redactions"], s["cases_with_false"], s["cases"], s["keeps"]))
    for f in s["false"]:
        print("  false: %s: %d (keeps lost: %s; markers: %s)" % (
            f["id"], f["count"], json.dumps(f["keeps_lost"]), ",".join(f["markers"]) or "-"))
        if a.verbose:
            print("    " + outputs[f["id"]].replace("\n", "\n    "))


if __name__ == "__main__":
    main()
