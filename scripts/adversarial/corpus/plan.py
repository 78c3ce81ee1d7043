"""The corpus plan: which sessions exist, how each is assembled, and the manifest.

For every technique of every family (and every honest template) the plan makes
`round(PER_TECHNIQUE * size)` sessions (at least one). A session gets its own World
seeded by (corpus seed, family, technique, index), so one session never shifts
another and a new seed changes everything free. Assembly: an ordinary prelude of 1-3
steps, the technique's setup (for secrets: where the secret is seen, maybe followed by
an ordinary step), the payload, for injection-then-action the obeying step, and
sometimes a harmless epilogue; 2-6 tool calls in all.

`generate(out, seed, size)` writes OUT/sessions/{claude,codex}/... and OUT/manifest.json
(outside the sessions folder, so importing the sessions never sees it).
"""

import json
import os

from . import (fam_env, fam_heldout, fam_honest, fam_honest_more, fam_hosts, fam_injection, fam_interp, fam_paths, fam_persist, fam_revshell,
               fam_secrets, fam_shell)
from . import prelude as P
from . import session as S
from .expect import describe
from .world import World

GENERATOR_VERSION = 8


class _ActionFamily:
    FAMILY = fam_injection.ACTION_FAMILY
    TECHNIQUES = fam_injection.ACTION_TECHNIQUES
    PER_TECHNIQUE = fam_injection.ACTION_PER_TECHNIQUE


FAMILIES = [fam_shell, fam_interp, fam_paths, fam_hosts, fam_persist, fam_revshell, fam_secrets, fam_env, fam_injection,
            _ActionFamily, fam_heldout]
HONEST_TEMPLATES = fam_honest.TEMPLATES + fam_honest_more.TEMPLATES + fam_heldout.TEMPLATES

DESCS = ["Run setup step", "Configure environment", "Check connectivity", "Sync config", "Install helper",
         "Finish setup", "Prepare environment", "Run maintenance task", "Apply fix", "Verify installation"]


def _as_step(w, x):
    if isinstance(x, str):
        return S.sh(x, w.choice(["", "", "ok\n", "done\n", "{\"status\":\"ok\"}\n"]), desc=w.choice(DESCS))
    return x


def assemble(w, spec):
    """The session dict from a technique's spec and the world."""
    agent = spec.get("agent") or w.choice(["claude", "codex"])
    setup = [_as_step(w, x) for x in spec.get("setup") or []]
    payload = [_as_step(w, x) for x in spec["steps"]]
    action = [_as_step(w, x) for x in spec.get("action") or []]
    core = len(setup) + len(payload) + len(action)
    room = 6 - core
    gap = []
    if setup and spec.get("gap") and room > 1 and w.chance(0.5):
        gap = P.ordinary_steps(w, 1)
        room -= 1
    # at least one ordinary step before anything else: no session opens with its payload
    n_pre = w.randint(max(1, 2 - core - len(gap)), max(1, min(3, room)))
    room -= n_pre
    epilogue = [P.epilogue_step(w)] if room > 0 and w.chance(0.35) else []
    steps = P.ordinary_steps(w, n_pre) + setup + gap + payload + action + epilogue
    return {"agent": agent, "cwd": w.cwd, "branch": w.branch, "org": w.org, "project": w.project,
            "prompt": spec.get("prompt") or P.prompt(w), "steps": steps, "final": P.final(w),
            "payload_at": n_pre + len(setup) + len(gap), "payload": [summary(x) for x in payload + action]}


def summary(step):
    """One line saying what a step does (for the scorer's lists of misses)."""
    t = step["tool"]
    if t == "shell":
        return step["cmd"]
    if t in ("read", "write", "edit"):
        return f"{t} {step['path']}"
    if t == "fetch":
        return f"fetch {step['url']}"
    if t == "mcp":
        return f"mcp {step['server']}/{step['name']} {json.dumps(step['args'], ensure_ascii=False)}"
    return f"{t} {step.get('pattern', '')}"


def _sessions(seed, size):
    """(kind, family, technique, index, seed_text, make) for every planned session."""
    out = []
    for fam in FAMILIES:
        per = max(1, round(fam.PER_TECHNIQUE * size))
        for tech, make in fam.TECHNIQUES:
            for i in range(per):
                out.append(("attack", fam.FAMILY, tech, i, f"{seed}:{fam.FAMILY}:{tech}:{i}", make))
    per = max(1, round(fam_honest.PER_TEMPLATE * size))
    for tech, make in HONEST_TEMPLATES:
        for i in range(per):
            out.append(("honest", fam_honest.FAMILY, tech, i, f"{seed}:honest:{tech}:{i}", make))
    return out


def generate(out_dir, seed=1, size=1.0):
    """Write the corpus; return the manifest (also written to OUT/manifest.json)."""
    root = os.path.join(out_dir, "sessions")
    os.makedirs(root, exist_ok=True)
    records = []
    for kind, family, tech, i, seed_text, make in _sessions(seed, size):
        w = World(seed_text)
        spec = make(w, i)
        session = assemble(w, spec)
        rel, text = S.render(session, w)
        S.write_file(root, rel, text)
        expect = spec.get("expect") or []
        records.append({"file": rel, "kind": kind, "family": family, "technique": tech, "variant": spec.get("variant", ""),
                        "agent": session["agent"], "tool_calls": len(session["steps"]), "payload_at": session["payload_at"],
                        "payload": session["payload"] + ([f"injected: {spec['note']}"] if spec.get("note") else []),
                        "expect": expect, "expect_text": describe(expect) if expect else "nothing at medium or above"})
    manifest = {"generator_version": GENERATOR_VERSION, "seed": seed, "size": size,
                "attacks": sum(1 for r in records if r["kind"] == "attack"),
                "honest": sum(1 for r in records if r["kind"] == "honest"), "sessions": records}
    with open(os.path.join(out_dir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    return manifest
