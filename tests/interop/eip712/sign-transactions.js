// Signs SmartCity.Ledger transactions with ethers (a signer nobody here wrote) and writes the fixture that
// tests/SmartCity.Ledger.Tests/Domain/EthersInteropTests.cs feeds to the engine.
//
//   cd tests/interop && npm ci && node eip712/sign-transactions.js > eip712/ethers-signed-transactions.json
//
// Keys are the public deterministic test keys of contracts/genesis/README.md (private key = the integer 1 or 6).
// Each entry carries the EIP-712 digest the wallet signed and the transaction id docs/domain.md ("Transaction id")
// defines from it: keccak256("SmartCity.Ledger/tx-id/v1\0" ‖ digest ‖ signer), computed here with ethers alone.
"use strict";
const path = require("path");
const { Wallet, TypedDataEncoder, solidityPackedKeccak256 } = require("ethers");

const schema = require(path.join(__dirname, "../../../contracts/eip712/transactions.json"));
const genesis = require(path.join(__dirname, "../../../contracts/genesis/sample-genesis.json"));
const domain = genesis.eip712Domain;

const key = (n) => "0x" + n.toString(16).padStart(64, "0");
const beijingRegulator = new Wallet(key(1));
const jointCreditOffice = new Wallet(key(6));
const id = (text) => require("ethers").keccak256(require("ethers").toUtf8Bytes(text));

const transactions = [
  {
    wallet: beijingRegulator,
    primaryType: "CreditRecordSubmit",
    message: {
      nonce: "0", recordId: id("ethers-record-1"), subject: "uscc:91350100M000100Y43", category: 1, severity: 3,
      divisionCode: "110105", decidedAt: "1767225600", publicationMonths: 36,
      legalBasis: "Administrative Penalty Law, art. 28", grade: "", payloadDigest: id("payload"),
    },
  },
  {
    wallet: beijingRegulator,
    primaryType: "LicenceIssue",
    message: {
      nonce: "1", identifier: "1.2.156.3005.2.11100000000013338W032.11110000MB0000001Y.2430599.001.H",
      holder: "uscc:91350100M000100Y43", licenceName: "营业执照 Business licence", areaCode: "110105",
      validFrom: "1767225600", validTo: "1924992000", fileDigest: id("licence-file"),
    },
  },
  {
    wallet: jointCreditOffice,
    primaryType: "MemorandumPublish",
    message: {
      nonce: "0", memorandumId: id("ethers-memo-1"), title: "关于对失信被执行人实施联合惩戒的合作备忘录", colour: 2,
      listType: "court-defaulter", measures: ["restrict-high-consumption", "ban-public-procurement"],
      regions: ["BJ", "TJ", "HE", "XA"], effectiveFrom: "1767225600", effectiveTo: "0",
    },
  },
  {
    wallet: beijingRegulator,
    primaryType: "GovernancePropose",
    message: {
      nonce: "2", proposalId: id("ethers-proposal"), action: 1, target: "0x00000000000000000000000000000000000000aa",
      uscc: "91110000802100433B", name: "Bank of Beijing", region: "BJ", roles: 16,
    },
  },
];

async function main() {
  const out = [];
  for (const tx of transactions) {
    const types = { [tx.primaryType]: schema.types[tx.primaryType] };
    const digest = TypedDataEncoder.hash(domain, types, tx.message);
    out.push({
      primaryType: tx.primaryType,
      domain,
      message: tx.message,
      signer: tx.wallet.address,
      digest,
      id: solidityPackedKeccak256(["string", "bytes32", "address"], ["SmartCity.Ledger/tx-id/v1\0", digest, tx.wallet.address]),
      signature: await tx.wallet.signTypedData(domain, types, tx.message),
    });
  }
  process.stdout.write(JSON.stringify({ generator: "ethers " + require("ethers").version, transactions: out }, null, 2) + "\n");
}

main().catch((e) => { console.error(e); process.exit(1); });
