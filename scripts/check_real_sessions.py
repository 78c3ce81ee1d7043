#!/usr/bin/env python3
"""Import real agent sessions with the release binary and print, per file, what became of them.

Usage:
    python3 scripts/check_real_sessions.py [--bin BIN] [--db PATH] [--context N] [--json] PATH...

Each PATH (a file or a folder, as `skilltrace import` takes it) is imported into one temporary
store, so subagent files beside their session link as they would for a user. Then, per source
file, it prints:

* records: non-empty lines of a JSONL file, or 1 for a JSON document;
* the format the sniffer chose, the spans by kind, tool calls (and how many have a result),
  LLM calls with the models and token totals;
* parse errors (count and the first messages);
* findings by severity, listing every one at medium and above (rule, title, evidence) so a person
  can judge each as a real risk or a false positive;
* redactions by rule, each with the text around the marker, so a person can judge each as a real
  secret, a test key, or a false redaction of honest text.

Per run: agent, title, parent run, span count. The exit code is 0 unless the import itself fails
(exit 2): the script reports, a person judges.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile

MARKER = re.compile(r"\[(?:REDACTED|HASH):([a-z0-9_]+)(?::[0-9a-f]{8})?\]")
SEVERITIES = ["critical", "high", "medium", "low", "info"]


def count_records(path: str) -> int:
    """Non-empty lines of a JSONL file; a JSON document counts as one record."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return 0
    if path.endswith(".zst"):
        return -1
    stripped = data.lstrip()
    if stripped[:1] in (b"{", b"[") and not path.endswith((".jsonl", ".ndjson")):
        try:
            json.loads(data)
            return 1
        except ValueError:
            pass
    return sum(1 for line in data.splitlines() if line.strip())


def walk(paths: list[str]) -> list[str]:
    out = []
    for p in paths:
        if os.path.isdir(p):
            for root, _dirs, files in os.walk(p):
                for name in sorted(files):
                    if name.endswith((".jsonl", ".json", ".ndjson", ".jsonl.zst")):
                        out.append(os.path.join(root, name))
        else:
            out.append(p)
    return sorted(out)


def import_all(binary: str, db: str, paths: list[str]) -> tuple[int, str]:
    proc = subprocess.run(
        [binary, "import", "--db", db, *paths],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def export_lines(binary: str, db: str) -> list[dict]:
    proc = subprocess.run(
        [binary, "export", "--db", db, "--format", "json"], capture_output=True, text=True
    )
    if proc.returncode != 0:
        sys.exit(f"error: export: {proc.stderr.strip()}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def findings(binary: str, db: str) -> list[dict]:
    proc = subprocess.run(
        [binary, "findings", "--db", db, "--format", "json"], capture_output=True, text=True
    )
    if proc.returncode != 0:
        sys.exit(f"error: findings: {proc.stderr.strip()}")
    return json.loads(proc.stdout or "[]")


def parse_errors(db: str) -> dict[str, list[tuple[int, str]]]:
    out: dict[str, list[tuple[int, str]]] = collections.defaultdict(list)
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        for path, line, message in con.execute(
            "SELECT path, line, message FROM parse_errors ORDER BY path, line"
        ):
            out[path].append((line, message))
        formats = dict(con.execute("SELECT path, format FROM sources"))
    finally:
        con.close()
    return out, formats


def strings(value, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            strings(v, out)
    elif isinstance(value, list):
        for v in value:
            strings(v, out)


def redactions(span: dict, context: int) -> list[tuple[str, str]]:
    texts: list[str] = []
    strings(span, texts)
    found = []
    for text in texts:
        for m in MARKER.finditer(text):
            lo, hi = max(0, m.start() - context), min(len(text), m.end() + context)
            snippet = text[lo:hi].replace("\n", "\\n")
            found.append((m.group(1), snippet))
    return found


def summarise(files, records, exported, found, errors, formats, context):
    per_file = {f: summarise_empty(f, formats, errors) for f in files}
    for f in files:
        per_file[f]["records"] = records.get(f, 0)

    def entry(path: str):
        if path not in per_file:
            per_file[path] = summarise_empty(path, formats, errors)
        return per_file[path]

    runs = {}
    for rec in exported:
        if rec.get("type") == "run":
            run = rec["run"]
            runs[run["id"]] = run
            # A run whose file made no span is still listed under its file.
            if run.get("source"):
                entry(run["source"])["runs"][run["id"]] = run
    for rec in exported:
        if rec.get("type") != "span":
            continue
        span = rec["span"]
        path = (span.get("origin") or {}).get("path") or "(proxy)"
        e = entry(path)
        e["spans"][span["kind"]] += 1
        if span["kind"] == "tool":
            e["tools"][span.get("tool_name") or span.get("name")] += 1
            if span.get("tool_output") is not None or span.get("status") == "error":
                e["tool_results"] += 1
        if span["kind"] == "llm":
            e["models"][span.get("model") or "(none)"] += 1
            e["input_tokens"] += span.get("input_tokens") or 0
            e["output_tokens"] += span.get("output_tokens") or 0
        run = runs.get(span["run_id"])
        if run is not None:
            e["runs"][run["id"]] = run
        for rule, snippet in redactions(span, context):
            e["redactions"][rule] += 1
            e["redaction_samples"].append((rule, snippet, (span.get("origin") or {}).get("line")))
    for f in found:
        source = f.get("source") or {}
        path = source.get("path") or "(proxy)"
        e = entry(path)
        e["findings"][f["severity"]] += 1
        if SEVERITIES.index(f["severity"]) <= SEVERITIES.index("medium"):
            e["medium_plus"].append(f)
    return per_file


def summarise_empty(path, formats, errors):
    return {
        "records": 0,
        "format": formats.get(path, ""),
        "spans": collections.Counter(),
        "tools": collections.Counter(),
        "tool_results": 0,
        "models": collections.Counter(),
        "input_tokens": 0,
        "output_tokens": 0,
        "parse_errors": errors.get(path, []),
        "findings": collections.Counter(),
        "medium_plus": [],
        "redactions": collections.Counter(),
        "redaction_samples": [],
        "runs": {},
    }


def print_report(per_file, import_line, samples):
    print(f"import: {import_line}")
    totals = collections.Counter()
    for path in sorted(per_file):
        e = per_file[path]
        spans = sum(e["spans"].values())
        totals["records"] += max(e["records"], 0)
        totals["spans"] += spans
        totals["parse_errors"] += len(e["parse_errors"])
        totals["medium_plus"] += len(e["medium_plus"])
        totals["redactions"] += sum(e["redactions"].values())
        print(f"\n== {path}")
        print(
            f"  records {e['records']}  format {e['format'] or '-'}  spans {spans} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(e['spans'].items())) or 'none'})"
        )
        if e["tools"]:
            tools = ", ".join(f"{k} {v}" for k, v in e["tools"].most_common(12))
            print(f"  tools {sum(e['tools'].values())} ({e['tool_results']} with result): {tools}")
        if e["models"]:
            models = ", ".join(f"{k} {v}" for k, v in e["models"].most_common())
            print(
                f"  llm calls: {models}; tokens in {e['input_tokens']} out {e['output_tokens']}"
            )
        for run in e["runs"].values():
            parent = run.get("parent_run_id")
            title = (run.get("title") or "")[:60].replace("\n", " ")
            link = f" parent {parent}" if parent else ""
            print(f"  run {run['id']} {run.get('agent')}{link}: {title!r}")
        print(f"  parse errors {len(e['parse_errors'])}")
        for line, message in e["parse_errors"][:5]:
            print(f"    line {line}: {message}")
        sev = ", ".join(f"{s} {e['findings'][s]}" for s in SEVERITIES if e["findings"][s])
        print(f"  findings: {sev or 'none'}")
        for f in e["medium_plus"]:
            line = (f.get("source") or {}).get("line")
            evidence = (f.get("evidence") or "")[:160].replace("\n", "\\n")
            print(f"    {f['severity']} {f['rule_id']} line {line}: {f['title']} | {evidence}")
        red = ", ".join(f"{k} {v}" for k, v in e["redactions"].most_common())
        print(f"  redactions: {red or 'none'}")
        for rule, snippet, line in e["redaction_samples"][:samples]:
            print(f"    {rule} line {line}: {snippet}")
        if len(e["redaction_samples"]) > samples:
            print(f"    ... {len(e['redaction_samples']) - samples} more (--samples N)")
    print(
        f"\ntotal: {len(per_file)} files, {totals['records']} records, {totals['spans']} spans, "
        f"{totals['parse_errors']} parse errors, {totals['medium_plus']} findings at medium+, "
        f"{totals['redactions']} redactions"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--bin", default="target/release/skilltrace")
    ap.add_argument("--db", help="keep the store here (default: a temporary one, removed after)")
    ap.add_argument("--context", type=int, default=40, help="characters shown around a marker")
    ap.add_argument("--samples", type=int, default=40, help="redactions shown per file")
    ap.add_argument("--json", action="store_true", help="print the per-file summary as JSON")
    args = ap.parse_args()

    files = walk(args.paths)
    records = {f: count_records(f) for f in files}
    with tempfile.TemporaryDirectory(prefix="check_real_") as tmp:
        db = args.db or os.path.join(tmp, "store.db")
        rc, out = import_all(args.bin, db, args.paths)
        if rc != 0:
            print(f"error: import: {out}", file=sys.stderr)
            return 2
        exported = export_lines(args.bin, db)
        found = findings(args.bin, db)
        errors, formats = parse_errors(db)
    per_file = summarise(files, records, exported, found, errors, formats, args.context)
    if args.json:
        json.dump(
            {
                path: {
                    "records": e["records"],
                    "format": e["format"],
                    "spans": dict(e["spans"]),
                    "tools": dict(e["tools"]),
                    "models": dict(e["models"]),
                    "parse_errors": len(e["parse_errors"]),
                    "findings": dict(e["findings"]),
                    "medium_plus": [
                        {k: f.get(k) for k in ("rule_id", "severity", "title", "evidence", "source")}
                        for f in e["medium_plus"]
                    ],
                    "redactions": dict(e["redactions"]),
                }
                for path, e in sorted(per_file.items())
            },
            sys.stdout,
            indent=1,
        )
        print()
    else:
        print_report(per_file, out.splitlines()[-1] if out else "", args.samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
