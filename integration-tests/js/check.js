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
  process.stderr.write(`check.js: ${message}\n` +
    'usage: node check.js --proto-path DIR [--proto-path DIR ...] < input.json\n');
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

function loadAuthorizationClient(includeDirs, target) {
  const definition = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', {
    ...LOADER_OPTIONS,
    includeDirs,
  });
  const pkg = grpc.loadPackageDefinition(definition);
  const Authorization = pkg.envoy.service.auth.v3.Authorization;
  if (typeof Authorization !== 'function') {
    throw new Error('envoy.service.auth.v3.Authorization not found in the loaded protos');
  }
  return new Authorization(target, grpc.credentials.createInsecure());
}

function check(client, request, deadlineMs) {
  return new Promise((resolve) => {
    const deadline = new Date(Date.now() + deadlineMs);
    client.Check(request, { deadline }, (err, response) => {
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
  if (typeof input.target !== 'string' || !Array.isArray(input.requests)) {
    usage('input needs "target" (host:port) and "requests" (an array of CheckRequest objects)');
  }
  const deadlineMs = Number.isInteger(input.deadlineMs) ? input.deadlineMs : 10000;
  const client = loadAuthorizationClient(includeDirs, input.target);
  const results = [];
  try {
    for (const request of input.requests) {
      results.push(await check(client, request, deadlineMs));
    }
  } finally {
    client.close();
  }
  process.stdout.write(JSON.stringify({ results }, null, 2) + '\n');
  process.exitCode = results.some((r) => r.error) ? 1 : 0;
}

main().catch((e) => {
  process.stderr.write(`check.js: ${e.stack || e}\n`);
  process.exit(2);
});
