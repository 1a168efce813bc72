#!/usr/bin/env python3
"""Turns the raw outputs of benchmarks/load/run.sh into markdown tables, checks the answer counts.

usage: report.py OUT_DIR TARGET...   (TARGET: bare, arbiter-N)

Per target and phase (warmup, max, half) run.sh leaves in OUT_DIR:
  TARGET.PHASE.h2load.txt      h2load's summary
  TARGET.PHASE.log.tsv         h2load --log-file: start us, HTTP status (-1 failed), duration us
  TARGET.PHASE.phase.env       server CPU ticks used during the run, h2load's CPU seconds, wall seconds
  TARGET.PHASE.counters.{before,after}  the server's own answer counters (Prometheus text)

A phase is verified when h2load saw no failure, error, timeout or non-2xx status, and the server
counted between h2load's "succeeded" and "started" answers (h2load leaves the requests in flight
at the end of a timed run unfinished; the server may still have answered them), all allowed for
Arbiter, with no failure, internal error or rejection. h2load counts HTTP 200 as success whatever
grpc-status says, hence the server-side counts. Exits 1 if any phase fails verification.
"""
import math
import os
import re
import sys


# More CPU than this (in cores) taken from the server's CPU by others or by the hypervisor during
# a measured run makes the run untrustworthy (comparisons between targets are then meaningless).
DISTURBED_CORES = 0.05


def read_env(path):
    out = {}
    if os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                out[k] = v
    return out


def read_h2load(path):
    text = open(path).read()
    r = {"text": text}
    m = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", text)
    if m:
        secs = float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
        r["seconds"], r["rps"] = secs, float(m.group(3))
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored, (\d+) timeout", text)
    if m:
        for k, v in zip(["total", "started", "done", "succeeded", "failed", "errored", "timeout"], m.groups()):
            r[k] = int(v)
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    if m:
        r["2xx"], r["non2xx"] = int(m.group(1)), sum(int(x) for x in m.groups()[1:])
    m = re.search(r"time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", text)
    if m:
        r["mean_ms"] = to_ms(m.group(3))
    return r


def to_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s)$", s)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]


def percentiles(path):
    """p50/p90/p99/p99.9/max in ms of the successful requests (nearest rank)."""
    d = []
    ends = []
    failed = 0
    if os.path.exists(path):
        for line in open(path):
            f = line.split("\t")
            if len(f) < 3:
                continue
            if f[1] != "200":
                failed += 1
                continue
            d.append(int(f[2]))
            ends.append(int(f[0]) + int(f[2]))
    d.sort()
    out = {"n": len(d), "failed_rows": failed}
    # Completions per second in the first and second half of the run: far apart means not steady.
    out["halves"] = (float("nan"), float("nan"))
    if len(ends) > 10:
        lo, hi = min(ends), max(ends)
        mid = (lo + hi) / 2
        first = sum(1 for e in ends if e < mid)
        secs = (hi - lo) / 2e6
        if secs > 0:
            out["halves"] = (first / secs, (len(ends) - first) / secs)
    for name, q in [("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p999", 0.999)]:
        out[name] = d[max(0, math.ceil(q * len(d)) - 1)] / 1000.0 if d else float("nan")
    out["max"] = d[-1] / 1000.0 if d else float("nan")
    return out


def read_counters(path):
    out = {}
    if os.path.exists(path):
        for line in open(path):
            m = re.match(r"^([a-z_]+(?:\{[^}]*\})?) ([0-9.eE+-]+)$", line.strip())
            if m:
                out[m.group(1)] = float(m.group(2))
    return out


def delta(before, after, prefix):
    keys = {k for k in after if k == prefix or k.startswith(prefix + "{")}
    return sum(after.get(k, 0) - before.get(k, 0) for k in keys)


def phase(out, target, name):
    base = os.path.join(out, f"{target}.{name}")
    if not os.path.exists(base + ".h2load.txt"):
        return None
    h = read_h2load(base + ".h2load.txt")
    env = read_env(base + ".phase.env")
    before, after = read_counters(base + ".counters.before"), read_counters(base + ".counters.after")
    p = {"h2load": h, "lat": percentiles(base + ".log.tsv"), "problems": []}
    cpu = int(env.get("cpu_ticks", "0")) / int(env.get("clk_tck", "100"))
    wall = float(env.get("wall_seconds", "nan"))
    p["cores"] = cpu / wall if wall else float("nan")
    p["cores_per_1k"] = p["cores"] / (h["rps"] / 1000.0) if h.get("rps") else float("nan")
    tck = int(env.get("clk_tck", "100"))
    busy = int(env.get("server_cpu_busy_ticks") or 0) / tck
    # Others' CPU time on the server's CPU; unpinned, that is every CPU, h2load's time included.
    client = float(env.get("client_cpu_seconds") or 0) if env.get("server_cpu_scope") == "all" else 0.0
    p["others_cores"] = max(0.0, busy - cpu - client) / wall if wall and "server_cpu_busy_ticks" in env else float("nan")
    p["steal"] = int(env.get("server_cpu_steal_ticks") or 0) / tck / wall if wall and "server_cpu_steal_ticks" in env else float("nan")
    p["client_cores"] = float(env.get("client_cpu_seconds") or "nan") / wall if wall else float("nan")
    p["loadavg"] = env.get("loadavg", "?")
    if target == "bare":
        answered = delta(before, after, "bare_checks_total")
    else:
        answered = delta(before, after, 'arbiter_checks_total{result="allow"}')
        for metric in ['arbiter_checks_total{result="deny"}', "arbiter_check_failures_total",
                       "arbiter_extauthz_internal_errors_total", "arbiter_check_rejected_total"]:
            n = delta(before, after, metric)
            if n:
                p["problems"].append(f"{metric} +{n:.0f}")
        p["cancelled"] = delta(before, after, "arbiter_extauthz_cancelled_total")
    p["answered"] = answered
    if "succeeded" not in h:
        p["problems"].append("no h2load summary")
    else:
        for k in ["failed", "errored", "timeout", "non2xx"]:
            if h.get(k):
                p["problems"].append(f"h2load {k} {h[k]}")
        if not (h["succeeded"] <= answered <= h["started"]):
            p["problems"].append(
                f"server answered {answered:.0f}, h2load succeeded {h['succeeded']} of {h['started']} started")
    return p


def fmt(x, digits=2):
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{digits}f}"


def verdict(ok):
    return "met" if ok else "**missed**"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, targets = sys.argv[1], sys.argv[2:]
    m = read_env(os.path.join(out, "machine.env"))
    results = {}
    for t in targets:
        warm = sorted((f[len(t) + 1:-len(".h2load.txt")] for f in os.listdir(out)
                       if f.startswith(t + ".warmup") and f.endswith(".h2load.txt")),
                      key=lambda n: int(n[len("warmup"):] or 0))
        results[t] = {ph: phase(out, t, ph) for ph in warm + ["max", "half"]}
    print(f"## Load: {m.get('date', '?')}, git {m.get('git', '?')} ({m.get('git_dirty_files', '?')} uncommitted files)\n")
    print(f"{m.get('nproc', '?')} CPUs ({m.get('cpu', '?')}); {m.get('java', '?')}; {m.get('h2load', '?')}. "
          f"Server pinned to CPU {m.get('server_cpus')}, h2load to CPU {m.get('client_cpus')}; "
          f"server JVM `{m.get('server_java_opts')}` ({m.get('server_gc', '?')}). h2load `-c {m.get('clients')} -m {m.get('streams')}`, "
          f"warm-up {m.get('warmup')} s until steady, then {m.get('duration')} s per measurement. "
          f"Load average at start: {m.get('loadavg_start')}. Arbiter jar built {m.get('arbiter_jar', '?')}.\n")

    bare = results.get("bare", {}).get("max")
    bare_rps = bare["h2load"].get("rps") if bare else None
    print("### Maximum rate\n")
    print("| target | req/s | × bare | req/s 1st → 2nd half | mean ms | p50 ms | p99 ms | p99.9 ms | server cores | cores per 1k checks/s | × bare per CPU | h2load cores | others / steal on server CPU | answers verified | warm-up | load avg |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |")
    for t in targets:
        p = results[t]["max"]
        if not p:
            continue
        h, lat = p["h2load"], p["lat"]
        ratio = h.get("rps", 0) / bare_rps if bare_rps else float("nan")
        ok = "yes" if not p["problems"] else "NO: " + "; ".join(p["problems"])
        warm = read_env(os.path.join(out, f"{t}.start.env")).get("warmup_seconds", "?")
        h1, h2 = lat["halves"]
        per_cpu = bare["cores_per_1k"] / p["cores_per_1k"] if bare and p["cores_per_1k"] else float("nan")
        print(f"| {t} | {fmt(h.get('rps'), 0)} | {fmt(ratio)} | {fmt(h1, 0)} → {fmt(h2, 0)} | {fmt(h.get('mean_ms'))} | "
              f"{fmt(lat['p50'])} | {fmt(lat['p99'])} | {fmt(lat['p999'])} | {fmt(p['cores'])} | "
              f"{fmt(p['cores_per_1k'], 4)} | {fmt(per_cpu)} | {fmt(p['client_cores'])} | "
              f"{fmt(p['others_cores'])} / {fmt(p['steal'])} | "
              f"{ok} ({p['answered']:.0f} answered) | {warm} s | {p['loadavg']} |")

    bare_half = results.get("bare", {}).get("half")
    print("\n### Half of the bare server's maximum rate\n")
    print("| target | offered req/s | achieved req/s | p50 ms | p99 ms | p99.9 ms | p99 − bare p99 ms | server cores | cores per 1k checks/s | others / steal on server CPU | answers verified |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for t in targets:
        p = results[t]["half"]
        if not p:
            continue
        h, lat = p["h2load"], p["lat"]
        offered = read_env(os.path.join(out, f"{t}.half.target.env")).get("half_rps_total", "?")
        dp99 = lat["p99"] - bare_half["lat"]["p99"] if bare_half else float("nan")
        ok = "yes" if not p["problems"] else "NO: " + "; ".join(p["problems"])
        print(f"| {t} | {offered} | {fmt(h.get('rps'), 0)} | {fmt(lat['p50'])} | {fmt(lat['p99'])} | "
              f"{fmt(lat['p999'])} | {fmt(dp99)} | {fmt(p['cores'])} | {fmt(p['cores_per_1k'], 4)} | {fmt(p['others_cores'])} / {fmt(p['steal'])} | "
              f"{ok} ({p['answered']:.0f} answered) |")

    print("\n### Targets (issue 3)\n")
    print("| target | measured | verdict |")
    print("| --- | --- | --- |")
    for t, need in [("arbiter-10", 0.85), ("arbiter-1000", 0.6)]:
        p = results.get(t, {}).get("max")
        if p and bare_rps:
            r = p["h2load"].get("rps", 0) / bare_rps
            per_cpu = bare["cores_per_1k"] / p["cores_per_1k"] if p["cores_per_1k"] else float("nan")
            print(f"| {t} throughput ≥ {need}× bare | {r:.2f}× ({p['h2load'].get('rps', 0):,.0f} vs {bare_rps:,.0f} req/s);"
                  f" per server CPU second: {per_cpu:.2f}× | {verdict(r >= need)} |")
    for t in targets:
        if t == "bare":
            continue
        p = results[t]["half"] or results[t]["max"]
        if p:
            which = "at half rate" if results[t]["half"] else "at max rate"
            c = p["cores_per_1k"]
            also = ""
            if results[t]["half"] and results[t]["max"]:
                also = f"; {results[t]['max']['cores_per_1k']:.4f} at max rate"
            ref = results.get("bare", {}).get("half" if results[t]["half"] else "max")
            if ref:
                also += f"; bare {ref['cores_per_1k']:.4f}"
            print(f"| {t} CPU ≤ 0.02 cores per 1k checks/s | {c:.4f} {which}{also} | {verdict(c <= 0.02)} |")
    for t in targets:
        if t == "bare" or not bare_half or not results[t]["half"]:
            continue
        d = results[t]["half"]["lat"]["p99"] - bare_half["lat"]["p99"]
        print(f"| {t} p99 at half rate ≤ bare + 0.5 ms | {results[t]['half']['lat']['p99']:.2f} ms vs "
              f"{bare_half['lat']['p99']:.2f} ms (+{d:.2f}) | {verdict(d <= 0.5)} |")

    print()
    disturbed = [f"{t} {ph} (others {p['others_cores']:.2f}, steal {p['steal']:.2f} cores)"
                 for t in targets for ph in ["max", "half"]
                 for p in [results[t].get(ph)]
                 if p and (p["others_cores"] > DISTURBED_CORES or p["steal"] > DISTURBED_CORES)]
    if disturbed:
        print(f"DISTURBED: other processes or the hypervisor took more than {DISTURBED_CORES} of a core from"
              f" the server's CPU during: {', '.join(disturbed)}. Compare nothing from this run; rerun"
              " on a quiet machine.\n")
    bad = [(t, ph, p["problems"]) for t in targets for ph, p in results[t].items() if p and p["problems"]]
    if bad:
        for t, ph, probs in bad:
            print(f"VERIFICATION FAILED: {t} {ph}: {'; '.join(probs)}")
        sys.exit(1)
    print("All phases verified: every request h2load counted was answered by the server"
          " (Arbiter: allowed, no failure, error or rejection).")


if __name__ == "__main__":
    main()
