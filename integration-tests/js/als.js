#!/usr/bin/env node
// An independent access-log client: @grpc/grpc-js and @grpc/proto-loader, loading Envoy's own
// envoy/service/accesslog/v3/als.proto and OpenTelemetry's logs_service.proto from .proto
// sources, sending what Envoy's access loggers send:
//   - envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs: several client streams open at
//     once (as Envoy's workers and loggers each keep one), their messages written round-robin,
//     each stream's Identifier only on its first message, many entries per message;
//   - opentelemetry.proto.collector.logs.v1.LogsService/Export: unary calls.
//
// Usage: node als.js --proto-path DIR [--proto-path DIR ...] < input.json
//
//   input.json:  {"target": "127.0.0.1:9191", "deadlineMs": 20000,
//                 "streams": [{"messages": [StreamAccessLogsMessage, ...]}, ...],
//                 "otlp": [ExportLogsServiceRequest, ...]}
//   stdout:      {"streams": [{"response": StreamAccessLogsResponse, "sent": N}
//                             | {"error": {"code", "name", "details"}, "sent": N}, ...],
//                 "otlp": [{"response": ExportLogsServiceResponse} | {"error": {...}}, ...]}
//
// Messages are proto-loader objects with the .proto field names (keepCase: true); 64-bit integers
// (fixed64 time_unix_nano, uint64 byte counts) are decimal strings, enums their names. After the
// last message each stream is half-closed, so the server answers it: Envoy itself never closes
// its stream, but a test needs to know every message was read. Exit 0 when every call completed,
// 1 when one failed (its error is still printed), 2 on bad usage or input.
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
  process.stderr.write(`als.js: ${message}\n` +
    'usage: node als.js --proto-path DIR [--proto-path DIR ...] < input.json\n');
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

function loadClients(includeDirs, target) {
  const definition = protoLoader.loadSync([
    'envoy/service/accesslog/v3/als.proto',
    'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  ], { ...LOADER_OPTIONS, includeDirs });
  const pkg = grpc.loadPackageDefinition(definition);
  const AccessLogService = pkg.envoy.service.accesslog.v3.AccessLogService;
  const LogsService = pkg.opentelemetry.proto.collector.logs.v1.LogsService;
  if (typeof AccessLogService !== 'function' || typeof LogsService !== 'function') {
    throw new Error('AccessLogService or LogsService not found in the loaded protos');
  }
  const credentials = grpc.credentials.createInsecure();
  return {
    als: new AccessLogService(target, credentials),
    otlp: new LogsService(target, credentials),
  };
}

function failure(err) {
  return { code: err.code, name: grpc.status[err.code], details: err.details };
}

/** Opens every stream, writes their messages round-robin, then half-closes them all. */
async function runStreams(client, streams, deadlineMs) {
  const deadline = new Date(Date.now() + deadlineMs);
  const calls = streams.map(() => {
    const result = { sent: 0 };
    let call;
    const done = new Promise((resolve) => {
      call = client.StreamAccessLogs({ deadline }, (err, response) => {
        if (err) {
          result.error = failure(err);
        } else {
          result.response = response;
        }
        resolve(result);
      });
    });
    return { call, done, result };
  });
  const longest = Math.max(0, ...streams.map((s) => s.messages.length));
  for (let m = 0; m < longest; m++) {
    for (let s = 0; s < streams.length; s++) {
      const message = streams[s].messages[m];
      if (message !== undefined) {
        // Respect flow control, as Envoy's buffered writes do.
        if (!calls[s].call.write(message)) {
          await new Promise((resolve) => calls[s].call.once('drain', resolve));
        }
        calls[s].result.sent++;
      }
    }
  }
  calls.forEach((c) => c.call.end());
  return Promise.all(calls.map((c) => c.done));
}

function exportLogs(client, request, deadlineMs) {
  return new Promise((resolve) => {
    const deadline = new Date(Date.now() + deadlineMs);
    client.Export(request, { deadline }, (err, response) => {
      resolve(err ? { error: failure(err) } : { response });
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
  const streams = Array.isArray(input.streams) ? input.streams : [];
  const otlp = Array.isArray(input.otlp) ? input.otlp : [];
  if (typeof input.target !== 'string' || streams.some((s) => !Array.isArray(s.messages))) {
    usage('input needs "target" (host:port), and "streams" entries each with "messages"');
  }
  const deadlineMs = Number.isInteger(input.deadlineMs) ? input.deadlineMs : 20000;
  const clients = loadClients(includeDirs, input.target);
  const output = { streams: [], otlp: [] };
  try {
    output.streams = await runStreams(clients.als, streams, deadlineMs);
    for (const request of otlp) {
      output.otlp.push(await exportLogs(clients.otlp, request, deadlineMs));
    }
  } finally {
    clients.als.close();
    clients.otlp.close();
  }
  process.stdout.write(JSON.stringify(output, null, 2) + '\n');
  process.exitCode = [...output.streams, ...output.otlp].some((r) => r.error) ? 1 : 0;
}

main().catch((e) => {
  process.stderr.write(`als.js: ${e.stack || e}\n`);
  process.exit(2);
});
