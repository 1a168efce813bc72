#!/usr/bin/env python3
"""Tables and answer verification for benchmarks/load/quota.sh (issue 5's quota benchmark).

usage: quota_report.py OUT_DIR TARGET...        (TARGET: bare-rls, memquota, redisquota)
       quota_report.py --merge BASE N           (quota.sh: sums BASE.h2load.{0..N-1}.txt into BASE.h2load.txt)

Reuses report.py's readers (h2load summary, latency percentiles from --log-file, counters). A
phase is verified when h2load saw no failure, error, timeout or non-2xx, and the server answered
between h2load's "succeeded" and "started" requests: the bare server by its bare_ratelimit_total;
Arbiter by arbiter_ratelimit_descriptors_total{result="ok"} / 2 (two descriptors a request), with
exactly as many arbiter_quota_calls_total{result="ok"} (every descriptor took quota), and no
over_limit, unmatched, quota error, rejection, internal error or Redis error. Exits 1 otherwise.
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import read_env, read_h2load, percentiles, read_counters, delta, fmt, verdict, DISTURBED_CORES  # noqa: E402

DESCRIPTORS = 2


def merge(base, n):
    parts = [read_h2load(f"{base}.h2load.{k}.txt") for k in range(n)]
    keys = ["total", "started", "done", "succeeded", "failed", "errored", "timeout"]
    s = {k: sum(p.get(k, 0) for p in parts) for k in keys}
    ok2xx = sum(p.get("2xx", 0) for p in parts)
    non2xx = sum(p.get("non2xx", 0) for p in parts)
    secs = max((p.get("seconds", 0) for p in parts), default=0)
    rps = sum(p.get("rps", 0) for p in parts)
    done = sum(p.get("succeeded", 0) for p in parts)
    mean = sum(p.get("mean_ms", 0) * p.get("succeeded", 0) for p in parts) / done if done else float("nan")
    missing = [k for k, p in enumerate(parts) if "succeeded" not in p]
    with open(base + ".h2load.txt", "w") as f:
        f.write(f"(merged from {n} h2load processes{'; NO SUMMARY from ' + str(missing) if missing else ''})\n")
        f.write(f"finished in {secs:.2f}s, {rps:.2f} req/s, 0B/s\n")
        f.write("requests: " + ", ".join(f"{s[k]} {k}" for k in keys) + "\n")
        f.write(f"status codes: {ok2xx} 2xx, 0 3xx, {non2xx} 4xx, 0 5xx\n")
        f.write(f"time for request: - - {mean:.3f}ms -\n")
    if missing:
        sys.exit(f"quota_report.py: no h2load summary from processes {missing} of {base}")


ROUND_TRIP = "arbiter_redisquota_round_trip_seconds"


def round_trip(before, after):
    """Redis round trips in the phase, from the histogram's deltas: (count, mean ms, p50 and p99 as
    the upper bound of the bucket holding them, in ms), or None without one."""
    buckets = []
    for k, v in after.items():
        if k.startswith(ROUND_TRIP + "_bucket{"):
            le = k.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), v - before.get(k, 0)))
    n = delta(before, after, ROUND_TRIP + "_count")
    if not buckets or not n:
        return None
    buckets.sort()
    mean = delta(before, after, ROUND_TRIP + "_sum") / n * 1000

    def bound(q):
        return next((le * 1000 for le, c in buckets if c >= q * n), float("inf"))
    return n, mean, bound(0.5), bound(0.99)


def phase(out, target, name):
    base = os.path.join(out, f"{target}.{name}")
    if not os.path.exists(base + ".h2load.txt"):
        return None
    h = read_h2load(base + ".h2load.txt")
    env = read_env(base + ".phase.env")
    before, after = read_counters(base + ".counters.before"), read_counters(base + ".counters.after")
    p = {"h2load": h, "lat": percentiles(base + ".log.tsv"), "problems": []}
    tck = int(env.get("clk_tck", "100"))
    wall = float(env.get("wall_seconds", "nan"))
    cpu = int(env.get("cpu_ticks", "0")) / tck
    p["cores"] = cpu / wall
    p["redis_cores"] = int(env.get("redis_cpu_ticks", "0")) / tck / wall
    p["cores_per_1k"] = p["cores"] / (h["rps"] / 1000.0) if h.get("rps") else float("nan")
    busy = int(env.get("server_cpu_busy_ticks") or 0) / tck
    scope_all = env.get("server_cpu_scope") == "all"
    client = float(env.get("client_cpu_seconds") or 0) if scope_all else 0.0
    redis = p["redis_cores"] * wall if scope_all else 0.0
    p["others_cores"] = max(0.0, busy - cpu - client - redis) / wall
    p["steal"] = int(env.get("server_cpu_steal_ticks") or 0) / tck / wall
    p["client_cores"] = float(env.get("client_cpu_seconds") or "nan") / wall
    p["client_cpu_busy"] = int(env.get("client_cpu_busy_ticks") or 0) / tck / wall
    p["loadavg"] = env.get("loadavg", "?")
    if target == "bare-rls":
        answered = delta(before, after, "bare_ratelimit_total")
    else:
        ok = delta(before, after, 'arbiter_ratelimit_descriptors_total{result="ok"}')
        calls = delta(before, after, 'arbiter_quota_calls_total{result="ok"}')
        answered = ok / DESCRIPTORS
        if calls != ok:
            p["problems"].append(f"quota calls ok +{calls:.0f} != descriptors ok +{ok:.0f}")
        for metric in ['arbiter_ratelimit_descriptors_total{result="over_limit"}',
                       'arbiter_ratelimit_descriptors_total{result="unmatched"}',
                       'arbiter_quota_calls_total{result="over_limit"}', "arbiter_quota_errors_total",
                       "arbiter_ratelimit_rejected_total", "arbiter_ratelimit_internal_errors_total",
                       "arbiter_redisquota_errors_total"]:
            n = delta(before, after, metric)
            if n:
                p["problems"].append(f"{metric} +{n:.0f}")
    p["answered"] = answered
    p["round_trip"] = round_trip(before, after)
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


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--merge":
        merge(sys.argv[2], int(sys.argv[3]))
        return
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, targets = sys.argv[1], sys.argv[2:]
    m = read_env(os.path.join(out, "machine.env"))
    results = {t: {ph: phase(out, t, ph) for ph in ["max", "half"]} for t in targets}
    print(f"## Quota load: {m.get('date', '?')}, git {m.get('git', '?')} ({m.get('git_dirty_files', '?')} uncommitted files)\n")
    print(f"{m.get('nproc', '?')} CPUs ({m.get('cpu', '?')}); {m.get('java', '?')}; {m.get('h2load', '?')}; {m.get('redis', '?')}. "
          f"Server pinned to CPU {m.get('server_cpus')}, h2load to CPU {m.get('client_cpus')}, redis-server to CPU {m.get('redis_cpus')}; "
          f"server JVM `{m.get('server_java_opts')}` ({m.get('server_gc', '?')}). {m.get('procs')} h2load processes "
          f"(one user each) `-c 1 -m {m.get('streams')}`, warm-up {m.get('warmup')} s until steady, then "
          f"{m.get('duration')} s per measurement. Half-rate runs: "
          + (f"at most {m.get('paced_rps')} req/s per h2load process (more processes as needed), so requests are evenly spaced. "
             if m.get('paced_rps', '0') not in ('0', '', None) else "the same processes, bursty (PACED_RPS=0). ")
          + f"Load average at start: {m.get('loadavg_start')}. "
          f"Arbiter jar built {m.get('arbiter_jar', '?')}.\n")
    bare = results.get("bare-rls", {}).get("max")
    bare_rps = bare["h2load"].get("rps") if bare else None
    for ph, title in [("max", "Maximum rate"), ("half", "Half of each target's own maximum rate")]:
        print(f"### {title}\n")
        print("| target | offered req/s | req/s | × bare-rls | mean ms | p50 ms | p99 ms | p99.9 ms | max ms | server cores "
              "| cores per 1k req/s | redis cores | h2load cores | client CPU busy | others / steal on server CPU "
              "| Redis round trip: mean ms, p50 / p99 at most | answers verified | warm-up | load avg |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |")
        for t in targets:
            p = results[t][ph]
            if not p:
                continue
            h, lat = p["h2load"], p["lat"]
            ratio = h.get("rps", 0) / bare_rps if bare_rps and ph == "max" else float("nan")
            te = read_env(os.path.join(out, f"{t}.half.target.env"))
            offered = (f"{te.get('half_rps_total', '?')} ({te.get('half_procs', m.get('procs'))} × {te.get('half_rps_per_proc', '?')})"
                       if ph == "half" else "max")
            ok = "yes" if not p["problems"] else "NO: " + "; ".join(p["problems"])
            warm = read_env(os.path.join(out, f"{t}.start.env")).get("warmup_seconds", "?")
            r = p["round_trip"]
            rt = "" if not r else f"{r[1]:.2f}, {fmt(r[2])} / {fmt(r[3])} ({r[0]:,.0f} calls)"
            print(f"| {t} | {offered} | {fmt(h.get('rps'), 0)} | {fmt(ratio)} | {fmt(h.get('mean_ms'))} | {fmt(lat['p50'])} | "
                  f"{fmt(lat['p99'])} | {fmt(lat['p999'])} | {fmt(lat['max'])} | {fmt(p['cores'])} | {fmt(p['cores_per_1k'], 4)} | "
                  f"{fmt(p['redis_cores'])} | {fmt(p['client_cores'])} | {fmt(p['client_cpu_busy'])} | "
                  f"{fmt(p['others_cores'])} / {fmt(p['steal'])} | {rt} | {ok} ({p['answered']:.0f} answered) | {warm} s | {p['loadavg']} |")
        print()
    print("### Targets (issue 5)\n")
    print("| target | measured | verdict |")
    print("| --- | --- | --- |")
    mq = results.get("memquota", {}).get("max")
    if mq and bare_rps:
        r = mq["h2load"].get("rps", 0) / bare_rps
        per_cpu = bare["cores_per_1k"] / mq["cores_per_1k"] if mq["cores_per_1k"] else float("nan")
        print(f"| memquota ShouldRateLimit throughput ≥ 0.8× bare | {r:.2f}× ({mq['h2load'].get('rps', 0):,.0f} vs "
              f"{bare_rps:,.0f} req/s); per server CPU second: {per_cpu:.2f}× | {verdict(r >= 0.8)} |")
    rq = results.get("redisquota", {}).get("half")
    if rq:
        offered = read_env(os.path.join(out, "redisquota.half.target.env")).get("half_rps_total", "?")
        print(f"| redisquota p99 ≤ 2 ms at half saturation | {rq['lat']['p99']:.2f} ms at {rq['h2load'].get('rps', 0):,.0f} req/s "
              f"(offered {offered}; p50 {rq['lat']['p50']:.2f}, p99.9 {rq['lat']['p999']:.2f}) | {verdict(rq['lat']['p99'] <= 2.0)} |")
    print()
    disturbed = [f"{t} {ph} (others {p['others_cores']:.2f}, steal {p['steal']:.2f} cores)"
                 for t in targets for ph in ["max", "half"] for p in [results[t].get(ph)]
                 if p and (p["others_cores"] > DISTURBED_CORES or p["steal"] > DISTURBED_CORES)]
    if disturbed:
        print(f"DISTURBED: other processes or the hypervisor took more than {DISTURBED_CORES} of a core from"
              f" the server's CPU during: {', '.join(disturbed)}. Compare nothing from this run.\n")
    bad = [(t, ph, p["problems"]) for t in targets for ph, p in results[t].items() if p and p["problems"]]
    if bad:
        for t, ph, probs in bad:
            print(f"VERIFICATION FAILED: {t} {ph}: {'; '.join(probs)}")
        sys.exit(1)
    print("All phases verified: every request h2load counted was answered OK by the server"
          " (Arbiter: both descriptors OK, each through a quota call; no over-limit, unmatched, error or rejection).")


if __name__ == "__main__":
    main()
