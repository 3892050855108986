// A @grpc/grpc-js client for smartcity.node.v1.NodeService, driven by the .NET interop tests.
//
// Runs one scenario against a node and prints its outcome as one JSON object on stdout, in the same shape as
// tests/interop/python/node_client.py. The service is loaded at run time from contracts/proto by
// @grpc/proto-loader.
//
//   node node_client.js --target HOST:PORT --scenario unary|deadline|oversized|unimplemented|cancel
//                       [--watch-id ID] [--size BYTES]
'use strict';

const path = require('node:path');
const { parseArgs } = require('node:util');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', '..', 'contracts', 'proto');
const STATUS_NAMES = Object.fromEntries(Object.entries(grpc.status).map(([name, code]) => [code, name]));

function loadNodeService() {
  const definition = protoLoader.loadSync('smartcity/node/v1/node.proto', {
    includeDirs: [PROTO_ROOT],
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
  });
  return grpc.loadPackageDefinition(definition).smartcity.node.v1.NodeService;
}

function metadataObject(metadata) {
  const result = {};
  for (const [key, values] of Object.entries(metadata ? metadata.getMap() : {})) {
    result[key] = Buffer.isBuffer(values) ? values.toString('hex') : String(values);
  }
  return result;
}

function errorResult(error, extra = {}) {
  return { code: STATUS_NAMES[error.code], details: error.details, ...extra };
}

function deadlineIn(ms) {
  return new Date(Date.now() + ms);
}

function unary(client) {
  return new Promise((resolve) => {
    const metadata = new grpc.Metadata();
    metadata.set('x-request-id', 'node-42');
    metadata.set('x-trace-bin', Buffer.from([0x00, 0x01, 0xfe, 0xff]));
    let headers = null;
    let trailers = null;
    let response = null;
    const call = client.Status({ echo: 'hello from node' }, metadata, { deadline: deadlineIn(10000) }, (error, reply) => {
      if (error) {
        resolve(errorResult(error));
        return;
      }
      response = reply;
    });
    call.on('metadata', (m) => { headers = m; });
    call.on('status', (status) => {
      trailers = status.metadata;
      if (status.code !== grpc.status.OK || response === null) {
        return;
      }
      resolve({
        code: STATUS_NAMES[status.code],
        version: response.version,
        region: response.region,
        node_id: response.node_id,
        echo: response.echo,
        uptime_ms: response.uptime_ms,
        headers: metadataObject(headers),
        trailers: metadataObject(trailers),
      });
    });
  });
}

function watch(client, request, options, onMessage) {
  return new Promise((resolve) => {
    let received = 0;
    const call = client.Watch(request, new grpc.Metadata(), options);
    call.on('data', () => {
      received += 1;
      onMessage?.(call, received);
    });
    call.on('error', (error) => resolve(errorResult(error, { received })));
    call.on('end', () => resolve({ code: 'OK', received }));
  });
}

async function deadline(client, args) {
  // Connect first, so that the short deadline is spent on the stream and not on setting up the channel.
  await new Promise((resolve, reject) => {
    client.Health({}, { deadline: deadlineIn(10000) }, (error) => (error ? reject(error) : resolve()));
  });
  return watch(client, { interval_ms: 50, watch_id: args['watch-id'] }, { deadline: deadlineIn(500) });
}

function cancel(client, args) {
  return watch(client, { interval_ms: 20, watch_id: args['watch-id'] }, { deadline: deadlineIn(30000) }, (call, received) => {
    if (received === 3) {
      call.cancel();
    }
  });
}

function oversized(client, args) {
  return new Promise((resolve) => {
    client.Status({ echo: 'x'.repeat(Number(args.size)) }, { deadline: deadlineIn(10000) }, (error) => {
      resolve(error ? errorResult(error) : { code: 'OK' });
    });
  });
}

function unimplemented(client) {
  return new Promise((resolve) => {
    const identity = (x) => x;
    client.makeUnaryRequest('/smartcity.node.v1.NodeService/Missing', identity, identity, Buffer.alloc(0),
      { deadline: deadlineIn(10000) }, (error) => resolve(error ? errorResult(error) : { code: 'OK' }));
  });
}

async function main() {
  const { values: args } = parseArgs({
    options: {
      target: { type: 'string' },
      scenario: { type: 'string' },
      'watch-id': { type: 'string', default: '' },
      size: { type: 'string', default: '0' },
    },
  });
  const scenarios = { unary, deadline, oversized, unimplemented, cancel };
  const run = scenarios[args.scenario];
  if (!args.target || !run) {
    console.error(`usage: node node_client.js --target HOST:PORT --scenario ${Object.keys(scenarios).join('|')}`);
    process.exit(2);
  }

  const NodeService = loadNodeService();
  const client = new NodeService(args.target, grpc.credentials.createInsecure());
  try {
    console.log(JSON.stringify(await run(client, args)));
  } finally {
    client.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
