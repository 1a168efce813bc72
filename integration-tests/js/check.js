#!/usr/bin/env node
// An independent ext_authz client: @grpc/grpc-js and @grpc/proto-loader, loading Envoy's own
// envoy/service/auth/v3/external_auth.proto from .proto sources, calling
// envoy.service.auth.v3.Authorization/Check the way Envoy's ext_authz filter does.
//
// Usage: node check.js --proto-path DIR [--proto-path DIR ...] < input.json
//
//   input.json:  {"target": "127.0.0.1:9191", "deadlineMs": 10000,
//                 "requests": [CheckRequest, ...]}
//   stdout:      {"results": [{"response": CheckResponse}
//                             | {"error": {"code", "name", "details"}}, ...]}
//
// Messages are proto-loader objects with the .proto field names (keepCase: true), so a request is
// written like Envoy's proto JSON but in snake_case: {"attributes": {"source": {"address":
// {"socket_address": {...}}}}}. Bytes fields (header_map[].raw_value) are base64 strings both
// ways, 64-bit integers decimal strings, enums their names. Decoding uses defaults: false, so a
// field left at its default is absent: a google.protobuf.BoolValue set to false decodes as {}
// (the wrapper is present, its `value` is not), an unset one not at all.
//
// The requests run one after another, each as its own unary call, so the results line up with
// the requests. Exit 0 when every call completed (allowed or denied alike), 1 when a call itself
// failed (its error is still printed), 2 on bad usage or input.
'use strict';

const cli = require('./cli');

const SCRIPT = 'check.js';

async function main() {
  const includeDirs = cli.protoPaths(SCRIPT, process.argv.slice(2));
  const input = cli.readInput(SCRIPT);
  if (typeof input.target !== 'string' || !Array.isArray(input.requests)) {
    cli.usage(SCRIPT, 'input needs "target" (host:port) and "requests" (an array of CheckRequest objects)');
  }
  const deadlineMs = cli.deadlineOf(input, 10000);
  const [Authorization] = cli.loadServices(includeDirs, 'envoy/service/auth/v3/external_auth.proto',
    ['envoy.service.auth.v3.Authorization']);
  const client = cli.connect(Authorization, input.target);
  const results = [];
  try {
    for (const request of input.requests) {
      results.push(await cli.unary(client, 'Check', request, deadlineMs));
    }
  } finally {
    client.close();
  }
  cli.finish({ results }, results);
}

cli.run(SCRIPT, main);
