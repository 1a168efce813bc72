#!/usr/bin/env python3
"""Summarises an overload.sh run directory as markdown (stdout)."""
import pathlib
import re
import sys


def env(path):
    """key=value lines; a line may hold several space-separated pairs when its values have no spaces."""
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split(" ")
            if all("=" in p for p in parts):
                for part in parts:
                    k, v = part.split("=", 1)
                    out[k] = v
            elif "=" in line:
                k, v = line.split("=", 1)
                out[k] = v
    return out


def counters(path):
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def h2load(path):
    text = path.read_text() if path.exists() else ""
    m = re.search(r"finished in [^,]+, ([\d.]+) req/s", text)
    r = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", text)
    t = re.search(r"time for request:\s+(\S+)\s+(\S+)\s+(\S+)", text)
    return {"rps": float(m.group(1)) if m else None,
            "latency": "%s / %s / %s" % (t.group(1), t.group(3), t.group(2)) if t else "?",
            "started": int(r.group(2)) if r else None,
            "done": int(r.group(3)) if r else None, "failed": int(r.group(5)) if r else None,
            "errored": int(r.group(6)) if r else None}


def main():
    out = pathlib.Path(sys.argv[1])
    machine = env(out / "machine.env")
    print("## Overload run %s (git %s)\n" % (machine.get("date", "?"), machine.get("git", "?")))
    print("Machine: %s CPUs, %s; %s. Rules %s, offered load %s× the measured capacity for %s s; "
          "server on CPU %s, h2load and the probe on CPU %s; server JVM `%s`. Load average at start %s, at end %s.\n" % (
              machine.get("nproc"), machine.get("cpu"), machine.get("java"), machine.get("rules"),
              machine.get("factor"), machine.get("duration"), machine.get("server_cpus"),
              machine.get("client_cpus"), machine.get("server_java_opts"),
              machine.get("loadavg_start"), machine.get("loadavg_end")))
    print("| | shedding on (maxQueueTime 200ms) | shedding off (maxQueueTime 0) |")
    print("| --- | --- | --- |")
    rows = []
    data = {}
    for mode in ("shed", "noshed"):
        load = env(out / f"{mode}.load.env")
        idle = env(out / f"{mode}.idle.probe.txt")
        probe = env(out / f"{mode}.probe.txt")
        offer = h2load(out / f"{mode}.offer.h2load.txt")
        before = counters(out / f"{mode}.counters.before")
        after = counters(out / f"{mode}.counters.after")

        def delta(name):
            return int(after.get(name, 0) - before.get(name, 0))

        watch = (out / f"{mode}.watch.txt").read_text().splitlines() if (out / f"{mode}.watch.txt").exists() else []
        health = sorted({l.split("healthz=")[1].split()[0] for l in watch if "healthz=" in l})
        heaps = [int(m.group(1)) for l in watch for m in [re.search(r"heap_used=(\d+)K", l)] if m]
        data[mode] = {
            "capacity (closed loop, req/s)": load.get("capacity"),
            "offered (req/s)": load.get("offered"),
            "answered by the server during the run (req/s, h2load)": "%.0f" % offer["rps"] if offer["rps"] else "?",
            "decided by policy / shed (server counters)": "%d / %d" % (
                delta("arbiter_checks_total{result=\"allow\"}") + delta("arbiter_checks_total{result=\"deny\"}")
                - delta("arbiter_checks_shed_total{reason=\"queue\"}") - delta("arbiter_checks_shed_total{reason=\"concurrency\"}"),
                delta("arbiter_checks_shed_total{reason=\"queue\"}") + delta("arbiter_checks_shed_total{reason=\"concurrency\"}")),
            "load clients: answered / started (h2load)": "%s / %s" % (offer["done"], offer["started"]),
            "**load clients: latency min / mean / max (h2load)**": "**%s**" % offer["latency"],
            "probe idle p50 / p99 (ms)": "%s / %s" % (idle.get("admitted_p50_ms"), idle.get("admitted_p99_ms")),
            "probe sent / admitted / shed / failed": "%s / %s / %s / %s" % (
                probe.get("probe_sent"), probe.get("probe_admitted"), probe.get("probe_shed"), probe.get("probe_failed")),
            "**admitted p50 / p99 / max (ms)**": "**%s / %s / %s**" % (
                probe.get("admitted_p50_ms"), probe.get("admitted_p99_ms"), probe.get("admitted_max_ms")),
            "shed p50 / p99 (ms)": "%s / %s" % (probe.get("shed_p50_ms"), probe.get("shed_p99_ms")),
            "/healthz answers": ", ".join(health) or "?",
            "heap used, max sampled (MB)": "%.0f" % (max(heaps) / 1024) if heaps else "?",
            "process alive after": load.get("alive", "?"),
        }
    for key in data["shed"]:
        print("| %s | %s | %s |" % (key, data["shed"][key], data["noshed"][key]))


if __name__ == "__main__":
    main()
