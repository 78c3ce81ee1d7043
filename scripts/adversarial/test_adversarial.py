#!/usr/bin/env python3
"""Unit tests for the adversarial corpus generator (stdlib unittest, no binary needed).

    python3 scripts/adversarial/test_adversarial.py

Checks that the corpus is deterministic for a seed and different across seeds, that
it has the promised size and spread, that every session is well-formed JSONL in its
agent's shape with 2-6 tool calls, and that the shell disguises are real: each
transform, applied to a harmless command, makes bash do exactly what the plain
command does. (tests/e2e/adversarial_corpus.rs imports a corpus with the real binary.)
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from corpus import fam_shell, plan  # noqa: E402
from corpus.world import World  # noqa: E402

BASH = shutil.which("bash")


def run_bash(cmd):
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp/advhome"}
    return subprocess.run([BASH, "-c", cmd], capture_output=True, text=True, env=env, timeout=20).stdout


def tree_digest(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = fh.read()
    return out


class Determinism(unittest.TestCase):
    def test_same_seed_same_bytes_other_seed_other_corpus(self):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b, tempfile.TemporaryDirectory() as c:
            plan.generate(a, seed=7, size=0.25)
            plan.generate(b, seed=7, size=0.25)
            plan.generate(c, seed=8, size=0.25)
            da, db, dc = tree_digest(a), tree_digest(b), tree_digest(c)
            self.assertEqual(da, db)
            self.assertNotEqual(set(da), set(dc))
            # Different seeds share no session file and no command text.
            cmds_a = {l for k, v in da.items() if k.endswith(".jsonl") for l in _commands(v)}
            cmds_c = {l for k, v in dc.items() if k.endswith(".jsonl") for l in _commands(v)}
            self.assertLess(len(cmds_a & cmds_c) / max(1, len(cmds_a)), 0.25)


def _commands(raw):
    """Shell commands of a session file (both formats)."""
    out = []
    for line in raw.decode().splitlines():
        r = json.loads(line)
        msg = r.get("message") or {}
        for block in msg.get("content", []) if isinstance(msg.get("content"), list) else []:
            if block.get("type") == "tool_use" and "command" in block.get("input", {}):
                out.append(block["input"]["command"])
        p = r.get("payload") or {}
        if p.get("type") == "function_call":
            args = json.loads(p["arguments"])
            c = args.get("cmd") or args.get("command")
            if isinstance(c, list):
                c = c[-1]
            if c:
                out.append(c)
    return out


class Shape(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        cls.manifest = plan.generate(cls.dir, seed=1, size=1.0)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def test_sizes_and_spread(self):
        sessions = self.manifest["sessions"]
        attacks = [s for s in sessions if s["kind"] == "attack"]
        honest = [s for s in sessions if s["kind"] == "honest"]
        self.assertGreaterEqual(len(attacks), 300)
        self.assertGreaterEqual(len(honest), 150)
        for kind in (attacks, honest):
            agents = {s["agent"] for s in kind}
            self.assertEqual(agents, {"claude", "codex"})
        for fam in plan.FAMILIES:
            for tech, _ in fam.TECHNIQUES:
                n = sum(1 for s in attacks if s["family"] == fam.FAMILY and s["technique"] == tech)
                self.assertGreaterEqual(n, 3, f"{fam.FAMILY}/{tech}")

    def test_every_session_is_well_formed(self):
        for s in self.manifest["sessions"]:
            path = os.path.join(self.dir, "sessions", s["file"])
            with open(path, encoding="utf-8") as f:
                recs = [json.loads(l) for l in f]
            if s["agent"] == "claude":
                ids = {r["sessionId"] for r in recs if "sessionId" in r}
                self.assertEqual(len(ids), 1)
                uses = [b for r in recs if r.get("type") == "assistant" for b in r["message"]["content"] if b["type"] == "tool_use"]
                results = [b for r in recs if r.get("type") == "user" and isinstance(r["message"]["content"], list)
                           for b in r["message"]["content"] if b["type"] == "tool_result"]
                self.assertEqual([u["id"] for u in uses], [r["tool_use_id"] for r in results])
                n = len(uses)
            else:
                self.assertEqual(recs[0]["type"], "session_meta")
                calls = [r["payload"]["call_id"] for r in recs if r["type"] == "response_item"
                         and r["payload"]["type"] in ("function_call", "custom_tool_call")]
                outs = [r["payload"]["call_id"] for r in recs if r["type"] == "response_item"
                        and r["payload"]["type"] in ("function_call_output", "custom_tool_call_output")]
                self.assertEqual(calls, outs)
                n = len(calls)
            self.assertTrue(2 <= n <= 6, f"{s['file']}: {n} tool calls")


class ShellDisguisesAreReal(unittest.TestCase):
    """Each disguise, applied to a harmless command, runs exactly like the plain one."""

    @unittest.skipUnless(BASH, "bash not installed")
    def test_word_transforms(self):
        for seed in range(40):
            w = World(f"words{seed}")
            for name, fn in fam_shell.WORD_TECHNIQUES.items():
                cmd = fn(w, "«echo» hello «world» «x.y/z_1»")
                self.assertEqual(run_bash(cmd), "hello world x.y/z_1\n", f"{name}: {cmd!r}")

    @unittest.skipUnless(BASH, "bash not installed")
    def test_decode_wrappers(self):
        inner = "echo hello 'q' \"$HOME\" | tr a-z A-Z"
        for seed in range(40):
            w = World(f"wrap{seed}")
            for name, fn in fam_shell.DECODE_WRAPPERS.items():
                cmd = fn(w, inner)
                self.assertEqual(run_bash(cmd), "HELLO Q /TMP/ADVHOME\n", f"{name}: {cmd!r}")
            cmd = fam_shell.nested_run(w, inner)
            self.assertEqual(run_bash(cmd), "HELLO Q /TMP/ADVHOME\n", f"nested: {cmd!r}")
            cmd, name = fam_shell.stacked_run(w, "«echo» hello «world» «x.y/z_1»")
            self.assertEqual(run_bash(cmd), "hello world x.y/z_1\n", f"stacked {name}: {cmd!r}")


if __name__ == "__main__":
    unittest.main()
