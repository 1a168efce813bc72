#!/usr/bin/env python3
"""Prints a markdown table of a JMH run made by benchmarks/jmh.sh: usage: jmh_report.py OUT_DIR.

Time per operation (score ± 99.9% error) and gc.alloc.rate.norm (bytes allocated per operation),
plus the differences the benchmarks are designed for (the cost beyond a baseline)."""
import json
import os
import sys


def main():
    out = sys.argv[1]
    env = {}
    for line in open(os.path.join(out, "machine.env")):
        k, _, v = line.rstrip("\n").partition("=")
        env[k] = v
    runs = json.load(open(os.path.join(out, "results.json")))
    print(f"## JMH: {env.get('date')}, git {env.get('git')} ({env.get('git_dirty_files')} uncommitted files)\n")
    print(f"{env.get('nproc')} CPUs ({env.get('cpu')}); {env.get('java')}; pinned to CPUs {env.get('jmh_cpus')}; "
          f"arguments `{env.get('args') or '(whole suite)'}`; load average {env.get('loadavg_start')} at start, "
          f"{env.get('loadavg_end')} at end.\n")
    print("| benchmark | params | time/op | ± (99.9%) | alloc B/op |")
    print("| --- | --- | ---: | ---: | ---: |")
    by_name = {}
    for r in runs:
        name = r["benchmark"].rsplit(".", 2)
        short = ".".join(name[-2:])
        params = ", ".join(f"{k}={v}" for k, v in (r.get("params") or {}).items())
        pm = r["primaryMetric"]
        alloc = r.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {}).get("score")
        by_name[(short, params)] = (pm["score"], alloc)
        err = pm.get("scoreError")
        err = f"{err:,.0f}" if isinstance(err, (int, float)) else "n/a"  # "NaN" with one iteration
        alloc = alloc if isinstance(alloc, (int, float)) else None
        by_name[(short, params)] = (pm["score"], alloc)
        print(f"| {short} | {params} | {pm['score']:,.0f} {pm['scoreUnit']} | {err} | "
              f"{'n/a' if alloc is None else f'{alloc:,.0f}'} |")
    diffs = [
        ("mapping beyond parsing", "AttributeBagBenchmark.parseAndMap", "AttributeBagBenchmark.parseOnly"),
        ("wire mapping beyond the bare parse", "AttributeBagBenchmark.wireMap", "AttributeBagBenchmark.parseOnly"),
        ("one CEL match, true", "CelBenchmark.matchTrue", "CelBenchmark.noRules"),
        ("one CEL match, false by header", "CelBenchmark.matchFalseByHeader", "CelBenchmark.noRules"),
        ("one CEL match, false by path", "CelBenchmark.matchFalseByPath", "CelBenchmark.noRules"),
        ("Arbiter beyond gRPC per call (10 rules)", "CheckPipelineBenchmark.serverPath",
         "CheckPipelineBenchmark.bareServerPath"),
    ]
    rows = []
    for label, a, b in diffs:
        if (a, "") in by_name and (b, "") in by_name:
            (ta, aa), (tb, ab) = by_name[(a, "")], by_name[(b, "")]
            alloc = "n/a" if aa is None or ab is None else f"{aa - ab:,.0f}"
            rows.append(f"| {label} | `{a.split('.')[1]}` − `{b.split('.')[1]}` | {ta - tb:,.0f} ns | {alloc} |")
    if rows:
        print("\n| derived | how | time/op | alloc B/op |")
        print("| --- | --- | ---: | ---: |")
        print("\n".join(rows))


if __name__ == "__main__":
    main()
