#!/usr/bin/env python3
"""Write the adversarial corpus: attack and hard-negative honest agent sessions.

    python3 scripts/adversarial/gen.py OUT_DIR [--seed N] [--size X] [--json]

OUT_DIR/sessions/ holds one session per file, Claude Code JSONL
(claude/projects/<cwd slug>/<session id>.jsonl) and Codex rollouts
(codex/YYYY/MM/DD/rollout-...-<id>.jsonl); OUT_DIR/manifest.json says what each file is
(attack or honest, family, technique, variant, agent, the right rule). Same seed, same
bytes; another seed changes every free choice. --size scales the number of sessions
per technique (1 = at least 300 attacks and 150 honest sessions). Python 3 stdlib only.
"""

import argparse
import collections
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from corpus import plan  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="folder to write (created; existing session files are replaced)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--size", type=float, default=1.0, help="sessions per technique, as a multiple of the default")
    ap.add_argument("--json", action="store_true", help="print the manifest summary as JSON")
    a = ap.parse_args(argv)
    if a.size <= 0:
        print("error: --size: must be positive", file=sys.stderr)
        return 2
    m = plan.generate(a.out, seed=a.seed, size=a.size)
    fams = collections.Counter(s["family"] for s in m["sessions"])
    agents = collections.Counter(s["agent"] for s in m["sessions"])
    if a.json:
        print(json.dumps({"out": a.out, "seed": a.seed, "size": a.size, "attacks": m["attacks"], "honest": m["honest"],
                          "families": dict(fams), "agents": dict(agents)}, indent=1))
    else:
        print(f"wrote {m['attacks']} attack and {m['honest']} honest sessions to {a.out}/sessions (seed {a.seed}, size {a.size})")
        print("  " + ", ".join(f"{k} {v}" for k, v in fams.items()))
        print("  " + ", ".join(f"{k} {v}" for k, v in sorted(agents.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
