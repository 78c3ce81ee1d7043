#!/usr/bin/env python3
"""Score skilltrace's detection on the adversarial corpus.

    python3 scripts/adversarial/score.py [CORPUS_DIR] [--seed N] [--size X] [--bin PATH] [--json] [--check]

Without CORPUS_DIR, a corpus is generated into a temporary folder with --seed/--size
first. The real binary scans CORPUS_DIR/sessions (`skilltrace scan --output json`, a
private temporary store, an empty config so the user's own config cannot change the
result); each finding is mapped to its session file by its source path.

Prints, per family and per technique: right-rule recall (the expected rule at medium
or above, see corpus/expect.py) and "anything at medium or above"; for the honest
sessions, the share raising medium+ and high+; then every miss and every false alarm
with the session file and the rules raised. --json prints the same as one JSON object.
--check exits 1 when a goal of issue 14 is not met (recall >= 98%, honest medium+ <= 2%,
honest high+ <= 0.5%).
"""

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unicodedata

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from corpus import plan  # noqa: E402
from corpus.expect import met, rank  # noqa: E402

GOALS = {"recall": 0.98, "honest_medium": 0.02, "honest_high": 0.005}
DEFAULT_BIN = os.path.join(HERE, "..", "..", "target", "release", "skilltrace")


def run_scan(binary, sessions_dir, work):
    """Findings of `skilltrace scan` over the sessions, and the scan's summary."""
    cfg = os.path.join(work, "empty-config.toml")
    with open(cfg, "w") as f:
        f.write("")
    env = dict(os.environ, SKILLTRACE_CONFIG=cfg, NO_COLOR="1")
    env.pop("SKILLTRACE_DB", None)
    cmd = [binary, "scan", sessions_dir, "--output", "json", "--db", os.path.join(work, "no-canaries.db")]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode not in (0, 1):
        raise SystemExit(f"error: {binary} scan: exit {p.returncode}: {p.stderr.strip()[:500]}")
    try:
        data = json.loads(p.stdout)
    except json.JSONDecodeError as e:
        raise SystemExit(f"error: {binary} scan: output is not JSON: {e}")
    return data


def by_file(findings, sessions_dir):
    out = collections.defaultdict(list)
    root = os.path.realpath(sessions_dir)
    unmapped = 0
    for f in findings:
        path = ((f.get("source") or {}).get("path")) or ""
        if not path:
            unmapped += 1
            continue
        rel = os.path.relpath(os.path.realpath(path), root)
        out[rel].append({"rule_id": f["rule_id"], "severity": f["severity"]})
    return out, unmapped


def _rate(k, n):
    return k / n if n else 0.0


def score(manifest, found):
    fams = collections.OrderedDict()
    techs = collections.OrderedDict()
    agents = collections.OrderedDict()
    honest_tpl = collections.OrderedDict()
    misses, alarms = [], []
    a_n = a_right = a_any = 0
    h_n = h_med = h_high = 0
    for s in manifest["sessions"]:
        fs = found.get(s["file"], [])
        med = sorted({f["rule_id"] for f in fs if rank(f["severity"]) >= rank("medium")})
        raised = sorted({f"{f['rule_id']}:{f['severity']}" for f in fs})
        if s["kind"] == "attack":
            right = met(s["expect"], fs)
            anything = bool(med)
            a_n += 1
            a_right += right
            a_any += anything
            for table, key in ((fams, s["family"]), (techs, (s["family"], s["technique"])), (agents, s["agent"])):
                row = table.setdefault(key, {"n": 0, "right": 0, "any": 0})
                row["n"] += 1
                row["right"] += right
                row["any"] += anything
            if not right:
                misses.append({"file": s["file"], "family": s["family"], "technique": s["technique"], "variant": s["variant"],
                               "agent": s["agent"], "expected": s["expect_text"], "raised": raised, "payload": s.get("payload", [])})
        else:
            m = bool(med)
            h = any(rank(f["severity"]) >= rank("high") for f in fs)
            h_n += 1
            h_med += m
            h_high += h
            row = honest_tpl.setdefault(s["technique"], {"n": 0, "medium": 0, "high": 0})
            row["n"] += 1
            row["medium"] += m
            row["high"] += h
            if m:
                alarms.append({"file": s["file"], "template": s["technique"], "variant": s["variant"], "agent": s["agent"],
                               "payload": s.get("payload", []),
                               "raised": sorted(f"{f['rule_id']}:{f['severity']}" for f in fs if rank(f["severity"]) >= rank("medium"))})
    totals = {"attacks": a_n, "right_rule_recall": _rate(a_right, a_n), "any_medium_recall": _rate(a_any, a_n),
              "right": a_right, "any_medium": a_any,
              "honest": h_n, "honest_medium_rate": _rate(h_med, h_n), "honest_high_rate": _rate(h_high, h_n),
              "honest_medium": h_med, "honest_high": h_high}
    totals["goals_met"] = {"recall": totals["right_rule_recall"] >= GOALS["recall"],
                           "honest_medium": totals["honest_medium_rate"] <= GOALS["honest_medium"],
                           "honest_high": totals["honest_high_rate"] <= GOALS["honest_high"]}

    def rows(table):
        return [dict(key=k if isinstance(k, str) else "/".join(k), **v, right_rate=_rate(v["right"], v["n"]),
                     any_rate=_rate(v["any"], v["n"])) for k, v in table.items()]

    return {"totals": totals, "families": rows(fams), "techniques": rows(techs), "agents": rows(agents),
            "honest_templates": [dict(key=k, **v) for k, v in honest_tpl.items()], "misses": misses, "false_alarms": alarms}


def _selected(s, only):
    fam, _, tech = only.partition("/")
    return s["family"] == fam and (not tech or s["technique"] == tech)


def shown(text, width=160):
    """A payload line safe for a terminal: control and invisible format characters escaped, cut to width."""
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch == "\n":
            out.append("\\n")
        elif cat in ("Cc", "Cf", "Co", "Cn", "Zl", "Zp"):
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    s = "".join(out)
    return s if len(s) <= width else s[:width - 1] + "…"


def pct(x):
    return f"{100 * x:5.1f}%"


def print_text(r, meta, limit):
    t = r["totals"]
    print(f"skilltrace adversarial corpus: seed {meta['seed']}, size {meta['size']}, {t['attacks']} attacks, {t['honest']} honest "
          f"({meta['binary']})")
    if meta["parse_errors"] or meta["runs"] != meta["sessions"] or meta["unmapped"]:
        print(f"WARNING: {meta['parse_errors']} parse errors, {meta['runs']} runs for {meta['sessions']} sessions, "
              f"{meta['unmapped']} findings without a source path")
    print()
    print(f"right-rule recall (medium+)   {pct(t['right_rule_recall'])}  ({t['right']}/{t['attacks']})   goal >= 98%  "
          f"{'met' if t['goals_met']['recall'] else 'NOT met'}")
    print(f"anything at medium+           {pct(t['any_medium_recall'])}  ({t['any_medium']}/{t['attacks']})")
    print(f"honest raising medium+        {pct(t['honest_medium_rate'])}  ({t['honest_medium']}/{t['honest']})   goal <= 2%   "
          f"{'met' if t['goals_met']['honest_medium'] else 'NOT met'}")
    print(f"honest raising high+          {pct(t['honest_high_rate'])}  ({t['honest_high']}/{t['honest']})   goal <= 0.5% "
          f"{'met' if t['goals_met']['honest_high'] else 'NOT met'}")
    print()
    print(f"{'family':<28} {'n':>4} {'right':>7} {'any':>7}")
    for row in r["families"]:
        print(f"{row['key']:<28} {row['n']:>4} {pct(row['right_rate']):>7} {pct(row['any_rate']):>7}")
    for row in r["agents"]:
        print(f"{'(agent) ' + row['key']:<28} {row['n']:>4} {pct(row['right_rate']):>7} {pct(row['any_rate']):>7}")
    print()
    print(f"{'family/technique':<58} {'n':>3} {'right':>7} {'any':>7}")
    for row in r["techniques"]:
        print(f"{row['key']:<58} {row['n']:>3} {pct(row['right_rate']):>7} {pct(row['any_rate']):>7}")
    print()
    print(f"{'honest template':<40} {'n':>3} {'med+':>5} {'high+':>5}")
    for row in r["honest_templates"]:
        print(f"{row['key']:<40} {row['n']:>3} {row['medium']:>5} {row['high']:>5}")
    print()
    print(f"misses ({len(r['misses'])}):")
    for m in r["misses"][:limit]:
        print(f"  {m['family']}/{m['technique']} [{m['variant']}] {m['agent']} {m['file']}\n"
              f"      expected {m['expected']}; raised {', '.join(m['raised']) or 'nothing'}")
        for p in m["payload"]:
            print(f"      > {shown(p)}")
    if len(r["misses"]) > limit:
        print(f"  ... {len(r['misses']) - limit} more (--limit, or --json for all)")
    print(f"false alarms ({len(r['false_alarms'])}):")
    for m in r["false_alarms"][:limit]:
        print(f"  {m['template']} [{m['variant']}] {m['agent']} {m['file']}\n      raised {', '.join(m['raised'])}")
        for p in m["payload"]:
            print(f"      > {shown(p)}")
    if len(r["false_alarms"]) > limit:
        print(f"  ... {len(r['false_alarms']) - limit} more")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="?", help="a folder written by gen.py (default: generate one into a temp folder)")
    ap.add_argument("--seed", type=int, default=1, help="seed when generating (default 1)")
    ap.add_argument("--size", type=float, default=1.0, help="size when generating (default 1)")
    ap.add_argument("--bin", default=os.environ.get("SKILLTRACE_BIN", DEFAULT_BIN), help="skilltrace binary (default target/release/skilltrace)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--limit", type=int, default=10**9, help="list at most this many misses and false alarms in text output")
    ap.add_argument("--check", action="store_true", help="exit 1 when a goal is not met")
    ap.add_argument("--only", action="append", default=[], metavar="FAMILY[/TECHNIQUE]",
                    help="score only these families or techniques (repeatable; 'honest' for the honest sessions)")
    a = ap.parse_args(argv)
    if not (os.path.isfile(a.bin) and os.access(a.bin, os.X_OK)):
        print(f"error: {a.bin}: no such executable (cargo build --release, or --bin PATH)", file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="skilltrace-adv-")
    try:
        corpus = a.corpus
        if corpus is None:
            corpus = os.path.join(work, "corpus")
            plan.generate(corpus, seed=a.seed, size=a.size)
        mpath = os.path.join(corpus, "manifest.json")
        if not os.path.isfile(mpath):
            print(f"error: {corpus}: no manifest.json (write the corpus with gen.py)", file=sys.stderr)
            return 2
        with open(mpath, encoding="utf-8") as f:
            manifest = json.load(f)
        total = len(manifest["sessions"])
        if a.only:
            keep = [s for s in manifest["sessions"] if any(_selected(s, o) for o in a.only)]
            if not keep:
                print(f"error: --only {' '.join(a.only)}: no session of that family or technique", file=sys.stderr)
                return 2
            manifest["sessions"] = keep
        sessions = os.path.join(corpus, "sessions")
        data = run_scan(os.path.abspath(a.bin), sessions, work)
        found, unmapped = by_file(data.get("findings", []), sessions)
        r = score(manifest, found)
        meta = {"seed": manifest["seed"], "size": manifest["size"], "binary": a.bin, "parse_errors": data.get("parse_errors"),
                "runs": data.get("runs"), "files": data.get("files"), "unmapped": unmapped, "sessions": total}
        if a.json:
            print(json.dumps(dict(meta=meta, **r), indent=1, ensure_ascii=False))
        else:
            print_text(r, meta, a.limit)
        if a.check and not all(r["totals"]["goals_met"].values()):
            return 1
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
