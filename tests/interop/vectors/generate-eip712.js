// Generates EIP-712 and Keccak-256 test vectors with ethers (a second, independent implementation) for the C#
// tests. Deterministic: a fixed-seed PRNG drives every choice, so rerunning rewrites byte-identical files.
//
//   cd tests/interop && npm ci && node vectors/generate-eip712.js
//
// Output: tests/SmartCity.Ledger.Tests/Crypto/Vectors/eip712-ethers.json and keccak-ethers.json.
"use strict";

const fs = require("fs");
const path = require("path");
const { ethers } = require("ethers");

const VECTOR_COUNT = 200;
const SEED = 0x5eed712;
const OUT_DIR = path.join(__dirname, "..", "..", "SmartCity.Ledger.Tests", "Crypto", "Vectors");

// mulberry32: small, well-known 32-bit PRNG; good enough to pick shapes and values reproducibly.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(SEED);
const int = (n) => Math.floor(random() * n);
const pick = (items) => items[int(items.length)];
const chance = (p) => random() < p;
const randomBytes = (n) => Uint8Array.from({ length: n }, () => int(256));

const STRINGS = [
  "", "Hello, Bob!", "Beijing-Tianjin-Hebei", "京津冀协同发展", "雄安新区信用信息共享平台",
  "统一社会信用代码 91110000MA01ABCD2X", "失信被执行人", "Grüße, Zürich", "🚀 credit ✓", "a\"quote\\and\nnewline",
];
const NAMES = ["Person", "Wallet", "Licence", "Region", "Record", "Measure", "Entry", "Mail", "Court", "Bank", "Attestation", "Memo"];

function randomString() {
  if (chance(0.7)) {
    return pick(STRINGS);
  }
  // Random CJK Unified Ideographs, some ASCII and a character outside the BMP.
  let text = "";
  for (let i = int(12); i >= 0; i--) {
    text += chance(0.6) ? String.fromCodePoint(0x4e00 + int(0x5000)) : chance(0.9) ? String.fromCharCode(0x20 + int(0x5f)) : "𠀋";
  }
  return text;
}

function randomElementaryType() {
  switch (int(8)) {
    case 0: return "bool";
    case 1: return "address";
    case 2: return "string";
    case 3: return "bytes";
    case 4: return `bytes${1 + int(32)}`;
    case 5: return `int${8 * (1 + int(32))}`;
    default: return `uint${8 * (1 + int(32))}`;
  }
}

function randomArraySuffix() {
  const dims = chance(0.7) ? 0 : chance(0.8) ? 1 : 2;
  let suffix = "";
  for (let i = 0; i < dims; i++) {
    suffix += chance(0.5) ? "[]" : `[${1 + int(3)}]`;
  }
  return suffix;
}

// A random tree of struct types under one primary type (ethers requires every type to be reachable from it).
function randomTypes() {
  const types = {};
  const names = [...NAMES].sort(() => random() - 0.5);
  let next = 0;
  function defineStruct(depth) {
    const name = names[next++];
    types[name] = [];
    const fieldCount = 1 + int(5);
    for (let i = 0; i < fieldCount; i++) {
      let type;
      if (depth < 3 && next < names.length && chance(0.25)) {
        type = defineStruct(depth + 1);
      } else {
        type = randomElementaryType();
      }
      types[name].push({ name: `f${i}_${type.replace(/[^A-Za-z0-9]/g, "")}`.slice(0, 24), type: type + randomArraySuffix() });
    }
    return name;
  }
  const primaryType = defineStruct(0);
  return { types, primaryType };
}

// Each integer is written in one of the JSON forms eth_signTypedData_v4 accepts: decimal string, 0x-hex string
// (non-negative) or a plain JSON number (when exactly representable).
function formatInteger(value) {
  const form = int(3);
  if (form === 1 && value >= 0n) {
    return "0x" + value.toString(16);
  }
  if (form === 2 && value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER)) {
    return Number(value);
  }
  return value.toString();
}

function randomInteger(signed, bits) {
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  switch (int(6)) {
    case 0: return 0n;
    case 1: return max;
    case 2: return signed ? min : 1n;
    case 3: return signed ? -1n : max - 1n;
    default: {
      const raw = BigInt(ethers.hexlify(randomBytes(bits / 8)));
      return signed ? raw - (1n << BigInt(bits - 1)) : raw;
    }
  }
}

// Returns [value for ethers, value for the JSON document].
function randomValue(type, types) {
  const array = type.match(/^(.*)\[(\d*)\]$/);
  if (array) {
    const length = array[2] === "" ? int(4) : parseInt(array[2]);
    const pairs = Array.from({ length }, () => randomValue(array[1], types));
    return [pairs.map((p) => p[0]), pairs.map((p) => p[1])];
  }
  if (types[type]) {
    const forEthers = {};
    const forJson = {};
    for (const field of types[type]) {
      [forEthers[field.name], forJson[field.name]] = randomValue(field.type, types);
    }
    return [forEthers, forJson];
  }
  if (type === "bool") {
    const b = chance(0.5);
    return [b, b];
  }
  if (type === "address") {
    const address = ethers.getAddress(ethers.hexlify(randomBytes(20)));
    return [address, chance(0.5) ? address : address.toLowerCase()];
  }
  if (type === "string") {
    const s = randomString();
    return [s, s];
  }
  if (type === "bytes") {
    const hex = ethers.hexlify(randomBytes(int(80)));
    return [hex, hex];
  }
  const fixed = type.match(/^bytes(\d+)$/);
  if (fixed) {
    const hex = ethers.hexlify(randomBytes(parseInt(fixed[1])));
    return [hex, hex];
  }
  const integer = type.match(/^(u?)int(\d+)$/);
  const value = randomInteger(integer[1] === "", parseInt(integer[2]));
  return [value, formatInteger(value)];
}

function randomDomain() {
  const domain = {};
  const json = {};
  if (chance(0.8)) domain.name = json.name = pick(["SmartCity.Ledger", "Ether Mail", "京津冀信用链", ""]);
  if (chance(0.7)) domain.version = json.version = pick(["1", "2", "0.1.0"]);
  if (chance(0.8)) {
    const chainId = pick([1n, 3101n, 0n, (1n << 256n) - 1n, BigInt(int(1e9))]);
    domain.chainId = chainId;
    json.chainId = chance(0.5) && chainId < 1n << 53n ? Number(chainId) : chainId.toString();
  }
  if (chance(0.4)) {
    const contract = ethers.getAddress(ethers.hexlify(randomBytes(20)));
    domain.verifyingContract = json.verifyingContract = contract;
  }
  if (chance(0.3)) domain.salt = json.salt = ethers.hexlify(randomBytes(32));
  return { domain, json };
}

function randomPrivateKey() {
  for (;;) {
    const key = randomBytes(32);
    const k = BigInt(ethers.hexlify(key));
    if (k > 0n && k < 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n) {
      return ethers.hexlify(key);
    }
  }
}

function eip712Vectors() {
  const vectors = [];
  while (vectors.length < VECTOR_COUNT) {
    const { types, primaryType } = randomTypes();
    const [value, jsonMessage] = randomValue(primaryType, types);
    const { domain, json: jsonDomain } = randomDomain();
    const encoder = ethers.TypedDataEncoder.from(types);
    const digest = ethers.TypedDataEncoder.hash(domain, types, value);
    const privateKey = randomPrivateKey();
    const signingKey = new ethers.SigningKey(privateKey);
    const signature = signingKey.sign(digest).serialized;
    const address = ethers.computeAddress(privateKey);
    if (ethers.verifyTypedData(domain, types, value, signature) !== address) {
      throw new Error("ethers does not recover its own signature");
    }

    // Most documents carry EIP712Domain as eth_signTypedData_v4 payloads do; some leave it to be derived.
    const documentTypes = { ...types };
    if (chance(0.85)) {
      documentTypes.EIP712Domain = ["name", "version", "chainId", "verifyingContract", "salt"]
        .filter((name) => jsonDomain[name] !== undefined)
        .map((name) => ({ name, type: { name: "string", version: "string", chainId: "uint256", verifyingContract: "address", salt: "bytes32" }[name] }));
    }
    vectors.push({
      typedData: { types: documentTypes, primaryType, domain: jsonDomain, message: jsonMessage },
      encodeType: encoder.encodeType(primaryType),
      digest,
      privateKey,
      signature,
      address,
    });
  }
  return vectors;
}

function keccakVectors() {
  return [0, 1, 31, 32, 135, 136, 137, 200, 271, 272, 273, 1000].map((length) => {
    const data = Uint8Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff);
    return { input: ethers.hexlify(data), hash: ethers.keccak256(data) };
  });
}

const header = { generator: "tests/interop/vectors/generate-eip712.js", ethers: ethers.version, seed: SEED };
fs.writeFileSync(path.join(OUT_DIR, "eip712-ethers.json"), JSON.stringify({ ...header, vectors: eip712Vectors() }, null, 1) + "\n");
fs.writeFileSync(path.join(OUT_DIR, "keccak-ethers.json"), JSON.stringify({ ...header, vectors: keccakVectors() }, null, 1) + "\n");
