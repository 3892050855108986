// The arbiter of the Nethereum cross-check (tests/SmartCity.Ledger.Tests/Crypto/CrossCheck): hashes
// eth_signTypedData_v4 documents with ethers, an independent implementation of EIP-712.
//
//   node eip712/hash-typed-data.js DOCUMENTS.json
//
// DOCUMENTS.json is a JSON array of typed-data documents; prints a JSON array with, for each, {"digest": "0x…"} or
// {"error": "…"} when ethers refuses it.
"use strict";

const fs = require("fs");
const { ethers } = require("ethers");

const documents = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const results = documents.map((document) => {
  try {
    const types = { ...document.types };
    delete types.EIP712Domain; // ethers derives the domain type from the domain's fields
    return { digest: ethers.TypedDataEncoder.hash(document.domain, types, document.message) };
  } catch (error) {
    return { error: String(error.shortMessage ?? error.message) };
  }
});
process.stdout.write(JSON.stringify(results) + "\n");
