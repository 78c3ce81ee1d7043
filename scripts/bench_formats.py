#!/usr/bin/env python3
"""Import speed per agent format, each beside Claude Code's in the same run.

Usage: bench_formats.py [--size-mb N] [--runs R] [--exe PATH] [--formats NAME ...]

For each format, replicates its real fixture files (tests/fixtures/formats/<dir>)
and demo samples (samples/<dir>) with fresh ids (scripts/gen_corpus.py's
rewrite) until the copies reach N MB, keeping each agent's layout: JSON Lines
files are concatenated copies (as gen_corpus does), whole-JSON documents stay
one document per file, and a copy of a folder-shaped session (a Cline task,
an OpenCode storage tree) is a folder of its own. Then, round after round,
times a bare `skilltrace import --no-index` of every format's corpus into a
fresh store (redaction and detection off, the figure issue 2 sets its goal
on) and prints, per format, the median wall and CPU time (user + system of
the import) with their min-max spread, MB/s, MB and spans per CPU-second, and
the ratios to Claude Code's rates measured in the same rounds. On a machine
shared with other work, CPU time is the steadier reading.
Formats alternate within each round, so machine drift hits them alike.
"""
import argparse
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests/fixtures/formats")
SAMPLES = os.path.join(ROOT, "samples")

# format name -> (fixture dirs, sample dirs, unit): unit "lines" concatenates
# JSONL copies; "files" keeps every file (or folder of files) one per copy.
FORMATS = {
    "claude-code": (["claude-code"], ["claude-code"], "lines"),
    "codex": (["codex"], ["codex"], "lines"),
    "gemini-cli": (["gemini-cli"], ["gemini-cli"], "files"),
    "copilot-cli": (["copilot-cli"], ["copilot-cli"], "lines"),
    "opencode": (["opencode"], ["opencode"], "files"),
    "cline": (["cline"], ["cline"], "files"),
}


# Session and task ids gen_corpus's patterns do not vary (OpenCode `ses_`,
# Cline's numeric task folders, the fixtures' hand-made names): varied per
# copy too, in contents and paths, so every copy is its own run.
SESSION_IDS = re.compile(
    rb"(ses_[A-Za-z0-9]+|s_stage0_[a-z]+|gemini_stage0_jsonl|copilot_stage0_small"
    rb"|sess-uuid-tool-results|session-2025-12-16T23-47-b4f17607|17557[0-9]{8})"
)


def load_gen_corpus():
    spec = importlib.util.spec_from_file_location("gen_corpus", os.path.join(ROOT, "scripts/gen_corpus.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

    def rewrite(data, k):
        data = mod.rewrite(data, k)
        return SESSION_IDS.sub(lambda m: m.group(1) + b"-%d" % k, data)

    return rewrite, mod.write_copies


def sources(name):
    fixtures, samples, unit = FORMATS[name]
    files = []
    for base, dirs in ((FIX, fixtures), (SAMPLES, samples)):
        for d in dirs:
            for root, _, names in os.walk(os.path.join(base, d)):
                for n in sorted(names):
                    if n.endswith((".json", ".jsonl")):
                        p = os.path.join(root, n)
                        files.append((os.path.relpath(p, os.path.join(base, d)), d, open(p, "rb").read()))
    return files, unit


def build(name, out, size_mb, rewrite, write_copies):
    files, unit = sources(name)
    target = int(size_mb * 1e6)
    written, k = 0, 0
    os.makedirs(out, exist_ok=True)
    if unit == "lines":
        # One source file per ~4 MB output file, copies concatenated (as gen_corpus).
        blobs = [(os.path.basename(rel), blob) for rel, _, blob in files]
        return write_copies(blobs, out, target, rewrite)
    else:
        # Every copy is the whole tree again under its own folder: task and
        # session folders keep their names' shape (the run id is the folder).
        while written < target:
            for rel, d, blob in files:
                data = rewrite(blob, k)
                rel_k = rewrite(rel.encode(), k).decode()
                path = os.path.join(out, "copy%06d" % k, d, rel_k)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as fh:
                    fh.write(data)
                written += len(data)
            k += 1
    return written


def timed(cmd, env):
    """Runs cmd; returns (wall seconds, CPU seconds user + system of the process)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        sys.stderr.write(err.decode(errors="replace"))
        raise SystemExit("bench: command failed: %s" % " ".join(cmd))
    return dt, usage.ru_utime + usage.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=float, default=50)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--exe", default=None, help="binary to time (default: build target/release/skilltrace)")
    ap.add_argument("--formats", nargs="*", default=list(FORMATS))
    a = ap.parse_args()
    if a.exe is None:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        a.exe = os.path.join(ROOT, "target/release/skilltrace")
    if "claude-code" not in a.formats:
        a.formats.insert(0, "claude-code")
    rewrite, write_copies = load_gen_corpus()
    work = tempfile.mkdtemp(prefix="skilltrace-formats-")
    try:
        cfg = os.path.join(work, "bare.toml")
        with open(cfg, "w") as f:
            f.write("[redaction]\nenabled = false\n[detection]\nenabled = false\n")
        env = dict(os.environ)
        env["SKILLTRACE_CONFIG"] = cfg
        corpora = {}
        for name in a.formats:
            path = os.path.join(work, name)
            size = build(name, path, a.size_mb, rewrite, write_copies)
            nfiles = sum(len(fs) for _, _, fs in os.walk(path))
            corpora[name] = (path, size, nfiles)
            subprocess.run(["sh", "-c", 'find "$1" -type f -exec cat {} + > /dev/null', "sh", path], check=True)
        walls = {n: [] for n in a.formats}
        cpus = {n: [] for n in a.formats}
        spans = {}
        for i in range(a.runs):
            for name in a.formats:
                path = corpora[name][0]
                db = os.path.join(work, "%s-%d.db" % (name, i))
                wall, cpu = timed([a.exe, "import", path, "--db", db, "--no-index"], env)
                walls[name].append(wall)
                cpus[name].append(cpu)
                if name not in spans:
                    runs = json.loads(subprocess.run([a.exe, "runs", "--db", db, "--format", "json"], stdout=subprocess.PIPE, env=env, check=True).stdout)
                    spans[name] = sum(r.get("span_count", 0) for r in runs)
                for suffix in ("", "-wal", "-shm", ".key", ".canaries"):
                    if os.path.exists(db + suffix):
                        os.remove(db + suffix)
        def rate(name, xs):
            return corpora[name][1] / 1e6 / statistics.median(xs)

        base_wall = rate("claude-code", walls["claude-code"])
        base_cpu = rate("claude-code", cpus["claude-code"])
        print("| format | corpus | files | spans | wall, median (min-max) | MB/s | CPU s, median (min-max) | MB per CPU-s | spans per CPU-s | vs claude-code (wall, CPU) |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name in a.formats:
            _, size, nfiles = corpora[name]
            w, c = walls[name], cpus[name]
            print("| %s | %.1f MB | %d | %d | %.3f s (%.3f-%.3f) | %.1f | %.3f s (%.3f-%.3f) | %.1f | %.0f | %.2fx, %.2fx |" % (
                name, size / 1e6, nfiles, spans[name], statistics.median(w), min(w), max(w), rate(name, w),
                statistics.median(c), min(c), max(c), rate(name, c), spans[name] / statistics.median(c),
                rate(name, w) / base_wall, rate(name, c) / base_cpu))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
