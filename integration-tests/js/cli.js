'use strict';
// What the independent clients (check.js, rls.js, als.js) share: the command line, the JSON input
// on stdin, loading services from Envoy's and OpenTelemetry's .proto sources with
// @grpc/proto-loader, unary calls with a deadline, and the JSON output and exit code.
//
// Every client takes `--proto-path DIR [--proto-path DIR ...]`, reads one JSON object on stdin and
// writes one on stdout. Exit 0 when every call completed, 1 when a call itself failed (its error is
// still printed), 2 on bad usage or input.

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

// Messages are plain objects with the .proto field names (keepCase: true); 64-bit integers are
// decimal strings, enums their names, bytes base64 strings. Decoding uses defaults: false, so a
// field left at its default is absent.
const LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: String,
  defaults: false,
  oneofs: true,
};

/** Prints what was wrong and how the client is used, and exits 2. */
function usage(script, message) {
  process.stderr.write(`${script}: ${message}\n` +
    `usage: node ${script} --proto-path DIR [--proto-path DIR ...] < input.json\n`);
  process.exit(2);
}

/** The --proto-path directories of argv (at least one), absolute. */
function protoPaths(script, argv) {
  const includeDirs = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--proto-path' && i + 1 < argv.length) {
      includeDirs.push(path.resolve(argv[++i]));
    } else {
      usage(script, `unknown argument ${argv[i]}`);
    }
  }
  if (includeDirs.length === 0) {
    usage(script, 'at least one --proto-path is required');
  }
  return includeDirs;
}

/** The JSON object on stdin. */
function readInput(script) {
  try {
    return JSON.parse(fs.readFileSync(0, 'utf8'));
  } catch (e) {
    return usage(script, `stdin is not JSON: ${e.message}`);
  }
}

/** The input's deadlineMs when it is an integer, else fallbackMs. */
function deadlineOf(input, fallbackMs) {
  return Number.isInteger(input.deadlineMs) ? input.deadlineMs : fallbackMs;
}

/**
 * The client constructors of the services named by their full names (e.g.
 * 'envoy.service.auth.v3.Authorization'), loaded from protoFiles (relative to includeDirs).
 */
function loadServices(includeDirs, protoFiles, serviceNames) {
  const definition = protoLoader.loadSync(protoFiles, { ...LOADER_OPTIONS, includeDirs });
  const pkg = grpc.loadPackageDefinition(definition);
  return serviceNames.map((name) => {
    const service = name.split('.').reduce((o, part) => (o ? o[part] : undefined), pkg);
    if (typeof service !== 'function') {
      throw new Error(`${name} not found in the loaded protos`);
    }
    return service;
  });
}

/** A client of Service to target, over plaintext (as the tests' Arbiter listens). */
function connect(Service, target) {
  return new Service(target, grpc.credentials.createInsecure());
}

/** A failed call as {code, name, details}. */
function failure(err) {
  return { code: err.code, name: grpc.status[err.code], details: err.details };
}

/** One unary call of client[method]: resolves {response} or {error}, never rejects. */
function unary(client, method, request, deadlineMs) {
  return new Promise((resolve) => {
    const deadline = new Date(Date.now() + deadlineMs);
    client[method](request, { deadline }, (err, response) => {
      resolve(err ? { error: failure(err) } : { response });
    });
  });
}

/** Writes output as JSON; the exit code is 1 when any of results has an error, else 0. */
function finish(output, results) {
  process.stdout.write(JSON.stringify(output, null, 2) + '\n');
  process.exitCode = results.some((r) => r.error) ? 1 : 0;
}

/** Runs main; an exception it did not expect exits 2 with its stack. */
function run(script, main) {
  main().catch((e) => {
    process.stderr.write(`${script}: ${e.stack || e}\n`);
    process.exit(2);
  });
}

module.exports = {
  usage, protoPaths, readInput, deadlineOf, loadServices, connect, failure, unary, finish, run,
};
