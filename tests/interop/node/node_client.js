// A @grpc/grpc-js client for smartcity.node.v1.NodeService, driven by the .NET interop tests.
//
// Runs one scenario against a node and prints its outcome as one JSON object on stdout, in the same shape as
// tests/interop/python/node_client.py. The services are loaded at run time by @grpc/proto-loader: NodeService from
// contracts/proto, grpc.health.v1.Health and grpc.reflection.v1.ServerReflection from the gRPC project's own .proto
// files as the npm packages grpc-health-check and @grpc/reflection ship them.
//
//   node node_client.js --target HOST:PORT
//                       --scenario unary|deadline|oversized|unimplemented|cancel|health|reflection
//                       [--watch-id ID] [--size BYTES] [--service NAME]
//   node node_client.js ... --scenario submit --transaction HEX [--wait]       SubmitTransaction
//   node node_client.js ... --scenario receipt --transaction-id 0x...           GetReceipt (inclusion)
//   node node_client.js ... --scenario watch-blocks --from-height N --count K   WatchBlocks
'use strict';

const path = require('node:path');
const { parseArgs } = require('node:util');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', '..', 'contracts', 'proto');
const HEALTH_PROTO = require.resolve('grpc-health-check/proto/health/v1/health.proto');
const REFLECTION_PROTO = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');
const LOADER_OPTIONS = { keepCase: true, longs: Number, enums: String, defaults: true };
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
  const result = { code: STATUS_NAMES[error.code], details: error.details, ...extra };
  const rejection = error.metadata?.get('x-rejection-code');
  if (rejection && rejection.length > 0) {
    result.rejection_code = String(rejection[0]);
  }
  return result;
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
  // 2 s leaves room for the first heartbeat on a machine loaded by parallel test runs; Watch would run for ever.
  return watch(client, { interval_ms: 50, watch_id: args['watch-id'] }, { deadline: deadlineIn(2000) });
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

function health(client, args, target) {
  const definition = protoLoader.loadSync(HEALTH_PROTO, LOADER_OPTIONS);
  const Health = grpc.loadPackageDefinition(definition).grpc.health.v1.Health;
  const stub = new Health(target, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    stub.Check({ service: args.service }, { deadline: deadlineIn(10000) }, (error, reply) => {
      stub.close();
      resolve(error ? errorResult(error) : { code: 'OK', status: reply.status });
    });
  });
}

// A FileDescriptorSet (field 1: repeated FileDescriptorProto) from the serialized files reflection returned.
function fileDescriptorSet(files) {
  const parts = [];
  for (const file of files) {
    const length = [];
    let n = file.length;
    do {
      length.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n >>>= 7;
    } while (n > 0);
    parts.push(Buffer.from([0x0a, ...length]), Buffer.from(file));
  }
  return Buffer.concat(parts);
}

function reflectionInfo(stub, requests) {
  return new Promise((resolve, reject) => {
    const responses = [];
    const call = stub.ServerReflectionInfo({ deadline: deadlineIn(10000) });
    call.on('data', (response) => responses.push(response));
    call.on('error', reject);
    call.on('end', () => resolve(responses));
    for (const request of requests) {
      call.write(request);
    }
    call.end();
  });
}

// Server reflection with no .proto of the node: list the services, fetch the file that defines NodeService, load
// it from that descriptor alone and call Status through it.
async function reflection(client, args, target) {
  const definition = protoLoader.loadSync(REFLECTION_PROTO, LOADER_OPTIONS);
  const ServerReflection = grpc.loadPackageDefinition(definition).grpc.reflection.v1.ServerReflection;
  const stub = new ServerReflection(target, grpc.credentials.createInsecure());
  try {
    const [listed, found] = await reflectionInfo(stub, [
      { list_services: '' },
      { file_containing_symbol: 'smartcity.node.v1.NodeService' },
    ]);
    const files = found.file_descriptor_response.file_descriptor_proto;
    const discovered = grpc.loadPackageDefinition(
      protoLoader.loadFileDescriptorSetFromBuffer(fileDescriptorSet(files), LOADER_OPTIONS));
    const DiscoveredNodeService = discovered.smartcity.node.v1.NodeService;
    const node = new DiscoveredNodeService(target, grpc.credentials.createInsecure());
    const reply = await new Promise((resolve, reject) => {
      node.Status({ echo: 'found by reflection' }, { deadline: deadlineIn(10000) }, (error, r) => (error ? reject(error) : resolve(r)));
    });
    node.close();
    return {
      code: 'OK',
      services: listed.list_services_response.service.map((s) => s.name).sort(),
      methods: Object.keys(DiscoveredNodeService.service),
      echo: reply.echo,
      region: reply.region,
    };
  } finally {
    stub.close();
  }
}

// SubmitTransaction with signed canonical bytes; a refusal comes back as a status code and a rejection code.
function submit(client, args) {
  return new Promise((resolve) => {
    const request = { transaction: Buffer.from(args.transaction, 'hex'), wait_for_commit: args.wait };
    client.SubmitTransaction(request, { deadline: deadlineIn(30000) }, (error, response) => {
      resolve(error ? errorResult(error) : { code: 'OK', transaction_id: response.transaction_id, status: response.status, height: response.height });
    });
  });
}

// GetReceipt for a committed transaction: the receipt JSON a bank verifies offline.
function receipt(client, args) {
  return new Promise((resolve) => {
    client.GetReceipt({ transaction_id: args['transaction-id'] }, { deadline: deadlineIn(30000) }, (error, response) => {
      resolve(error ? errorResult(error) : { code: 'OK', receipt_json: response.receipt_json, height: response.height });
    });
  });
}

// WatchBlocks from a height: the first blocks' heights, hashes and certificates.
function watchBlocks(client, args) {
  return new Promise((resolve) => {
    const blocks = [];
    const call = client.WatchBlocks({ from_height: Number(args['from-height']) }, { deadline: deadlineIn(30000) });
    call.on('data', (block) => {
      blocks.push({
        height: block.height,
        block_hash: block.block_hash,
        header: Buffer.from(block.header).toString('hex'),
        certificate: Buffer.from(block.certificate).toString('hex'),
        transaction_ids: block.transaction_ids,
      });
      if (blocks.length === Number(args.count)) {
        call.cancel();
        resolve({ code: 'OK', blocks });
      }
    });
    call.on('error', (error) => resolve(error.code === grpc.status.CANCELLED ? { code: 'OK', blocks } : errorResult(error, { blocks })));
    call.on('end', () => resolve({ code: 'OK', blocks }));
  });
}

async function main() {
  const { values: args } = parseArgs({
    options: {
      target: { type: 'string' },
      scenario: { type: 'string' },
      'watch-id': { type: 'string', default: '' },
      size: { type: 'string', default: '0' },
      service: { type: 'string', default: '' },
      transaction: { type: 'string', default: '' },
      wait: { type: 'boolean', default: false },
      'transaction-id': { type: 'string', default: '' },
      'from-height': { type: 'string', default: '0' },
      count: { type: 'string', default: '1' },
    },
  });
  const scenarios = { unary, deadline, oversized, unimplemented, cancel, health, reflection, submit, receipt, 'watch-blocks': watchBlocks };
  const run = scenarios[args.scenario];
  if (!args.target || !run) {
    console.error(`usage: node node_client.js --target HOST:PORT --scenario ${Object.keys(scenarios).join('|')}`);
    process.exit(2);
  }

  const NodeService = loadNodeService();
  const client = new NodeService(args.target, grpc.credentials.createInsecure());
  try {
    console.log(JSON.stringify(await run(client, args, args.target)));
  } finally {
    client.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
