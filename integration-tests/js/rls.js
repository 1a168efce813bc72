#!/usr/bin/env node
// An independent rate-limit client: @grpc/grpc-js and @grpc/proto-loader, loading Envoy's own
// envoy/service/ratelimit/v3/rls.proto from .proto sources, calling
// envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit the way Envoy's rate-limit filter
// does.
//
// Usage: node rls.js --proto-path DIR [--proto-path DIR ...] < input.json
//
//   input.json:  {"target": "127.0.0.1:9191", "deadlineMs": 10000,
//                 "requests": [RateLimitRequest, ...]}
//   stdout:      {"results": [{"response": RateLimitResponse}
//                             | {"error": {"code", "name", "details"}}, ...]}
//
// Messages are proto-loader objects with the .proto field names (keepCase: true):
// {"domain": "edge", "descriptors": [{"entries": [{"key": "user", "value": "alice"}],
//  "limit": {"requests_per_unit": 5, "unit": "MINUTE"}, "hits_addend": {"value": "2"}}],
//  "hits_addend": 1}. 64-bit integers (uint64 wrappers, Duration seconds) are decimal strings,
// enums their names. Decoding uses defaults: false, so a field left at its default is absent: a
// limit_remaining of 0 and a code of UNKNOWN do not appear. dynamic_metadata is a
// google.protobuf.Struct, which proto-loader decodes with camelCase names
// ({"fields": {"decision_ids": {"listValue": {"values": [{"stringValue": ...}]}}}}).
//
// The requests run one after another, each as its own unary call, so the results line up with
// the requests (and a counter they share goes down in order).
//
// Concurrent mode, for several servers sharing one limit: give "targets" instead of "target",
//   {"targets": ["127.0.0.1:9191", "127.0.0.1:9192"], "concurrency": 32, "requests": [...]}
// Request i goes to targets[i % targets.length] (one channel per target), up to "concurrency"
// calls (default: all of them) in flight at once. results[i] still answers requests[i], with
// "target": its index in targets added. Exit 0 when every call completed
// (whatever its overall_code), 1 when a call itself failed (its error is still printed), 2 on bad
// usage or input.
'use strict';

const cli = require('./cli');

const SCRIPT = 'rls.js';

async function main() {
  const includeDirs = cli.protoPaths(SCRIPT, process.argv.slice(2));
  const input = cli.readInput(SCRIPT);
  const concurrentMode = Array.isArray(input.targets);
  if ((!concurrentMode && typeof input.target !== 'string') || !Array.isArray(input.requests)
      || (concurrentMode && (input.targets.length === 0
          || input.targets.some((t) => typeof t !== 'string')))) {
    cli.usage(SCRIPT, 'input needs "target" (host:port) or "targets" (an array of them), and'
      + ' "requests" (an array of RateLimitRequest objects)');
  }
  const deadlineMs = cli.deadlineOf(input, 10000);
  const [RateLimitService] = cli.loadServices(includeDirs, 'envoy/service/ratelimit/v3/rls.proto',
    ['envoy.service.ratelimit.v3.RateLimitService']);
  if (concurrentMode) {
    await concurrent(RateLimitService, input, deadlineMs);
    return;
  }
  const client = cli.connect(RateLimitService, input.target);
  const results = [];
  try {
    for (const request of input.requests) {
      results.push(await cli.unary(client, 'ShouldRateLimit', request, deadlineMs));
    }
  } finally {
    client.close();
  }
  cli.finish({ results }, results);
}

// Every request in flight at once (at most input.concurrency), round-robin over the targets.
async function concurrent(RateLimitService, input, deadlineMs) {
  const clients = input.targets.map((t) => cli.connect(RateLimitService, t));
  const n = input.requests.length;
  const limit = Number.isInteger(input.concurrency) && input.concurrency > 0 ? input.concurrency : n;
  const results = new Array(n);
  let next = 0;
  async function worker() {
    while (next < n) {
      const i = next++;
      const t = i % clients.length;
      const r = await cli.unary(clients[t], 'ShouldRateLimit', input.requests[i], deadlineMs);
      results[i] = { target: t, ...r };
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  } finally {
    clients.forEach((c) => c.close());
  }
  cli.finish({ results }, results);
}

cli.run(SCRIPT, main);
