#!/usr/bin/env python3
"""Checks that `cargo build` and `cargo test` resolve the same features for every
crate they share, so CI compiles those crates once, not twice.

A dev-dependency that turns on a feature of a crate the binary also uses changes
that crate's build hash (and, through proc-macros, the hash of everything built
on it): `cargo test` after `cargo build` then rebuilds ~30 crates. The fix is to
enable the named feature in Cargo.toml's [dependencies] (or, for a proc-macro's
dependency, [build-dependencies]); see the comment there. Exit 1 names each
crate and the features to add."""
import re
import subprocess
import sys

LINE = re.compile(r"(\S+) (v\S+)(?: \(proc-macro\))? \[(.*?)\]")


def features(edges):
    run = subprocess.run(
        ["cargo", "tree", "--locked", "-e", edges, "-f", "{p} [{f}]", "--prefix", "none"],
        capture_output=True, text=True,
    )
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        sys.exit(f"error: cargo tree: {last}")
    out = run.stdout
    found = {}
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            found.setdefault((m[1], m[2]), set()).update(f for f in m[3].split(",") if f)
    return found


def main():
    build = features("normal,build")
    test = features("normal,build,dev")
    bad = [(k, sorted(test[k] - build[k])) for k in sorted(build) if k in test and test[k] != build[k]]
    for (name, version), extra in bad:
        print(f"error: feature unification: {name} {version}: cargo test adds {', '.join(extra)}")
    if bad:
        print("enable those features in Cargo.toml (see the comment above regex-automata there)")
        return 1
    print(f"feature unification: {len(build)} crates, same features for build and test")
    return 0


if __name__ == "__main__":
    sys.exit(main())
