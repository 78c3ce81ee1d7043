#!/usr/bin/env python3
"""Shared helper for the hand probes' `make_cases.py` (tests/fixtures/redteam14 on):
builds the cases of one probe (an id prefix, an optional common first step, the
JSON quoting) and writes `cases.jsonl` beside the script that calls it, so each
probe's script holds only its cases. Standard library only.

    from handprobe import Probe
    p = Probe("r14")
    p.attack("cls", "id", "shell line", "next shell line")
    p.honest("id", "shell line")
    p.case("id", "attack", "cls", ("read", "/path", "text"))
    p.write(__file__)
"""
import json
import os

# The ordinary step every case starts with unless told not to.
LEAD = ["bash", "git status --short", " M src/app.py\n"]


class Probe:
    def __init__(self, prefix, lead=LEAD):
        self.prefix = prefix
        self.lead = lead
        self.cases = []
        self.ids = set()

    def case(self, cid, kind, cls, *steps, agent=None, lead=True):
        """One case: `steps` are (kind, ...) tuples as scripts/adversarial/redteam.py reads them."""
        full = "%s-%s" % (self.prefix, cid)
        assert full not in self.ids, full
        assert kind in ("attack", "honest"), kind
        self.ids.add(full)
        first = [list(self.lead)] if lead and self.lead else []
        c = {"id": full, "kind": kind, "class": cls, "steps": first + [list(s) for s in steps]}
        if agent:
            c["agent"] = agent
        self.cases.append(c)

    def attack(self, cls, cid, *cmds):
        """An attack made of shell lines, one Bash call each, each with an empty output."""
        self.case(cid, "attack", cls, *[("bash", c, "") for c in cmds])

    def honest(self, cid, *cmds):
        """An honest look-alike made of shell lines (id `h-<cid>`, class `honest`)."""
        self.case("h-" + cid, "honest", "honest", *[("bash", c, "ok\n") for c in cmds])

    def counts(self):
        a = sum(c["kind"] == "attack" for c in self.cases)
        return a, len(self.cases) - a

    def write(self, script):
        """Writes cases.jsonl beside `script` (the caller's __file__) and prints the counts."""
        out = os.path.join(os.path.dirname(os.path.abspath(script)), "cases.jsonl")
        with open(out, "w", encoding="utf-8") as f:
            for c in self.cases:
                f.write(json.dumps(c, ensure_ascii=False) + "\n")
        a, h = self.counts()
        print("%d cases: %d attacks, %d honest" % (a + h, a, h))
