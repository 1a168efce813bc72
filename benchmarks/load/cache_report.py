#!/usr/bin/env python3
"""Tables and verdicts of benchmarks/load/cache.sh (issue 6), with the server-side checks.

usage: cache_report.py OUT_DIR [--throughput TARGET...] [--keys TARGET...] [--interleaved TARGET...]

Part throughput (h2load, the same request every time): TARGET is bare, cache-N (Arbiter, cache on)
or off-N (cache off). Each phase is verified as run.sh's (report.py's phase(): no h2load failure,
the server answered between h2load's succeeded and started, all allowed for Arbiter), and from
the cache counters: for cache-N, hit + miss lookups equal the answers (within the requests in
flight) and the hits are at least 99% of them; for off-N, no lookup at all.

Part keys (CacheKeysDriver, K distinct bearer tokens): keys-bare and keys-K. Verified: the driver
saw only allows and no error; Arbiter answered (checks_total allow) within the in-flight count of
what the driver counted, denied none, and hit + miss equals its answers (within that count).
Part interleaved: il-bare, il-cache-N, il-off-N, all up at once, measured in rounds r1..rK of a
few seconds each in rotation; each phase is verified like part throughput's, and each round's
req/s is divided by bare's of the same round (median and range over rounds reported).

Exits 1 if anything fails verification.
"""
import statistics
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402  (run.sh's readers: same files, same checks)

LOOKUPS = "arbiter_check_cache_lookups_total"


def cache_delta(before, after):
    d = {r: report.delta(before, after, f'{LOOKUPS}{{result="{r}"}}') for r in ("hit", "miss", "merged")}
    d["evicted_size"] = report.delta(before, after, 'arbiter_check_cache_evictions_total{cause="size"}')
    d["evicted_expired"] = report.delta(before, after, 'arbiter_check_cache_evictions_total{cause="expired"}')
    d["uncacheable"] = report.delta(before, after, "arbiter_check_cache_uncacheable_total")
    d["entries"] = after.get("arbiter_check_cache_entries", float("nan"))
    d["shapes"] = after.get("arbiter_check_cache_shapes", float("nan"))
    return d


def heap(out, target):
    """Live heap in MB after the full GC cache.sh forced (jstat -gc: S0U + S1U + EU + OU)."""
    path = os.path.join(out, f"{target}.jstat.txt")
    if not os.path.exists(path):
        return float("nan")
    lines = [l.split() for l in open(path) if l.strip()]
    if len(lines) < 2:
        return float("nan")
    row = dict(zip(lines[0], lines[1]))
    try:
        return sum(float(row[k]) for k in ("S0U", "S1U", "EU", "OU")) / 1024.0
    except (KeyError, ValueError):
        return float("nan")


def fmt_pct(x):
    return "n/a" if x != x else f"{100 * x:.2f}%"


def throughput(out, targets, inflight):
    results = {t: report.phase(out, t, "max") for t in targets}
    bare = results.get("bare")
    bare_rps = bare["h2load"].get("rps") if bare else None
    print("### Cached Check throughput (h2load, the same request every time)\n")
    print("| target | req/s | × bare | p50 ms | p99 ms | server cores | cores per 1k checks/s | × bare per CPU |"
          " cache hit / miss / merged | hit ratio | entries | live heap MB | others / steal on server CPU |"
          " answers verified | warm-up | load avg |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |")
    for t in targets:
        p = results[t]
        if not p:
            continue
        h, lat = p["h2load"], p["lat"]
        ratio = h.get("rps", 0) / bare_rps if bare_rps else float("nan")
        per_cpu = bare["cores_per_1k"] / p["cores_per_1k"] if bare and p["cores_per_1k"] else float("nan")
        base = os.path.join(out, f"{t}.max")
        c = cache_delta(report.read_counters(base + ".counters.before"), report.read_counters(base + ".counters.after"))
        lookups = c["hit"] + c["miss"]
        p["cache"] = c
        verify_cache(t, p, inflight)
        hit_ratio = c["hit"] / lookups if lookups else float("nan")
        cache_cols = "—" if t == "bare" else f"{c['hit']:,.0f} / {c['miss']:,.0f} / {c['merged']:,.0f}"
        ok = "yes" if not p["problems"] else "NO: " + "; ".join(p["problems"])
        warm = report.read_env(os.path.join(out, f"{t}.start.env")).get("warmup_seconds", "?")
        entries = "—" if t == "bare" else report.fmt(c["entries"], 0)
        print(f"| {t} | {report.fmt(h.get('rps'), 0)} | {report.fmt(ratio)} | {report.fmt(lat['p50'])} | "
              f"{report.fmt(lat['p99'])} | {report.fmt(p['cores'])} | {report.fmt(p['cores_per_1k'], 4)} | "
              f"{report.fmt(per_cpu)} | {cache_cols} | {'—' if t == 'bare' else fmt_pct(hit_ratio)} | {entries} | "
              f"{'—' if t == 'bare' else report.fmt(heap(out, t), 1)} | "
              f"{report.fmt(p['others_cores'])} / {report.fmt(p['steal'])} | {ok} ({p['answered']:.0f} answered) | "
              f"{warm} s | {p['loadavg']} |")
    print("\n#### Target (issue 6): cached Check throughput ≥ 0.95× bare, this run\n")
    print("| target | measured | verdict |")
    print("| --- | --- | --- |")
    for t in targets:
        p = results[t]
        if not t.startswith("cache-") or not p or not bare_rps:
            continue
        r = p["h2load"].get("rps", 0) / bare_rps
        per_cpu = bare["cores_per_1k"] / p["cores_per_1k"] if p["cores_per_1k"] else float("nan")
        off = results.get("off-" + t[len("cache-"):])
        contrast = ""
        if off:
            contrast = f"; cache off: {off['h2load'].get('rps', 0) / bare_rps:.2f}×"
        print(f"| {t} ≥ 0.95× bare | {r:.2f}× ({p['h2load'].get('rps', 0):,.0f} vs {bare_rps:,.0f} req/s); "
              f"per server CPU second {per_cpu:.2f}×{contrast} | {report.verdict(r >= 0.95)} |")
    print()
    return [(t, "max", p) for t, p in results.items() if p]


def slack(answered, inflight):
    """Lookups are counted when a check starts, answers when it ends, and a scrape is not atomic."""
    return max(2 * inflight, 0.002 * answered)


def verify_cache(t, p, inflight):
    base_t = t[3:] if t.startswith("il-") else t
    c = p["cache"]
    lookups = c["hit"] + c["miss"]
    if base_t.startswith("cache-"):
        if abs(lookups - p["answered"]) > slack(p["answered"], inflight):
            p["problems"].append(f"cache lookups {lookups:.0f} != answers {p['answered']:.0f}")
        if not lookups or c["hit"] < 0.99 * lookups:
            p["problems"].append(f"only {c['hit']:.0f} hits of {lookups:.0f} lookups")
    elif base_t.startswith("off-") and lookups:
        p["problems"].append(f"{lookups:.0f} cache lookups with the cache off")


def interleaved(out, targets, inflight):
    rounds = sorted({f.split(".")[1] for f in os.listdir(out)
                     if f.startswith("il-") and re.match(r"^il-[^.]+\.r\d+\.h2load\.txt$", f)},
                    key=lambda r: int(r[1:]))
    res = {t: {r: report.phase(out, t, r) for r in rounds} for t in targets}
    checked = []
    for t in targets:
        for r in rounds:
            p = res[t][r]
            if not p:
                continue
            base = os.path.join(out, f"{t}.{r}")
            if t == "il-bare":  # report.phase knows the bare server only by the name "bare"
                before, after = report.read_counters(base + ".counters.before"), report.read_counters(base + ".counters.after")
                p["answered"] = report.delta(before, after, "bare_checks_total")
                h = p["h2load"]
                p["problems"] = [x for x in p["problems"] if not x.startswith("server answered")]
                if not before and not after:
                    p["problems"].append("no bare_checks_total recorded (cache.sh before 2026-11-26 07:55Z)")
                elif "succeeded" in h and not (h["succeeded"] <= p["answered"] <= h["started"]):
                    p["problems"].append(f"server answered {p['answered']:.0f}, h2load succeeded {h['succeeded']} of {h['started']} started")
            p["cache"] = cache_delta(report.read_counters(base + ".counters.before"),
                                     report.read_counters(base + ".counters.after"))
            verify_cache(t, p, inflight)
            checked.append((t, r, p))
    print(f"### Cached Check throughput, interleaved ({len(rounds)} measured rounds, targets in rotation)\n")
    print("| target | req/s median (min – max) | × bare, same round: median (min – max) | × bare per CPU: median |"
          " p99 ms median | server cores median | hit ratio (all rounds) | others on server CPU: max | answers verified | load avg (last round) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    summary = {}
    for t in targets:
        ps = [res[t][r] for r in rounds if res[t][r]]
        if not ps:
            continue
        rps = [p["h2load"].get("rps", 0) for p in ps]
        ratios, cpu_ratios = [], []
        for r in rounds:
            p, b = res[t][r], res.get("il-bare", {}).get(r)
            if p and b and b["h2load"].get("rps"):
                ratios.append(p["h2load"].get("rps", 0) / b["h2load"]["rps"])
                if p["cores_per_1k"]:
                    cpu_ratios.append(b["cores_per_1k"] / p["cores_per_1k"])
        hits = sum(p["cache"]["hit"] for p in ps)
        lookups = sum(p["cache"]["hit"] + p["cache"]["miss"] for p in ps)
        probs = [f"{r}: {'; '.join(res[t][r]['problems'])}" for r in rounds if res[t][r] and res[t][r]["problems"]]
        ok = "yes" if not probs else "NO: " + " / ".join(probs)
        answered = sum(p["answered"] for p in ps)
        summary[t] = (ratios, cpu_ratios, rps)
        print(f"| {t} | {statistics.median(rps):,.0f} ({min(rps):,.0f} – {max(rps):,.0f}) | "
              f"{statistics.median(ratios):.2f} ({min(ratios):.2f} – {max(ratios):.2f}) | "
              f"{statistics.median(cpu_ratios):.2f} | {statistics.median(p['lat']['p99'] for p in ps):.2f} | "
              f"{statistics.median(p['cores'] for p in ps):.2f} | "
              f"{'—' if t == 'il-bare' else fmt_pct(hits / lookups if lookups else float('nan'))} | "
              f"{max(p['others_cores'] for p in ps):.2f} | {ok} ({answered:.0f} answered) | {ps[-1]['loadavg']} |")
    print("\n#### Target (issue 6): cached Check throughput ≥ 0.95× bare, interleaved\n")
    print("| target | measured (median of same-round ratios) | verdict |")
    print("| --- | --- | --- |")
    for t in targets:
        if not t.startswith("il-cache-") or t not in summary:
            continue
        ratios, cpu_ratios, _ = summary[t]
        off = summary.get("il-off-" + t[len("il-cache-"):])
        contrast = f"; cache off {statistics.median(off[0]):.2f}×" if off else ""
        m = statistics.median(ratios)
        print(f"| {t[3:]} ≥ 0.95× bare | {m:.2f}× (rounds {min(ratios):.2f} – {max(ratios):.2f}); per server CPU "
              f"{statistics.median(cpu_ratios):.2f}×{contrast} | {report.verdict(m >= 0.95)} |")
    print()
    return checked


def keys(out, targets, inflight):
    rows = []
    bare_rps = None
    for t in targets:
        env = report.read_env(os.path.join(out, f"{t}.driver.env"))
        if not env:
            continue
        before = report.read_counters(os.path.join(out, f"{t}.metrics.before"))
        after = report.read_counters(os.path.join(out, f"{t}.metrics.after"))
        p = {"problems": [], "env": env}
        allowed = int(env.get("allowed", "0"))
        for k in ("not_allowed", "errors"):
            if int(env.get(k, "0")):
                p["problems"].append(f"driver {k} {env[k]} ({env.get('first_problem', '')})")
        if t == "keys-bare":
            answered = report.delta(before, after, "bare_checks_total")
            bare_rps = float(env.get("rps", "nan"))
        else:
            answered = report.delta(before, after, 'arbiter_checks_total{result="allow"}')
            for metric in ['arbiter_checks_total{result="deny"}', "arbiter_check_failures_total",
                           "arbiter_extauthz_internal_errors_total", "arbiter_check_rejected_total"]:
                n = report.delta(before, after, metric)
                if n:
                    p["problems"].append(f"{metric} +{n:.0f}")
            c = cache_delta(before, after)
            p["cache"] = c
            if abs(c["hit"] + c["miss"] - answered) > slack(answered, inflight):
                p["problems"].append(f"cache lookups {c['hit'] + c['miss']:.0f} != answers {answered:.0f}")
        # The server's snapshot is taken somewhere inside each /metrics fetch, the driver counts
        # between the end of the first fetch and the start of the second: the server may count
        # what was answered during the fetches too, never less than the driver (minus in flight).
        fetch = float(env.get("metrics_fetch_seconds", "0"))
        extra = float(env.get("rps", "0")) * fetch
        if not (allowed - inflight <= answered <= allowed + inflight + 1.5 * extra + 0.002 * allowed):
            p["problems"].append(f"server answered {answered:.0f}, driver counted {allowed} "
                                 f"(fetches took {fetch:.3f} s)")
        p["answered"] = answered
        tck = int(env.get("clk_tck", "100"))
        wall = float(env.get("wall_seconds", "nan"))
        cpu = int(env.get("cpu_ticks", "0")) / tck
        p["cores"] = cpu / wall if wall == wall and wall else float("nan")
        busy = int(env.get("server_cpu_busy_ticks", "0")) / tck
        p["others"] = max(0.0, busy - cpu) / wall if wall == wall and wall else float("nan")
        p["steal"] = int(env.get("server_cpu_steal_ticks", "0")) / tck / wall if wall == wall and wall else float("nan")
        rows.append((t, p))

    print(f"### Hit ratio and throughput as distinct keys grow (CacheKeysDriver)\n")
    print("| target | distinct keys | req/s | × bare | p50 ms | p99 ms | server cores | hit / miss / merged |"
          " hit ratio | entries at end | evicted size / expired | live heap MB | client cores | others / steal on server CPU |"
          " answers verified | load avg |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for t, p in rows:
        env = p["env"]
        rps = float(env.get("rps", "nan"))
        ratio = rps / bare_rps if bare_rps else float("nan")
        c = p.get("cache")
        if c:
            lookups = c["hit"] + c["miss"]
            cache_cols = (f"{c['hit']:,.0f} / {c['miss']:,.0f} / {c['merged']:,.0f} | "
                          f"{fmt_pct(c['hit'] / lookups if lookups else float('nan'))} | {c['entries']:,.0f} | "
                          f"{c['evicted_size']:,.0f} / {c['evicted_expired']:,.0f} | {report.fmt(heap(out, t), 1)}")
        else:
            cache_cols = "— | — | — | — | —"
        ok = "yes" if not p["problems"] else "NO: " + "; ".join(p["problems"])
        keys_label = env.get("keys", "?") + ("" if t != "keys-bare" else " (no cache)")
        print(f"| {t} | {keys_label} | {report.fmt(rps, 0)} | {report.fmt(ratio)} | {env.get('p50_ms')} | "
              f"{env.get('p99_ms')} | {report.fmt(p['cores'])} | {cache_cols} | {env.get('client_cores')} | "
              f"{report.fmt(p['others'])} / {report.fmt(p['steal'])} | {ok} ({p['answered']:.0f} answered) | "
              f"{env.get('loadavg', '?')} |")
    print()
    return [(t, "keys", p) for t, p in rows]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = sys.argv[1]
    groups, cur = {}, None
    for a in sys.argv[2:]:
        if a in ("--throughput", "--keys", "--interleaved"):
            cur = a[2:]
            groups[cur] = []
        elif cur:
            groups[cur].append(a)
    m = report.read_env(os.path.join(out, "machine.env"))
    inflight = int(m.get("clients", "4")) * int(m.get("streams", "32"))
    print(f"## Decision cache load: {m.get('date', '?')}, git {m.get('git', '?')} "
          f"({m.get('git_dirty_files', '?')} uncommitted files)\n")
    print(f"{m.get('nproc', '?')} CPUs ({m.get('cpu', '?')}); {m.get('java', '?')}; {m.get('h2load', '?')}. "
          f"Server pinned to CPU {m.get('server_cpus')}, client to CPU {m.get('client_cpus')}; server JVM "
          f"`{m.get('server_java_opts')}` ({m.get('server_gc', '?')}). {inflight} requests in flight "
          f"(`-c {m.get('clients')} -m {m.get('streams')}`), {m.get('duration')} s per measurement. "
          f"Load average {m.get('loadavg_start')} at start, {m.get('loadavg_end', '?')} at end.\n")
    checked = []
    if "throughput" in groups:
        checked += throughput(out, groups["throughput"], inflight)
    if "interleaved" in groups:
        print(f"Interleaved: {m.get('rounds', '?')}; every server up at once, each pinned to CPU {m.get('server_cpus')}.\n")
        checked += interleaved(out, groups["interleaved"], inflight)
    if "keys" in groups:
        print(f"Keys: `--order {m.get('keys_order')}`, RuleSets.yaml({m.get('keys_rules')}){m.get('ruleset_suffix', '')}, "
              f"default cache settings, {m.get('keys_warmup')} s of the same load before each measured window, "
              f"a fresh server per row.\n")
        checked += keys(out, groups["keys"], inflight)
    disturbed = [f"{t} ({p.get('others_cores', p.get('others', 0)):.2f} others, {p['steal']:.2f} steal)"
                 for t, _, p in checked
                 if p.get("others_cores", p.get("others", 0)) > report.DISTURBED_CORES or p["steal"] > report.DISTURBED_CORES]
    if disturbed:
        print(f"DISTURBED: other processes or the hypervisor took more than {report.DISTURBED_CORES} of a core from"
              f" the server's CPU during: {', '.join(disturbed)}.\n")
    bad = [(t, ph, p["problems"]) for t, ph, p in checked if p["problems"]]
    for t, ph, probs in bad:
        print(f"VERIFICATION FAILED: {t} {ph}: {'; '.join(probs)}")
    if bad:
        sys.exit(1)
    print("All runs verified against the servers' own counters.")


if __name__ == "__main__":
    main()
