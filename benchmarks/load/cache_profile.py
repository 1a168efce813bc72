#!/usr/bin/env python3
"""Aggregates a JFR recording's execution samples: where a server's CPU went, by frame.

usage: cache_profile.py RECORDING.jfr [TOP]

Prints (1) the share of samples whose stack has a frame containing each of a fixed list of names
(inclusive: the cache lookup, key building, mapping, evaluation, the response, protobuf, Netty) and
(2) the TOP (default 25) hottest self frames (the top frame of each sample). Reads
`jfr print --json --events jdk.ExecutionSample`.
"""
import collections
import json
import subprocess
import sys

INTEREST = [
    ("gRPC Check handler (AuthorizationService.check)", "io.arbiter.extauthz.AuthorizationService.check"),
    ("  request → attributes (CheckRequestMapper.map)", "io.arbiter.extauthz.CheckRequestMapper.map"),
    ("  PolicyEngine.check", "io.arbiter.engine.PolicyEngine.check"),
    ("    DecisionCache.lookup", "io.arbiter.engine.internal.DecisionCache.lookup"),
    ("      DecisionCache.Shape.key (key building)", "io.arbiter.engine.internal.DecisionCache$Shape.key"),
    ("      Caffeine getIfPresent", "com.github.benmanes.caffeine.cache.BoundedLocalCache.getIfPresent"),
    ("    evaluation (PolicyEngine.evaluate)", "io.arbiter.engine.PolicyEngine.evaluate"),
    ("    DecisionCache.join/complete (misses)", "io.arbiter.engine.internal.DecisionCache.join"),
    ("  decision → CheckResponse (CheckResponseMapper)", "io.arbiter.extauthz.CheckResponseMapper"),
    ("protobuf parse (CheckRequest.parseFrom / parser)", "io.envoyproxy.envoy.service.auth.v3.CheckRequest$1.parsePartialFrom"),
    ("gRPC ServerImpl / ServerCalls", "io.grpc.internal.ServerImpl"),
    ("Netty event loop (any *EventLoop.run)", "EventLoop.run"),
]


def top_type(sample):
    st = sample.get("values", {}).get("stackTrace") or {}
    fs = st.get("frames", [])
    return fs[0].get("type", "?") if fs else "?"


def frames(sample):
    st = sample.get("values", {}).get("stackTrace") or {}
    out = []
    for f in st.get("frames", []):
        m = f.get("method", {})
        t = m.get("type", {}).get("name", "?").replace("/", ".")
        out.append(f"{t}.{m.get('name', '?')}")
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    raw = subprocess.run(["jfr", "print", "--json", "--stack-depth", "128", "--events", "jdk.ExecutionSample", sys.argv[1]],
                         check=True, capture_output=True, text=True).stdout
    events = json.loads(raw)["recording"]["events"]
    kinds = collections.Counter(top_type(e) for e in events if frames(e))
    stacks = [frames(e) for e in events]
    stacks = [s for s in stacks if s]
    n = len(stacks)
    print(f"{n} execution samples (JFR, all threads); top frame "
          + ", ".join(f"{k}: {100.0 * v / n:.1f}%" for k, v in kinds.most_common()) + "\n")
    print("| frame (inclusive) | samples | share |")
    print("| --- | ---: | ---: |")
    for label, prefix in INTEREST:
        c = sum(1 for s in stacks if any(prefix in f for f in s))
        print(f"| {label} | {c} | {100.0 * c / n:.1f}% |" if n else f"| {label} | 0 | n/a |")
    print(f"\nTop {top} self frames:\n")
    print("| self frame | samples | share |")
    print("| --- | ---: | ---: |")
    for f, c in collections.Counter(s[0] for s in stacks).most_common(top):
        print(f"| `{f}` | {c} | {100.0 * c / n:.1f}% |")


if __name__ == "__main__":
    main()
