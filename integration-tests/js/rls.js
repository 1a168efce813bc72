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

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: String,
  defaults: false,
  oneofs: true,
};

function usage(message) {
  process.stderr.write(`rls.js: ${message}\n` +
    'usage: node rls.js --proto-path DIR [--proto-path DIR ...] < input.json\n');
  process.exit(2);
}

function parseArgs(argv) {
  const includeDirs = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--proto-path' && i + 1 < argv.length) {
      includeDirs.push(path.resolve(argv[++i]));
    } else {
      usage(`unknown argument ${argv[i]}`);
    }
  }
  if (includeDirs.length === 0) {
    usage('at least one --proto-path is required');
  }
  return { includeDirs };
}

function loadRateLimitClient(includeDirs, target) {
  const definition = protoLoader.loadSync('envoy/service/ratelimit/v3/rls.proto', {
    ...LOADER_OPTIONS,
    includeDirs,
  });
  const pkg = grpc.loadPackageDefinition(definition);
  const RateLimitService = pkg.envoy.service.ratelimit.v3.RateLimitService;
  if (typeof RateLimitService !== 'function') {
    throw new Error('envoy.service.ratelimit.v3.RateLimitService not found in the loaded protos');
  }
  return new RateLimitService(target, grpc.credentials.createInsecure());
}

function shouldRateLimit(client, request, deadlineMs) {
  return new Promise((resolve) => {
    const deadline = new Date(Date.now() + deadlineMs);
    client.ShouldRateLimit(request, { deadline }, (err, response) => {
      if (err) {
        resolve({
          error: { code: err.code, name: grpc.status[err.code], details: err.details },
        });
      } else {
        resolve({ response });
      }
    });
  });
}

async function main() {
  const { includeDirs } = parseArgs(process.argv.slice(2));
  let input;
  try {
    input = JSON.parse(fs.readFileSync(0, 'utf8'));
  } catch (e) {
    usage(`stdin is not JSON: ${e.message}`);
  }
  const concurrentMode = Array.isArray(input.targets);
  if ((!concurrentMode && typeof input.target !== 'string') || !Array.isArray(input.requests)
      || (concurrentMode && (input.targets.length === 0
          || input.targets.some((t) => typeof t !== 'string')))) {
    usage('input needs "target" (host:port) or "targets" (an array of them), and "requests"'
      + ' (an array of RateLimitRequest objects)');
  }
  const deadlineMs = Number.isInteger(input.deadlineMs) ? input.deadlineMs : 10000;
  if (concurrentMode) {
    await concurrent(includeDirs, input, deadlineMs);
    return;
  }
  const client = loadRateLimitClient(includeDirs, input.target);
  const results = [];
  try {
    for (const request of input.requests) {
      results.push(await shouldRateLimit(client, request, deadlineMs));
    }
  } finally {
    client.close();
  }
  process.stdout.write(JSON.stringify({ results }, null, 2) + '\n');
  process.exitCode = results.some((r) => r.error) ? 1 : 0;
}

// Every request in flight at once (at most input.concurrency), round-robin over the targets.
async function concurrent(includeDirs, input, deadlineMs) {
  const clients = input.targets.map((t) => loadRateLimitClient(includeDirs, t));
  const n = input.requests.length;
  const limit = Number.isInteger(input.concurrency) && input.concurrency > 0 ? input.concurrency : n;
  const results = new Array(n);
  let next = 0;
  async function worker() {
    while (next < n) {
      const i = next++;
      const t = i % clients.length;
      const r = await shouldRateLimit(clients[t], input.requests[i], deadlineMs);
      results[i] = { target: t, ...r };
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  } finally {
    clients.forEach((c) => c.close());
  }
  process.stdout.write(JSON.stringify({ results }, null, 2) + '\n');
  process.exitCode = results.some((r) => r.error) ? 1 : 0;
}

main().catch((e) => {
  process.stderr.write(`rls.js: ${e.stack || e}\n`);
  process.exit(2);
});
