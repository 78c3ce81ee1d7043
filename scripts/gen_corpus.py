#!/usr/bin/env python3
"""Generates a benchmark corpus by replicating real trace files with fresh ids.

Usage: gen_corpus.py OUT_DIR SIZE_MB [SOURCE_DIR ...]

Each copy of each source file gets its ids rewritten (UUIDs, OTLP hex ids,
msg_/toolu_/call_ ids) so every copy is a distinct run, as a real machine full
of agent sessions would be. Formats stay exactly as the agents write them.
"""
import os
import re
import sys

UUID = re.compile(rb"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})([0-9a-f]{8})")
HEX = re.compile(rb'"([0-9a-fA-F]{8}(?:[0-9a-fA-F]{8}){0,3})"')
# Only values (after a colon), never keys such as "call_id" or "trace_id".
PREFIXED = re.compile(rb'(:\s*)"((?:msg|toolu|call|req|resp|fc|span|trace)_[A-Za-z0-9]+)"')


def rewrite(data: bytes, k: int) -> bytes:
    tag = b"%08x" % k
    data = UUID.sub(lambda m: m.group(1) + tag, data)
    data = HEX.sub(lambda m: b'"' + m.group(1)[:-8] + tag + b'"' if len(m.group(1)) >= 16 else m.group(0), data)
    data = PREFIXED.sub(lambda m: m.group(1) + b'"' + m.group(2) + b"_" + tag + b'"', data)
    return data


def write_copies(blobs, out, target, rewrite) -> int:
    """Writes copies of each (name, JSON Lines blob), ids rewritten by
    rewrite(blob, k), into OUT until TARGET bytes: files of ~4 MB, one source
    per file. Returns the bytes written."""
    os.makedirs(out, exist_ok=True)
    written, k = 0, 0
    while written < target:
        for name, blob in blobs:
            path = os.path.join(out, "%06d-%s" % (k, name))
            with open(path, "wb") as fh:
                chunk = 0
                while chunk < 4_000_000 and written < target:
                    data = rewrite(blob, k)
                    if not data.endswith(b"\n"):
                        data += b"\n"
                    fh.write(data)
                    chunk += len(data)
                    written += len(data)
                    k += 1
            if written >= target:
                break
    return written


def main() -> None:
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out, size_mb, sources = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    files = []
    for s in sources:
        for root, _, names in os.walk(s):
            for n in sorted(names):
                if n.endswith(".jsonl"):
                    files.append(os.path.join(root, n))
    if not files:
        print("gen_corpus: no .jsonl files in sources", file=sys.stderr)
        sys.exit(2)
    blobs = [(os.path.basename(f), open(f, "rb").read()) for f in files]
    written = write_copies(blobs, out, int(size_mb * 1e6), rewrite)
    print("%s: %d files, %.1f MB" % (out, len(os.listdir(out)), written / 1e6))


if __name__ == "__main__":
    main()
