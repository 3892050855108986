// A @grpc/grpc-js client for the credit API (smartcity.credit.v1), driven by the .NET interop tests, with every
// request signed by ethers as docs/api.md "Authentication" specifies — nothing here shares code with the node.
//
// Runs one scenario and prints its outcome as one JSON object on stdout. The services are loaded at run time by
// @grpc/proto-loader from the committed contracts/proto files.
//
//   node credit_client.js --target HOST:PORT --scenario verify-licence --keystore FILE --password-file FILE --chain-id N
//                         --identifier ID [--expected-holder SUBJECT] [--purpose CODE]
//                         [--unsigned] [--replay] [--stale]
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

function loadAttestationService() {
  const definition = protoLoader.loadSync('smartcity/credit/v1/credit.proto', {
    includeDirs: [PROTO_ROOT],
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
  });
  return grpc.loadPackageDefinition(definition).smartcity.credit.v1.AttestationService;
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

function call(client, name, request, metadata) {
  return new Promise((resolve) => {
    client[name](request, metadata, { deadline: new Date(Date.now() + 30000) }, (error, reply) => {
      if (error) {
        const code = error.metadata?.get('x-rejection-code');
        resolve({ code: STATUS_NAMES[error.code], details: error.details, rejection_code: code && code.length > 0 ? String(code[0]) : null });
        return;
      }
      resolve({ code: 'OK', reply });
    });
  });
}

// The member key from its Web3 Secret Storage keystore, decrypted by ethers (not by anything written here).
function openKey(options) {
  const json = fs.readFileSync(options.keystore, 'utf8');
  const password = fs.readFileSync(options['password-file'], 'utf8').split(/\r?\n/)[0];
  return ethers.Wallet.fromEncryptedJsonSync(json, password).privateKey;
}

async function verifyLicence(options) {
  const key = options.unsigned ? null : openKey(options);
  const AttestationService = loadAttestationService();
  const client = new AttestationService(options.target, grpc.credentials.createInsecure());
  const method = '/smartcity.credit.v1.AttestationService/VerifyLicence';
  // Only non-default fields: the canonical proto3 encoding the node re-creates to check the signature.
  const request = { identifier: options.identifier };
  if (options['expected-holder']) {
    request.expected_holder = options['expected-holder'];
  }
  const bytes = AttestationService.service.VerifyLicence.requestSerialize(request);
  const timestamp = Date.now() - (options.stale ? 10 * 60 * 1000 : 0);
  const metadata = options.unsigned
    ? new grpc.Metadata()
    : signedMetadata(key, options['chain-id'], method, bytes, options.purpose || 'LOAN_REVIEW', timestamp);
  const first = await call(client, 'VerifyLicence', request, metadata);
  const result = first.code === 'OK'
    ? {
      code: 'OK',
      identifier: first.reply.licence.identifier,
      holder: first.reply.licence.holder,
      effective_status: first.reply.licence.effective_status,
      holder_matches: first.reply.holder_matches,
      receipt_json: first.reply.receipt_json,
    }
    : first;
  if (options.replay) {
    result.replay = await call(client, 'VerifyLicence', request, metadata);
  }
  client.close();
  return result;
}

async function main() {
  const { values } = parseArgs({
    options: {
      target: { type: 'string' },
      scenario: { type: 'string' },
      keystore: { type: 'string' },
      'password-file': { type: 'string' },
      'chain-id': { type: 'string' },
      identifier: { type: 'string' },
      'expected-holder': { type: 'string' },
      purpose: { type: 'string' },
      unsigned: { type: 'boolean' },
      replay: { type: 'boolean' },
      stale: { type: 'boolean' },
    },
  });
  if (values.scenario !== 'verify-licence') {
    throw new Error(`unknown scenario ${values.scenario}`);
  }
  const result = await verifyLicence(values);
  process.stdout.write(`${JSON.stringify({ client: 'node', ...result })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
