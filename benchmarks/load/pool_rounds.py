#!/usr/bin/env python3
"""Pools the measured rounds of several interleaved runs (cache.sh PARTS=interleaved).

usage: pool_rounds.py OUT_DIR... 

Each run's round rK of il-TARGET is divided by il-bare's rK of the same run (h2load's req/s), and
the ratios of all runs are pooled per target: median, rounds at or above 0.95x, and count. One run
of six 5 s rounds moves by +-0.05 on this kind of shared VM; the median over several runs' rounds
is the figure a verdict is read from (BENCHMARKS.md, issue 6).
"""
import glob
import os
import re
import statistics
import sys

RATE = re.compile(r"finished in [\d.]+s, ([\d.]+) req/s")


def rate(path):
    with open(path) as f:
        m = RATE.search(f.read())
    if not m:
        sys.exit(f"no req/s in {path}")
    return float(m.group(1))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    pooled = {}
    for out in sys.argv[1:]:
        for bare in sorted(glob.glob(os.path.join(out, "il-bare.r*.h2load.txt"))):
            rnd = os.path.basename(bare).split(".")[1]
            base = rate(bare)
            for other in glob.glob(os.path.join(out, f"il-*.{rnd}.h2load.txt")):
                target = os.path.basename(other).split(".")[0][len("il-"):]
                if target != "bare":
                    pooled.setdefault(target, []).append(rate(other) / base)
    print("| target | median of same-round ratios | rounds >= 0.95x | rounds |")
    print("| --- | ---: | ---: | ---: |")
    for target in sorted(pooled):
        r = pooled[target]
        print(f"| {target} | {statistics.median(r):.3f} | {sum(x >= 0.95 for x in r)} | {len(r)} |")


if __name__ == "__main__":
    main()
