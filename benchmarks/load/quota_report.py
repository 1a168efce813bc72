#!/usr/bin/env python3
"""Tables and answer verification for benchmarks/load/quota.sh (issue 5's quota benchmark).

usage: quota_report.py OUT_DIR [--sequential TARGET...] [--interleaved il-TARGET...] [--latency lat-TARGET...]
       quota_report.py OUT_DIR TARGET...        (the same as --sequential TARGET...; older runs)
       quota_report.py --merge BASE N           (quota.sh: sums BASE.h2load.{0..N-1}.txt into BASE.h2load.txt)

TARGET: bare-rls, memquota, redisquota. Part sequential: per target a max-rate phase (h2load) and a
half-rate phase (RlsLoadDriver's BASE.driver.env; runs before the driver: paced h2load processes,
still read). Part interleaved: il-TARGET phases r1..rK (h2load, max rate, targets in rotation);
each round's req/s is divided by il-bare-rls's of the same round (median and range reported). Part
latency: lat-TARGET driver phases r1..rK at one rate, targets in rotation, each round after a
machine phase (jitter.c on the server's and the driver's CPUs, OUT/machine.rK.cpuN.tsv); pooled
over the rounds, each target's share of calls over 2 ms (the driver's slow_calls over its measured
answers) beside the machine's share of wake-ups more than 2 ms late.

Reuses report.py's readers (h2load summary, latency percentiles from --log-file, counters). An
h2load phase is verified when h2load saw no failure, error, timeout or non-2xx, and the server
answered between h2load's "succeeded" and "started" requests. A driver phase is verified when the
driver had no gRPC error, unanswered, skipped, over-limit or unknown answer, and the server answered
exactly as many calls as the driver got answers over its whole run (warm-up included: the counters
are read around the whole run). The server's count: the bare server's bare_ratelimit_total;
Arbiter's arbiter_ratelimit_descriptors_total{result="ok"} / 2 (two descriptors a request), with
exactly as many arbiter_quota_calls_total{result="ok"} (every descriptor took quota), and no
over_limit, unmatched, quota error, rejection, internal error or Redis error. Exits 1 otherwise.
"""
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import read_env, read_h2load, percentiles, read_counters, delta, fmt, verdict, DISTURBED_CORES  # noqa: E402

DESCRIPTORS = 2
# A driver phase whose send lag p99 exceeds both of these measured the client too.
LATE_MS = 0.5
LATE_SHARE = 0.25


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


def server_answered(kind, before, after, problems):
    """Calls the server answered between two counter reads; Arbiter's own error counters into problems."""
    if kind == "bare-rls":
        return delta(before, after, "bare_ratelimit_total")
    ok = delta(before, after, 'arbiter_ratelimit_descriptors_total{result="ok"}')
    calls = delta(before, after, 'arbiter_quota_calls_total{result="ok"}')
    if calls != ok:
        problems.append(f"quota calls ok +{calls:.0f} != descriptors ok +{ok:.0f}")
    for metric in ['arbiter_ratelimit_descriptors_total{result="over_limit"}',
                   'arbiter_ratelimit_descriptors_total{result="unmatched"}',
                   'arbiter_quota_calls_total{result="over_limit"}', "arbiter_quota_errors_total",
                   "arbiter_ratelimit_rejected_total", "arbiter_ratelimit_internal_errors_total",
                   "arbiter_redisquota_errors_total"]:
        n = delta(before, after, metric)
        if n:
            problems.append(f"{metric} +{n:.0f}")
    return ok / DESCRIPTORS


def phase(out, target, name):
    """One phase's figures, whichever client ran it: rps, lat (ms), mean_ms, CPU, problems."""
    base = os.path.join(out, f"{target}.{name}")
    driven = os.path.exists(base + ".driver.env")
    if not driven and not os.path.exists(base + ".h2load.txt"):
        return None
    env = read_env(base + ".phase.env")
    before, after = read_counters(base + ".counters.before"), read_counters(base + ".counters.after")
    p = {"problems": [], "driven": driven}
    if driven:
        d = read_env(base + ".driver.env")
        p["driver"] = d

        def num(k):
            try:
                return float(d.get(k, "nan"))
            except ValueError:
                return float("nan")
        p["rps"] = num("answered_per_s")
        p["offered"] = num("rate_offered_per_s")
        p["mean_ms"] = num("latency_mean_ms")
        p["lat"] = {q: num(f"latency_{q}_ms") for q in ["p50", "p90", "p99", "p999", "max"]}
        p["lag_p99"] = num("send_lag_p99_ms")
        p["max_in_flight"] = d.get("max_in_flight", "?")
    else:
        h = read_h2load(base + ".h2load.txt")
        p["h2load"] = h
        p["rps"] = h.get("rps")
        p["mean_ms"] = h.get("mean_ms")
        p["lat"] = percentiles(base + ".log.tsv")
        p["lag_p99"] = float("nan")
        p["max_in_flight"] = ""
        te = read_env(os.path.join(out, f"{target}.{name}.target.env"))
        p["offered"] = float(te["half_rps_total"]) if "half_rps_total" in te else float("nan")
    tck = int(env.get("clk_tck", "100"))
    wall = float(env.get("wall_seconds", "nan"))
    cpu = int(env.get("cpu_ticks", "0")) / tck
    p["cores"] = cpu / wall
    p["redis_cores"] = int(env.get("redis_cpu_ticks", "0")) / tck / wall
    p["cores_per_1k"] = p["cores"] / (p["rps"] / 1000.0) if p.get("rps") else float("nan")
    busy = int(env.get("server_cpu_busy_ticks") or 0) / tck
    scope_all = env.get("server_cpu_scope") == "all"
    client = float(env.get("client_cpu_seconds") or 0) if scope_all else 0.0
    redis = p["redis_cores"] * wall if scope_all else 0.0
    p["others_cores"] = max(0.0, busy - cpu - client - redis) / wall
    p["steal"] = int(env.get("server_cpu_steal_ticks") or 0) / tck / wall
    p["client_cores"] = float(env.get("client_cpu_seconds") or "nan") / wall
    p["client_cpu_busy"] = int(env.get("client_cpu_busy_ticks") or 0) / tck / wall
    p["loadavg"] = env.get("loadavg", "?")
    answered = server_answered(kind_of(target), before, after, p["problems"])
    p["answered"] = answered
    window = (read_counters(base + ".window.before"), read_counters(base + ".window.after"))
    p["round_trip"] = round_trip(*window) if window[1] else round_trip(before, after)
    if driven:
        d = p["driver"]
        if "total_answered" not in d:
            p["problems"].append("incomplete driver summary")
        else:
            for k in ["total_errors", "total_unanswered", "total_skipped", "total_unknown_code", "total_over_limit"]:
                if d.get(k, "0") != "0":
                    p["problems"].append(f"driver {k[6:]} {d[k]}" + (f" ({d.get('first_error')})" if d.get("first_error") else ""))
            if answered != float(d["total_answered"]):
                p["problems"].append(f"server answered {answered:.0f}, the driver got {d['total_answered']} answers")
    else:
        h = p["h2load"]
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


def kind_of(target):
    """The server kind of a target name: without its il- or lat- prefix."""
    return target.removeprefix("il-").removeprefix("lat-")


def rounds_of(out, prefix):
    """The measured rounds (r1, r2, ...) of the interleaved part found in OUT."""
    return sorted({f.split(".")[1] for f in os.listdir(out) if re.match(rf"^{re.escape(prefix)}[^.]+\.r\d+\.phase\.env$", f)},
                  key=lambda r: int(r[1:]))


def spread(xs, digits=2, suffix=""):
    return f"{statistics.median(xs):,.{digits}f}{suffix} ({min(xs):,.{digits}f} – {max(xs):,.{digits}f})" if xs else "n/a"


def rt_cell(p):
    r = p["round_trip"]
    return "" if not r else f"{r[1]:.2f}, {fmt(r[2])} / {fmt(r[3])} ({r[0]:,.0f} calls)"


def ok_cell(p):
    return ("yes" if not p["problems"] else "NO: " + "; ".join(p["problems"])) + f" ({p['answered']:.0f} answered)"


def sequential(out, m, targets):
    results = {t: {ph: phase(out, t, ph) for ph in ["max", "half"]} for t in targets}
    bare = results.get("bare-rls", {}).get("max")
    bare_rps = bare["rps"] if bare else None
    print("### Maximum rate (h2load)\n")
    print("| target | req/s | × bare-rls | mean ms | p50 ms | p99 ms | p99.9 ms | max ms | server cores "
          "| cores per 1k req/s | redis cores | h2load cores | client CPU busy | others / steal on server CPU "
          "| Redis round trip: mean ms, p50 / p99 at most | answers verified | warm-up | load avg |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- |")
    for t in targets:
        p = results[t]["max"]
        if not p:
            continue
        lat = p["lat"]
        ratio = p["rps"] / bare_rps if bare_rps else float("nan")
        warm = read_env(os.path.join(out, f"{t}.start.env")).get("warmup_seconds", "?")
        print(f"| {t} | {fmt(p['rps'], 0)} | {fmt(ratio)} | {fmt(p['mean_ms'])} | {fmt(lat['p50'])} | "
              f"{fmt(lat['p99'])} | {fmt(lat['p999'])} | {fmt(lat['max'])} | {fmt(p['cores'])} | {fmt(p['cores_per_1k'], 4)} | "
              f"{fmt(p['redis_cores'])} | {fmt(p['client_cores'])} | {fmt(p['client_cpu_busy'])} | "
              f"{fmt(p['others_cores'])} / {fmt(p['steal'])} | {rt_cell(p)} | {ok_cell(p)} | {warm} s | {p['loadavg']} |")
    print()
    print("### Half of each target's own maximum rate (RlsLoadDriver: open loop, evenly spaced, latency from the scheduled send)\n")
    print("| target | offered req/s | answered req/s | mean ms | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms "
          "| client send lag p99 ms | max in flight | server cores | cores per 1k req/s | redis cores | client cores "
          "| client CPU busy | others / steal on server CPU | Redis round trip: mean ms, p50 / p99 at most | answers verified | load avg |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |")
    for t in targets:
        p = results[t]["half"]
        if not p:
            continue
        lat = p["lat"]
        client = "" if p["driven"] else " (h2load)"
        print(f"| {t}{client} | {fmt(p['offered'], 0)} | {fmt(p['rps'], 0)} | {fmt(p['mean_ms'])} | {fmt(lat['p50'])} | "
              f"{fmt(lat['p90'])} | {fmt(lat['p99'])} | {fmt(lat['p999'])} | {fmt(lat['max'])} | {fmt(p['lag_p99'])} | "
              f"{p['max_in_flight']} | {fmt(p['cores'])} | {fmt(p['cores_per_1k'], 4)} | {fmt(p['redis_cores'])} | "
              f"{fmt(p['client_cores'])} | {fmt(p['client_cpu_busy'])} | {fmt(p['others_cores'])} / {fmt(p['steal'])} | "
              f"{rt_cell(p)} | {ok_cell(p)} | {p['loadavg']} |")
    print()
    late = [f"{t} (send lag p99 {results[t]['half']['lag_p99']:.2f} ms of p99 {results[t]['half']['lat']['p99']:.2f} ms)"
            for t in targets if results[t]["half"] and results[t]["half"]["driven"]
            and results[t]["half"]["lag_p99"] > max(LATE_MS, LATE_SHARE * results[t]["half"]["lat"]["p99"])]
    if late:
        print(f"CLIENT BEHIND: the driver sent late during: {', '.join(late)}. Those latencies are the client's as much as"
              " the server's (CPU 1 full, or the driver starved); compare them with care, or rerun at a lower HALF_RPS.\n")
    return results


def interleaved(out, m, targets):
    rounds = rounds_of(out, "il-")
    res = {t: {r: phase(out, t, r) for r in rounds} for t in targets}
    print(f"### Maximum rate, interleaved ({len(rounds)} measured rounds of {m.get('rounds', '?').split()[-1].split('=')[-1]} s, "
          f"targets in rotation, all servers up; h2load)\n")
    print("| target | req/s median (min – max) | × bare-rls, same round: median (min – max) | × bare-rls per server CPU second: median (min – max) "
          "| p99 ms median | server cores median | others on server CPU: max | answers verified | load avg (last round) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    summary = {}
    for t in targets:
        ps = [res[t][r] for r in rounds if res[t][r]]
        if not ps:
            continue
        ratios, cpu_ratios = [], []
        for r in rounds:
            p, b = res[t][r], res.get("il-bare-rls", {}).get(r)
            if p and b and b["rps"]:
                ratios.append(p["rps"] / b["rps"])
                if p["cores_per_1k"]:
                    cpu_ratios.append(b["cores_per_1k"] / p["cores_per_1k"])
        summary[t] = (ratios, cpu_ratios, len(ps))
        probs = [f"{r}: {'; '.join(res[t][r]['problems'])}" for r in rounds if res[t][r] and res[t][r]["problems"]]
        ok = "yes" if not probs else "NO: " + " / ".join(probs)
        print(f"| {t} | {spread([p['rps'] for p in ps], 0)} | {spread(ratios)} | {spread(cpu_ratios)} | "
              f"{statistics.median(p['lat']['p99'] for p in ps):.2f} | {statistics.median(p['cores'] for p in ps):.2f} | "
              f"{max(p['others_cores'] for p in ps):.2f} | {ok} ({sum(p['answered'] for p in ps):.0f} answered) | {ps[-1]['loadavg']} |")
    print()
    return res, summary


def read_jitter(path):
    """jitter.c's summary lines of one file: {p50, p99, p99.9, max (µs), over_1ms, over_2ms (%), wakeups}."""
    j = {}
    if not os.path.exists(path):
        return None
    with open(path) as f:
        for line in f:
            if not line.startswith("#"):
                continue
            for k, v in re.findall(r"([\w.]+)=([\d.]+)", line):
                j[k] = float(v)
            for k, pct in re.findall(r"(over_\dms)=\d+ \(([\d.]+)%\)", line):
                j[k] = float(pct)
    return j


def latency(out, m, targets):
    rounds = rounds_of(out, "lat-")
    res = {t: {r: phase(out, t, r) for r in rounds} for t in targets}
    cpus = sorted({f.split(".")[2] for f in os.listdir(out) if re.match(r"^machine\.r\d+\.cpu\d+\.tsv$", f)})
    print(f"### Latency at {m.get('lat_rps', '?')} req/s, interleaved ({len(rounds)} rounds, targets in rotation, "
          f"all servers up; RlsLoadDriver, latency from the scheduled send)\n")
    print("| round | target | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | calls over 2 ms | client send lag p99 ms "
          "| server cores | others on server CPU | Redis round trip: mean ms, p99 at most | answers verified | load avg |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    pooled = {}
    for r in rounds:
        for t in targets:
            p = res[t][r]
            if not p:
                continue
            d = p["driver"]
            slow, answered = int(d.get("slow_calls", "-1")), int(d.get("answered", "0"))
            if slow >= 0 and answered:
                a = pooled.setdefault(t, [0, 0, []])
                a[0] += slow
                a[1] += answered
                a[2].append(p["lat"]["p99"])
            share = f"{100.0 * slow / answered:.2f}%" if slow >= 0 and answered else "n/a"
            rt = p["round_trip"]
            lat = p["lat"]
            print(f"| {r} | {t} | {fmt(lat['p50'])} | {fmt(lat['p90'])} | {fmt(lat['p99'])} | {fmt(lat['p999'])} | "
                  f"{fmt(lat['max'])} | {share} | {fmt(p['lag_p99'])} | {fmt(p['cores'])} | {fmt(p['others_cores'])} | "
                  f"{fmt(rt[1]) + ', ' + fmt(rt[3]) if rt else ''} | {ok_cell(p)} | {p['loadavg']} |")
    print()
    machine = {}
    if cpus:
        print("Machine phase of each round (jitter.c: one thread per CPU sleeps and wakes every 500 µs, no server running"
              " a call; lateness of its wake-ups):\n")
        print("| round | CPU | wake-ups | late p50 µs | p99 µs | p99.9 µs | max µs | late over 1 ms | late over 2 ms |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in rounds:
            for c in cpus:
                j = read_jitter(os.path.join(out, f"machine.{r}.{c}.tsv"))
                if not j:
                    continue
                a = machine.setdefault(c, [0.0, 0.0])
                a[0] += j.get("over_2ms", 0) * j.get("wakeups", 0) / 100
                a[1] += j.get("wakeups", 0)
                print(f"| {r} | {c} | {j.get('wakeups', 0):,.0f} | {j.get('p50', 0):.0f} | {j.get('p99', 0):.0f} | "
                      f"{j.get('p99.9', 0):.0f} | {j.get('max', 0):.0f} | {j.get('over_1ms', 0):.2f}% | {j.get('over_2ms', 0):.2f}% |")
        print()
    print("Pooled over the rounds:\n")
    print("| | calls (wake-ups) | over 2 ms | share over 2 ms | p99 ms of the rounds: median (min – max) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for t, (slow, answered, p99s) in pooled.items():
        print(f"| {t} | {answered:,} | {slow:,} | **{100.0 * slow / answered:.2f}%** | {spread(p99s)} |")
    for c, (late, wakes) in machine.items():
        print(f"| machine, {c} | ({wakes:,.0f}) | {late:,.0f} | {100.0 * late / wakes:.2f}% | |")
    print()
    return res, pooled, machine


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--merge":
        merge(sys.argv[2], int(sys.argv[3]))
        return
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = sys.argv[1]
    groups, current = {}, "sequential"
    for a in sys.argv[2:]:
        if a in ("--sequential", "--interleaved", "--latency"):
            current = a[2:]
            groups.setdefault(current, [])
        else:
            groups.setdefault(current, []).append(a)
    m = read_env(os.path.join(out, "machine.env"))
    print(f"## Quota load: {m.get('date', '?')}, git {m.get('git', '?')} ({m.get('git_dirty_files', '?')} uncommitted files)\n")
    print(f"{m.get('nproc', '?')} CPUs ({m.get('cpu', '?')}); {m.get('java', '?')}; {m.get('h2load', '?')}; {m.get('redis', '?')}. "
          f"Server pinned to CPU {m.get('server_cpus')}, h2load to CPU {m.get('client_cpus')}, redis-server to CPU {m.get('redis_cpus')} "
          f"(nice {m.get('redis_nice', '0')}); server JVM `{m.get('server_java_opts')}` ({m.get('server_gc', '?')}); "
          f"Arbiter flags `{m.get('arbiter_flags', '')}`, bare-rls flags `{m.get('bare_flags', '')}`. "
          f"Max rate: {m.get('procs')} h2load processes (one user each) `-c 1 -m {m.get('streams')}`, warm-up {m.get('warmup')} s "
          f"until steady, then {m.get('duration')} s. "
          + (f"Half rate: RlsLoadDriver on CPU {m.get('driver_cpus')} (nice {m.get('driver_nice')}, `{m.get('driver_java_opts')}`), "
             f"{m.get('driver_connections')} connections, {m.get('procs')} users, {m.get('half_warmup')} s unmeasured then "
             f"{m.get('duration')} s. " if "driver_nice" in m else
             f"Half rate: paced h2load processes (PACED_RPS {m.get('paced_rps', '?')}). ")
          + (f"Interleaved: {m.get('il_targets')}, {m.get('rounds')}. " if "interleaved" in groups else "")
          + f"Load average at start: {m.get('loadavg_start')}, at the end: {m.get('loadavg_end', '?')}. "
          f"Arbiter jar built {m.get('arbiter_jar', '?')}.\n")
    seq = sequential(out, m, groups["sequential"]) if groups.get("sequential") else {}
    il, il_summary = interleaved(out, m, groups["interleaved"]) if groups.get("interleaved") else ({}, {})
    lat, lat_pooled, lat_machine = latency(out, m, groups["latency"]) if groups.get("latency") else ({}, {}, {})

    print("### Targets (issue 5)\n")
    print("| target | measured | verdict |")
    print("| --- | --- | --- |")
    if "il-memquota" in il_summary:
        ratios, cpu_ratios, n = il_summary["il-memquota"]
        if ratios:
            print(f"| memquota ShouldRateLimit throughput ≥ 0.8× bare (interleaved, median of {len(ratios)} same-round ratios) | "
                  f"{spread(ratios, suffix='×')}; per server CPU second {spread(cpu_ratios, suffix='×')} | "
                  f"{verdict(statistics.median(ratios) >= 0.8)} |")
    mq, bare = seq.get("memquota", {}).get("max"), seq.get("bare-rls", {}).get("max")
    if mq and bare and bare["rps"]:
        r = mq["rps"] / bare["rps"]
        per_cpu = bare["cores_per_1k"] / mq["cores_per_1k"] if mq["cores_per_1k"] else float("nan")
        judged = "il-memquota" not in il_summary
        print(f"| memquota ShouldRateLimit throughput ≥ 0.8× bare ({'sequential, one run' if judged else 'sequential run, for reference'}) | "
              f"{r:.2f}× ({mq['rps']:,.0f} vs {bare['rps']:,.0f} req/s); per server CPU second: {per_cpu:.2f}× | "
              f"{verdict(r >= 0.8) if judged else 'not judged (the interleaved rounds are)'} |")
    rq = seq.get("redisquota", {}).get("half")
    if rq:
        lag = f"; client send lag p99 {rq['lag_p99']:.2f} ms" if rq["driven"] else ""
        print(f"| redisquota p99 ≤ 2 ms at half saturation | {rq['lat']['p99']:.2f} ms at {rq['rps']:,.0f} req/s "
              f"(offered {fmt(rq['offered'], 0)}; p50 {rq['lat']['p50']:.2f}, p99.9 {rq['lat']['p999']:.2f}{lag}) | "
              f"{verdict(rq['lat']['p99'] <= 2.0)} |")
    if "lat-redisquota" in lat_pooled:
        slow, answered, p99s = lat_pooled["lat-redisquota"]
        context = []
        if "lat-bare-rls" in lat_pooled:
            b = lat_pooled["lat-bare-rls"]
            context.append(f"bare-rls {100.0 * b[0] / b[1]:.2f}% (p99 {spread(b[2])} ms)")
        context += [f"the machine's wake-ups on {c} {100.0 * late / wakes:.2f}%" for c, (late, wakes) in lat_machine.items()]
        print(f"| redisquota p99 ≤ 2 ms at {m.get('lat_rps', '?')} req/s, pooled over {len(p99s)} rounds "
              f"(share of calls over 2 ms ≤ 1%) | {100.0 * slow / answered:.2f}% of {answered:,} calls over 2 ms; p99 {spread(p99s)} ms"
              f"{'; same rounds: ' + ', '.join(context) if context else ''} | {verdict(slow <= 0.01 * answered)} |")
    print()
    phases = [(t, ph, p) for t, d in seq.items() for ph, p in d.items() if p] + \
             [(t, r, p) for t, d in il.items() for r, p in d.items() if p] + \
             [(t, r, p) for t, d in lat.items() for r, p in d.items() if p]
    disturbed = [f"{t} {ph} (others {p['others_cores']:.2f}, steal {p['steal']:.2f} cores)"
                 for t, ph, p in phases if p["others_cores"] > DISTURBED_CORES or p["steal"] > DISTURBED_CORES]
    if disturbed:
        print(f"DISTURBED: other processes or the hypervisor took more than {DISTURBED_CORES} of a core from"
              f" the server's CPU during: {', '.join(disturbed)}. Compare nothing from these phases.\n")
    bad = [(t, ph, p["problems"]) for t, ph, p in phases if p["problems"]]
    if bad:
        for t, ph, probs in bad:
            print(f"VERIFICATION FAILED: {t} {ph}: {'; '.join(probs)}")
        sys.exit(1)
    print("All phases verified: every request the client counted was answered OK by the server"
          " (Arbiter: both descriptors OK, each through a quota call; no over-limit, unmatched, error or rejection).")


if __name__ == "__main__":
    main()
