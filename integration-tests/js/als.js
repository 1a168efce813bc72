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

const cli = require('./cli');

const SCRIPT = 'als.js';

/** Opens every stream, writes their messages round-robin, then half-closes them all. */
async function runStreams(client, streams, deadlineMs) {
  const deadline = new Date(Date.now() + deadlineMs);
  const calls = streams.map(() => {
    const result = { sent: 0 };
    let call;
    const done = new Promise((resolve) => {
      call = client.StreamAccessLogs({ deadline }, (err, response) => {
        if (err) {
          result.error = cli.failure(err);
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

async function main() {
  const includeDirs = cli.protoPaths(SCRIPT, process.argv.slice(2));
  const input = cli.readInput(SCRIPT);
  const streams = Array.isArray(input.streams) ? input.streams : [];
  const otlp = Array.isArray(input.otlp) ? input.otlp : [];
  if (typeof input.target !== 'string' || streams.some((s) => !Array.isArray(s.messages))) {
    cli.usage(SCRIPT, 'input needs "target" (host:port), and "streams" entries each with "messages"');
  }
  const deadlineMs = cli.deadlineOf(input, 20000);
  const [AccessLogService, LogsService] = cli.loadServices(includeDirs, [
    'envoy/service/accesslog/v3/als.proto',
    'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  ], ['envoy.service.accesslog.v3.AccessLogService', 'opentelemetry.proto.collector.logs.v1.LogsService']);
  const als = cli.connect(AccessLogService, input.target);
  const logs = cli.connect(LogsService, input.target);
  const output = { streams: [], otlp: [] };
  try {
    output.streams = await runStreams(als, streams, deadlineMs);
    for (const request of otlp) {
      output.otlp.push(await cli.unary(logs, 'Export', request, deadlineMs));
    }
  } finally {
    als.close();
    logs.close();
  }
  cli.finish(output, [...output.streams, ...output.otlp]);
}

cli.run(SCRIPT, main);
