// A @grpc/grpc-js client for the credit API (smartcity.credit.v1, smartcity.audit.v1), driven by the .NET interop
// tests, with every request signed by ethers as docs/api.md "Authentication" specifies — nothing here shares code
// with the node.
//
// The services are loaded at run time by @grpc/proto-loader from the committed contracts/proto files; the request
// bytes that are signed are the bytes the stub sends (the method's own requestSerialize).
//
// One process runs a whole plan of calls, in order, on one channel per service, and prints one JSON object on stdout:
// {"client":"node","results":{"<name>":{"code":"OK","reply":{…}} | {"code":"OK","replies":[…]} | {"code":"…",…}}}
//
//   node credit_client.js --target HOST:PORT --scenario plan --plan FILE
//
// The plan (JSON):
//   {"chain_id": 8610,
//    "members": {"bank": {"keystore": FILE, "password_file": FILE}, …},
//    "calls": [{"name": "score", "method": "/smartcity.credit.v1.CreditService/GetTrustScore",
//               "request": {…proto field names…}, "member": "bank" | "stranger", "purpose": "CREDIT_CHECK",
//               "mode": "signed" | "unsigned" | "stale" | "tampered" | "replay" | "wrong-chain",
//               "count": N}]}
// "stranger" is a fresh random key that is no member. For a server stream, "count" > 0 cancels the call after that
// many messages (the outcome is then {"code":"CANCELLED","replies":[…]} when grpc-js reports the cancellation).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { parseArgs } = require('node:util');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const ethers = require('ethers');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', '..', 'contracts', 'proto');
const STATUS_NAMES = Object.fromEntries(Object.entries(grpc.status).map(([name, code]) => [code, name]));
const DOMAIN_TAG = Buffer.concat([Buffer.from('SmartCity.Ledger API request v1', 'utf8'), Buffer.from([0])]);
const DEADLINE_MS = 60000;

// The four services by full name, from the committed .proto files. Replies: int64 as decimal strings, bytes as
// base64, enums by name, every field present (as the proto3 JSON mapping of the other clients prints them).
function loadServices() {
  const definition = protoLoader.loadSync(['smartcity/credit/v1/credit.proto', 'smartcity/audit/v1/audit.proto'], {
    includeDirs: [PROTO_ROOT],
    keepCase: true,
    longs: String,
    enums: String,
    bytes: String,
    defaults: true,
  });
  const loaded = grpc.loadPackageDefinition(definition);
  const services = {};
  for (const [pkg, names] of [['smartcity.credit.v1', ['CreditService', 'AttestationService', 'IncentiveService']], ['smartcity.audit.v1', ['AuditService']]]) {
    const namespace = pkg.split('.').reduce((node, part) => node[part], loaded);
    for (const name of names) {
      services[`${pkg}.${name}`] = namespace[name];
    }
  }
  return services;
}

function u32(n) { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; }
function u64(n) { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; }
function i64(n) { const b = Buffer.alloc(8); b.writeBigInt64BE(BigInt(n)); return b; }

// digest = Keccak-256(tag ‖ chainId u64 ‖ len u32 ‖ method ‖ Keccak-256(request protobuf) ‖ timestamp i64 ‖ nonce 16 ‖ len u32 ‖ purpose)
function signedMetadata(key, chainId, method, requestBytes, purpose, timestampMs) {
  const methodBytes = Buffer.from(method, 'utf8');
  const purposeBytes = Buffer.from(purpose, 'utf8');
  const nonce = crypto.randomBytes(16);
  const requestDigest = Buffer.from(ethers.getBytes(ethers.keccak256(requestBytes)));
  const digest = ethers.keccak256(Buffer.concat([
    DOMAIN_TAG, u64(chainId), u32(methodBytes.length), methodBytes, requestDigest,
    i64(timestampMs), nonce, u32(purposeBytes.length), purposeBytes,
  ]));
  const signature = new ethers.SigningKey(key).sign(digest);
  const metadata = new grpc.Metadata();
  metadata.set('x-sc-member', ethers.computeAddress(key));
  metadata.set('x-sc-timestamp', String(timestampMs));
  metadata.set('x-sc-nonce', ethers.hexlify(nonce));
  metadata.set('x-sc-purpose', purpose);
  metadata.set('x-sc-signature', signature.serialized);
  return metadata;
}

// protobuf.js writes a field that is present in the object even when it holds its default value; the canonical
// proto3 encoding the node re-creates leaves such fields out, so the request object leaves them out too.
function withoutDefaults(value) {
  if (Array.isArray(value)) {
    return value.map(withoutDefaults);
  }
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const [field, item] of Object.entries(value)) {
      const isDefault = item === null || item === undefined || item === '' || item === false || item === 0 || item === '0'
        || (Array.isArray(item) && item.length === 0) || (typeof item === 'string' && item.endsWith('_UNSPECIFIED'));
      if (!isDefault) {
        out[field] = withoutDefaults(item);
      }
    }
    return out;
  }
  return value;
}

function refusal(error, replies) {
  const code = error.metadata?.get('x-rejection-code');
  const result = { code: STATUS_NAMES[error.code], details: error.details, rejection_code: code && code.length > 0 ? String(code[0]) : null };
  if (replies) {
    result.replies = replies;
  }
  return result;
}

function unary(client, name, request, metadata) {
  return new Promise((resolve) => {
    client[name](request, metadata, { deadline: new Date(Date.now() + DEADLINE_MS) }, (error, reply) => {
      resolve(error ? refusal(error) : { code: 'OK', reply });
    });
  });
}

// A server stream read to its end, or cancelled by the client after `count` messages.
function serverStream(client, name, request, metadata, count) {
  return new Promise((resolve) => {
    const replies = [];
    let settled = false;
    const settle = (result) => { if (!settled) { settled = true; resolve(result); } };
    const call = client[name](request, metadata, { deadline: new Date(Date.now() + DEADLINE_MS) });
    call.on('data', (reply) => {
      replies.push(reply);
      if (count > 0 && replies.length === count) {
        call.cancel();
      }
    });
    call.on('error', (error) => settle(refusal(error, replies)));
    call.on('status', (status) => {
      if (status.code === grpc.status.OK) {
        settle({ code: 'OK', replies });
      }
    });
  });
}

// The member key from its Web3 Secret Storage keystore, decrypted by ethers (not by anything written here).
function openKey(member) {
  const json = fs.readFileSync(member.keystore, 'utf8');
  const password = fs.readFileSync(member.password_file, 'utf8').split(/\r?\n/)[0];
  return ethers.Wallet.fromEncryptedJsonSync(json, password).privateKey;
}

async function runCall(plan, services, clients, keys, spec) {
  const [, serviceName, methodName] = spec.method.split('/');
  const Service = services[serviceName];
  if (!Service || !Service.service[methodName]) {
    throw new Error(`no method ${spec.method} in the loaded .proto files`);
  }
  const definition = Service.service[methodName];
  if (!clients[serviceName]) {
    clients[serviceName] = new Service(plan.target, grpc.credentials.createInsecure());
  }
  const client = clients[serviceName];
  const mode = spec.mode || 'signed';
  const request = withoutDefaults(spec.request || {});
  const bytes = definition.requestSerialize(request);
  let sent = request;
  if (mode === 'tampered') {
    // Sign one request, send another: the first string field gets one more character.
    const field = Object.keys(request).find((name) => typeof request[name] === 'string');
    sent = { ...request, [field]: `${request[field]}0` };
  }
  let metadata = new grpc.Metadata();
  if (mode !== 'unsigned') {
    if (!keys[spec.member]) {
      keys[spec.member] = spec.member === 'stranger' ? ethers.Wallet.createRandom().privateKey : openKey(plan.members[spec.member]);
    }
    const timestamp = Date.now() - (mode === 'stale' ? 10 * 60 * 1000 : 0);
    const chainId = BigInt(plan.chain_id) + (mode === 'wrong-chain' ? 1n : 0n);
    metadata = signedMetadata(keys[spec.member], chainId, spec.method, bytes, spec.purpose || 'CREDIT_CHECK', timestamp);
  }
  const once = () => (definition.responseStream
    ? serverStream(client, methodName, sent, metadata, spec.count || 0)
    : unary(client, methodName, sent, metadata));
  const result = await once();
  if (mode === 'replay') {
    result.replay = await once();
  }
  return result;
}

async function main() {
  const { values } = parseArgs({
    options: {
      target: { type: 'string' },
      scenario: { type: 'string' },
      plan: { type: 'string' },
    },
  });
  if (values.scenario !== 'plan') {
    throw new Error(`unknown scenario ${values.scenario}`);
  }
  const plan = JSON.parse(fs.readFileSync(values.plan, 'utf8'));
  plan.target = values.target;
  const services = loadServices();
  const clients = {};
  const keys = {};
  const results = {};
  for (const spec of plan.calls) {
    results[spec.name] = await runCall(plan, services, clients, keys, spec);
  }
  for (const client of Object.values(clients)) {
    client.close();
  }
  process.stdout.write(`${JSON.stringify({ client: 'node', results })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
