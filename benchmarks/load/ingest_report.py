#!/usr/bin/env python3
"""Tables, server-side verification and the issue 4 verdicts for benchmarks/load/ingest.sh.

usage: ingest_report.py OUT_DIR                    the results tables (exit 1 if a phase fails verification)
       ingest_report.py --overload OUT_DIR         the overload test's table and verdicts
       ingest_report.py --line OUT TARGET PHASE    one line on a phase (the script's progress)
       ingest_report.py --rate OUT TARGET PHASE    entries ingested per wall second of a phase
       ingest_report.py --per-cpu OUT TARGET PHASE entries ingested per CPU-second of a phase
       ingest_report.py --interleaved OUT_DIR      the interleaved rounds (ROUNDS > 0): per-round
                                                   ratios, their median, the verdicts

Per target (arbiter, bare) and phase (warmupN, max, rate) ingest.sh leaves in OUT_DIR:
  TARGET.PHASE.driver.env      what the driver offered, sent and dropped (AlsLoadDriver), and the
                               sums the user metrics should show
  TARGET.PHASE.phase.env       server CPU ticks, wall and drain seconds, GC seconds (jstat), others'
                               and steal time on the server's CPU, the driver's CPU
  TARGET.PHASE.counters.{before,after}   the server's counters (Arbiter's /metrics, bare's /count)

"Ingested" is what the server evaluated: for Arbiter the increase of arbiter_reports_total (every
entry that went through the rules; an entry dropped from the queue never gets there), for the bare
sink bare_als_entries_total. Per CPU-second: divided by the server's utime + stime over the phase,
from the driver's start until Arbiter's queue drained.

Verification of an Arbiter phase: the driver saw no stream error and every stream was answered;
Arbiter counted exactly the entries sent (arbiter_accesslog_entries_total); every one is either
dispatched or dropped and counted, and every dispatched one evaluated (reports == dispatched ==
received - dropped, queue empty); no entry rejected, no expression, handler or timeout error, no
prometheus rejection; the user metrics moved by exactly the reports (requests_total,
request_duration_seconds_count and requests_by_reporter_total sum to it) and, when nothing was
dropped, each stream's entries went to its own reporter (the stream's Identifier, sent on its first
message only) and the byte counters match the sums of what was sent; the log handler wrote or
dropped (counted) one line per report. Bare: it counted exactly the entries sent.
"""
import os
import re
import sys

DISTURBED_CORES = 0.05
TARGET_PER_CPU = 200_000
TARGET_RATIO = 0.6


def read_env(path):
    out = {}
    if os.path.exists(path):
        for line in open(path):
            line = line.rstrip("\n")
            if "=" in line:
                k, v = line.split("=", 1)
                out[k] = v
    return out


def read_counters(path):
    out = {}
    if os.path.exists(path):
        for line in open(path):
            if line.startswith("#") or not line.strip():
                continue
            name, _, value = line.rstrip("\n").rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
    return out


def driver_streams(path):
    """stream_K_node=envoy-K entries=N lines: {node: entries}."""
    out = {}
    if os.path.exists(path):
        for line in open(path):
            m = re.match(r"stream_\d+_node=(\S+) entries=(\d+)", line)
            if m:
                out[m.group(1)] = int(m.group(2))
    return out


def series_sum(counters, name):
    return sum(v for k, v in counters.items() if k == name or k.startswith(name + "{"))


def series(counters, name, label, value):
    return sum(v for k, v in counters.items()
               if k.startswith(name + "{") and f'{label}="{value}"' in k)


def phase(out, target, name):
    base = os.path.join(out, f"{target}.{name}")
    env = read_env(base + ".phase.env")
    drv = read_env(base + ".driver.env")
    if not env:
        return None
    before, after = read_counters(base + ".counters.before"), read_counters(base + ".counters.after")

    def d(key):
        return after.get(key, 0) - before.get(key, 0)

    def ds(name):
        return series_sum(after, name) - series_sum(before, name)

    tck = float(env.get("clk_tck", 100))
    cpu = int(env["cpu_ticks"]) / tck
    wall = float(env["wall_seconds"])
    sent = int(drv.get("sent_entries", 0))
    r = {"target": target, "phase": name, "cpu": cpu, "wall": wall, "sent": sent,
         "offered": int(drv.get("offered_entries", 0)),
         "client_dropped": int(drv.get("client_dropped_entries", 0)),
         "send_seconds": float(drv.get("send_seconds", 0) or 0),
         "drain": float(env.get("drain_seconds", 0)), "gc": float(env.get("gc_seconds", 0) or 0),
         "client_cpu": float(env.get("client_cpu_seconds", 0) or 0),
         "others": (int(env.get("server_cpu_busy_ticks", 0)) - int(env["cpu_ticks"])) / tck / wall if wall else 0,
         "steal": int(env.get("server_cpu_steal_ticks", 0)) / tck / wall if wall else 0,
         "loadavg": env.get("loadavg", "?"), "rate_offer": int(drv.get("rate_offered_per_s", 0) or 0),
         "problems": []}
    p = r["problems"]
    if drv.get("ok") != "true":
        p.append(f"driver: ok={drv.get('ok')}, stream errors {drv.get('stream_errors')}, "
                 f"answered {drv.get('streams_answered')}/{drv.get('streams')}")
    if target == "bare":
        got = int(d("bare_als_entries_total"))
        r["ingested"], r["received"], r["dropped"] = got, got, 0
        if got != sent:
            p.append(f"bare counted {got} entries, the driver sent {sent}")
    else:
        received = int(d('arbiter_accesslog_entries_total{protocol="http"}')
                       + d('arbiter_accesslog_entries_total{protocol="grpc"}')
                       + d('arbiter_accesslog_entries_total{protocol="tcp"}')
                       + d('arbiter_accesslog_entries_total{protocol="other"}'))
        dropped = int(ds("arbiter_accesslog_dropped_total"))
        reports = int(d("arbiter_reports_total"))
        dispatched = int(d("arbiter_accesslog_dispatched_total"))
        depth = int(after.get("arbiter_accesslog_queue_depth", 0))
        r.update(ingested=reports, received=received, dropped=dropped,
                 dropped_queue_full=int(d('arbiter_accesslog_dropped_total{reason="queue_full"}')),
                 log_written=int(ds("arbiter_log_entries_total")), log_dropped=int(ds("arbiter_log_dropped_total")))
        if received != sent:
            p.append(f"Arbiter received {received} entries, the driver sent {sent}")
        if not (reports == dispatched == received - dropped - depth):
            p.append(f"reports {reports}, dispatched {dispatched}, received {received} - dropped {dropped} - depth {depth} disagree")
        if depth:
            p.append(f"queue not drained: depth {depth}")
        for k in ("arbiter_accesslog_rejected_total", "arbiter_report_errors_total", "arbiter_prometheus_rejected_total",
                  "arbiter_metric_overflow_total"):
            if ds(k):
                p.append(f"{k} rose by {int(ds(k))}")
        for m in ("requests_total", "request_duration_seconds_count", "requests_by_reporter_total"):
            if int(round(ds(m))) != reports:
                p.append(f"{m} rose by {int(round(ds(m)))}, not the {reports} reports")
        if r["log_written"] + r["log_dropped"] != reports:
            p.append(f"log lines written {r['log_written']} + dropped {r['log_dropped']} != reports {reports}")
        if dropped == 0:
            for node, n in driver_streams(base + ".driver.env").items():
                got = int(round(series(after, "requests_by_reporter_total", "reporter", node)
                                - series(before, "requests_by_reporter_total", "reporter", node)))
                if got != n:
                    p.append(f"requests_by_reporter_total{{reporter={node}}} rose by {got}, the stream sent {n}")
            for m, k in (("response_bytes_total", "response_bytes_sum"), ("request_bytes_total", "request_bytes_sum")):
                if int(round(ds(m))) != int(drv.get(k, -1)):
                    p.append(f"{m} rose by {int(round(ds(m)))}, the driver sent {drv.get(k)}")
    r["per_cpu"] = r["ingested"] / cpu if cpu else 0
    # per second of sending (the driver's clock, from its first message to the last answer) plus the drain
    busy = float(drv.get("wall_seconds", 0) or 0) + r["drain"]
    r["per_s"] = r["ingested"] / busy if busy else 0
    r["cores"] = cpu / wall if wall else 0
    r["disturbed"] = r["others"] + r["steal"] > DISTURBED_CORES
    return r


def fmt(x, digits=0):
    return f"{x:,.{digits}f}"


def verdict(ok):
    return "**met**" if ok else "**missed**"


def main_tables(out):
    m = read_env(os.path.join(out, "machine.env"))
    rate = read_env(os.path.join(out, "rate.env")).get("rate", "?")
    rows = {}
    for t in ("arbiter", "bare"):
        for ph in ("max", "rate"):
            r = phase(out, t, ph)
            if r:
                rows[(t, ph)] = r
    print(f"Ingest run {m.get('date')}, git {m.get('git')} ({m.get('git_dirty_files')} uncommitted files), "
          f"{m.get('nproc')} x {m.get('cpu')}, {m.get('java')}, server on CPU {m.get('server_cpus')} "
          f"({m.get('server_gc')}, {m.get('server_java_opts')}), driver on CPU {m.get('client_cpus')}, "
          f"{m.get('streams')} streams, {m.get('batch_bytes')}-byte batches; load average at start {m.get('loadavg_start')}")
    print()
    print("| target | phase | offered/s | sent | ingested | dropped (server) | dropped (client) | ingested/s | "
          "server CPU s | GC s | **entries / CPU-s** | ratio to bare | others / steal (cores) | load avg | verified |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    failed = False
    for (t, ph), r in rows.items():
        bare = rows.get(("bare", ph))
        ratio = r["per_cpu"] / bare["per_cpu"] if bare and bare["per_cpu"] else None
        offer = "max" if ph == "max" else fmt(r["rate_offer"])
        ok = not r["problems"]
        failed |= not ok
        print(f"| {t} | {ph} | {offer} | {fmt(r['sent'])} | {fmt(r['ingested'])} | {fmt(r['dropped'])} | "
              f"{fmt(r['client_dropped'])} | {fmt(r['per_s'])} | {r['cpu']:.2f} | {r['gc']:.2f} | "
              f"**{fmt(r['per_cpu'])}** | {'' if ratio is None or t == 'bare' else f'{ratio:.2f}x'} | "
              f"{r['others']:.2f} / {r['steal']:.2f}{' (disturbed)' if r['disturbed'] else ''} | {r['loadavg']} | "
              f"{'yes' if ok else 'NO: ' + '; '.join(r['problems'])} |")
    print()
    print(f"Rate phase offer: {rate} entries/s (both targets). Ingested = evaluated by the rules (Arbiter: "
          "arbiter_reports_total; dropped entries are not counted), per CPU-second of the server process "
          "(utime + stime, until the queue drained).")
    a = rows.get(("arbiter", "rate")) or rows.get(("arbiter", "max"))
    am = rows.get(("arbiter", "max"))
    b = rows.get(("bare", a["phase"])) if a else None
    if a:
        print()
        print("| issue 4 target | measured | verdict |")
        print("| --- | --- | --- |")
        print(f"| >= {fmt(TARGET_PER_CPU)} entries ingested per CPU-second | {fmt(a['per_cpu'])} ({a['phase']} phase)"
              f"{'; ' + fmt(am['per_cpu']) + ' (max phase)' if am and am is not a else ''} | {verdict(a['per_cpu'] >= TARGET_PER_CPU)} |")
        if b and b["per_cpu"]:
            ratio = a["per_cpu"] / b["per_cpu"]
            print(f"| >= {TARGET_RATIO}x the bare sink | {ratio:.2f}x ({fmt(a['per_cpu'])} / {fmt(b['per_cpu'])}, {a['phase']} phase) | "
                  f"{verdict(ratio >= TARGET_RATIO)} |")
    return 1 if failed else 0


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def interleaved(out):
    """Rounds r1..rN of both targets at one offer: each round's Arbiter/bare ratio, the median."""
    m = read_env(os.path.join(out, "machine.env"))
    rate = read_env(os.path.join(out, "rate.env"))
    rounds = sorted(int(f.split(".")[1][1:]) for f in os.listdir(out)
                    if re.fullmatch(r"arbiter\.r\d+\.phase\.env", f))
    print(f"Ingest run {m.get('date')}, git {m.get('git')} ({m.get('git_dirty_files')} uncommitted files), "
          f"{m.get('nproc')} x {m.get('cpu')}, server on CPU {m.get('server_cpus')} ({m.get('server_gc')}, "
          f"{m.get('server_java_opts')}), driver on CPU {m.get('client_cpus')}; interleaved: "
          f"{rate.get('rounds')} rounds of {rate.get('round_seconds')} s per target at {rate.get('rate')} entries/s "
          f"after {rate.get('rounds_warmup')} unmeasured")
    print()
    print("| round | Arbiter entries/CPU-s | bare entries/CPU-s | ratio | Arbiter GC s | others (cores, max) | verified |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    ratios, per_cpu, failed, disturbed = [], [], False, False
    for n in rounds:
        a, b = phase(out, "arbiter", f"r{n}"), phase(out, "bare", f"r{n}")
        if not a or not b:
            continue
        problems = a["problems"] + b["problems"]
        failed |= bool(problems)
        disturbed |= a["disturbed"] or b["disturbed"]
        ratio = a["per_cpu"] / b["per_cpu"] if b["per_cpu"] else 0
        ratios.append(ratio)
        per_cpu.append(a["per_cpu"])
        print(f"| r{n} | {fmt(a['per_cpu'])} | {fmt(b['per_cpu'])} | {ratio:.2f} | {a['gc']:.2f} | "
              f"{max(a['others'], b['others']):.2f} | {'yes' if not problems else 'NO: ' + '; '.join(problems)} |")
    if not ratios:
        print("no complete round")
        return 1
    med, med_cpu = median(ratios), median(per_cpu)
    print()
    print("| issue 4 target | measured | verdict |")
    print("| --- | --- | --- |")
    print(f"| >= {fmt(TARGET_PER_CPU)} entries ingested per CPU-second | {fmt(med_cpu)} (median round) | "
          f"{verdict(med_cpu >= TARGET_PER_CPU)} |")
    print(f"| >= {TARGET_RATIO}x the bare sink | {med:.2f}x (median of same-round ratios; rounds {min(ratios):.2f} - "
          f"{max(ratios):.2f}){' DISTURBED' if disturbed else ''} | {verdict(med >= TARGET_RATIO)} |")
    return 1 if failed else 0


GC_LINE = re.compile(r"\[([\d.]+)s\].*GC\(\d+\) (Pause \w+).*?(\d+)M->(\d+)M\((\d+)M\)")


def overload(out):
    env = read_env(os.path.join(out, "overload.env"))
    drv = read_env(os.path.join(out, "overload.driver.env"))
    after = read_counters(os.path.join(out, "overload.counters.after"))
    rows = []
    path = os.path.join(out, "overload.samples.tsv")
    if os.path.exists(path):
        lines = open(path).read().splitlines()
        head = lines[0].split("\t")
        skipped = 0
        for line in lines[1:]:
            row = dict(zip(head, line.split("\t")))
            if int(row["t"]) > 30 and float(row["entries"] or 0) == 0:
                skipped += 1  # /metrics did not answer within 5 s: no counters in this sample
                row["metrics_missing"] = True
            rows.append(row)
    gcs = []
    gcpath = os.path.join(out, "overload.gc.log")
    if os.path.exists(gcpath):
        for line in open(gcpath):
            m = GC_LINE.search(line)
            if m:
                gcs.append((float(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4)), int(m.group(5))))
    seconds = int(env.get("seconds", 0))
    print(f"Overload: {env.get('factor')}x the sustainable {fmt(int(env.get('sustainable_rate', 0)))} entries/s = "
          f"{fmt(int(env.get('offered_rate', 0)))} entries/s offered for {seconds} s; load average at end {env.get('loadavg_end')}")
    print()
    # per-minute (or per-sample-window) heap after GC, from the GC log
    window = 60 if seconds >= 180 else max(10, seconds // 6)
    print(f"| minute | heap after any GC, max (MB) | after full GCs: min..max (MB) | GCs (full) | entries received | ingested | dropped (queue_full) | queue depth at end | healthz | server cores |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    start = gcs[0][0] if gcs else 0
    # the GC log's clock starts with the JVM; the driver starts a few seconds later: use the samples' clock for counters
    prev = {"t": "0", "cpu_ticks": "0", "reports": "0", "entries": "0", "dropped_queue_full": "0"}
    by_window = {}
    for r in rows:
        if r.get("metrics_missing"):
            continue
        w = (int(r["t"]) - 1) // window
        by_window[w] = r
    jvm_offset = 0.0
    if gcs and rows:
        jvm_offset = 0.0  # GC log time is JVM uptime; the overload starts within seconds of JVM start
    max_after = []
    for w in sorted(by_window):
        r = by_window[w]
        lo, hi = w * window, (w + 1) * window
        in_w = [g for g in gcs if lo <= g[0] - jvm_offset < hi]
        after_gc = max((g[3] for g in in_w), default=None)
        full = [g[3] for g in in_w if "Full" in g[1]]
        max_after.append(max(full) if full else None)
        dt = int(r["t"]) - int(prev["t"]) or 1
        cores = (int(r["cpu_ticks"]) - int(prev["cpu_ticks"])) / 100 / dt
        print(f"| {lo // 60 if window == 60 else f'{lo}-{hi}s'} | {after_gc if after_gc is not None else '-'} | "
              f"{f'{min(full)}..{max(full)}' if full else '-'} | {len(in_w)} ({len(full)}) | "
              f"{fmt(int(float(r['entries'])) - int(float(prev['entries'])))} | "
              f"{fmt(int(float(r['reports'])) - int(float(prev['reports'])))} | "
              f"{fmt(int(float(r['dropped_queue_full'])) - int(float(prev['dropped_queue_full'])))} | "
              f"{fmt(int(float(r['queue_depth'])))} | {r['healthz']} | {cores:.2f} |")
        prev = r
    print()
    healthy = all(r["healthz"] == "200" for r in rows) and env.get("healthz_after") == "200" and env.get("alive_after") == "yes"
    received = sum(after.get(f'arbiter_accesslog_entries_total{{protocol="{p}"}}', 0) for p in ("http", "grpc", "tcp", "other"))
    reports = after.get("arbiter_reports_total", 0)
    dropped = series_sum(after, "arbiter_accesslog_dropped_total")
    dq = after.get('arbiter_accesslog_dropped_total{reason="queue_full"}', 0)
    sent = int(drv.get("sent_entries", 0))
    accounted = received == sent and reports + dropped == received
    heap_max = max((g[3] for g in gcs), default=0)
    limit = max((g[4] for g in gcs), default=0)
    halves = [x for x in max_after if x is not None]
    first, last = halves[: len(halves) // 2], halves[len(halves) // 2:]
    growing = bool(first and last) and max(last) > 1.1 * max(first)
    full_gcs = sum(1 for g in gcs if "Full" in g[1])
    gc_pause_total = None
    if rows:
        gc_pause_total = float(rows[-1].get("gc_seconds", 0) or 0)
    print(f"Driver: offered {fmt(int(drv.get('offered_entries', 0)))}, sent {fmt(sent)}, dropped at the client "
          f"(stream not ready, as Envoy drops) {fmt(int(drv.get('client_dropped_entries', 0)))}. Arbiter: received "
          f"{fmt(received)}, ingested (reports) {fmt(reports)}, dropped {fmt(dropped)} (queue_full {fmt(dq)}); "
          f"log lines written {fmt(series_sum(after, 'arbiter_log_entries_total'))}, dropped {fmt(series_sum(after, 'arbiter_log_dropped_total'))}. "
          f"{len(gcs)} GCs ({full_gcs} full), GC time {gc_pause_total if gc_pause_total is not None else '?'} s; "
          f"largest heap after a GC {heap_max} MB of {limit} MB.")
    print()
    missing = sum(1 for r in rows if r.get("metrics_missing"))
    if missing:
        print(f"({missing} of {len(rows)} samples got no /metrics answer within 5 s; left out of the per-minute counts.)")
        print()
    print("| overload check | result | verdict |")
    print("| --- | --- | --- |")
    oom = False
    log = os.path.join(out, "overload.server.log")
    if os.path.exists(log):
        oom = "OutOfMemoryError" in open(log, errors="replace").read()
    live = max(halves, default=0)
    roomy = bool(limit) and live <= 0.75 * limit
    print(f"| heap bounded (no OutOfMemoryError; the live heap, after full GCs, in the second half not above the first half's by > 10%, "
          f"and at most 75% of the heap, so GC does not take the CPU) | "
          f"after full GCs: first half max {max(first) if first else '-'} MB, second half max {max(last) if last else '-'} MB "
          f"({100 * live / limit if limit else 0:.0f}% of {limit} MB); any GC: max {heap_max} MB; OutOfMemoryError: {'yes' if oom else 'no'} | "
          f"{verdict(bool(first) and bool(last) and not growing and not oom and roomy)} |")
    print(f"| healthy throughout (/healthz 200 every {rows and (int(rows[1]['t']) - int(rows[0]['t']) if len(rows) > 1 else '?')} s, alive at the end) | "
          f"{sum(1 for r in rows if r['healthz'] == '200')}/{len(rows)} samples 200, after: {env.get('healthz_after')} | {verdict(healthy)} |")
    print(f"| overflow counted, not silent (received = ingested + dropped; drops under queue_full) | "
          f"{fmt(received)} = {fmt(reports)} + {fmt(dropped)}; queue_full {fmt(dq)} | {verdict(accounted and dq > 0)} |")
    return 0


def main():
    args = sys.argv[1:]
    if args and args[0] == "--line":
        r = phase(args[1], args[2], args[3])
        if r:
            print(f"  {r['target']} {r['phase']}: sent {fmt(r['sent'])}, ingested {fmt(r['ingested'])} "
                  f"({fmt(r['per_s'])}/s), dropped {fmt(r['dropped'])}, client dropped {fmt(r['client_dropped'])}, "
                  f"CPU {r['cpu']:.2f} s (GC {r['gc']:.2f}), {fmt(r['per_cpu'])} entries/CPU-s, load {r['loadavg']}"
                  f"{'' if not r['problems'] else ' PROBLEMS: ' + '; '.join(r['problems'])}")
        return 0
    if args and args[0] == "--rate":
        r = phase(args[1], args[2], args[3])
        print(int(r["per_s"]) if r else "")
        return 0
    if args and args[0] == "--per-cpu":
        r = phase(args[1], args[2], args[3])
        print(int(r["per_cpu"]) if r else "")
        return 0
    if args and args[0] == "--interleaved":
        return interleaved(args[1])
    if args and args[0] == "--overload":
        return overload(args[1])
    return main_tables(args[0])


if __name__ == "__main__":
    sys.exit(main())
