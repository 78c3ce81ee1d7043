#!/usr/bin/env python3
"""Cut a corpus directory into a slice: the first PERCENT of each file, ending at its last newline.

The per-MB callgrind method of BENCHMARKS.md ("The import workers' CPU per MB") runs the import on
two slices of `/work/scratch/shared/C200` (1.5% and 6%, ~3 MB and ~12 MB) and divides the
difference of the two instruction counts by the difference in MB, so fixed start-up costs cancel.

    python3 scripts/slice_corpus.py SRC_DIR DEST_DIR PERCENT

Files keep their names (formats are sniffed from names and contents). Prints the slice's bytes.
"""

import os
import sys


def main() -> int:
    if len(sys.argv) != 4:
        print("usage: slice_corpus.py SRC_DIR DEST_DIR PERCENT", file=sys.stderr)
        return 2
    src, dest, percent = sys.argv[1], sys.argv[2], float(sys.argv[3])
    if not 0 < percent <= 100:
        print("error: PERCENT: must be in (0, 100]", file=sys.stderr)
        return 2
    os.makedirs(dest, exist_ok=True)
    total = 0
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        head = data[: int(len(data) * percent / 100)]
        cut = head.rfind(b"\n")
        head = head[: cut + 1] if cut >= 0 else b""
        with open(os.path.join(dest, name), "wb") as f:
            f.write(head)
        total += len(head)
    print(total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
