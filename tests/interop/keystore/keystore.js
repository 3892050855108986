// Web3 Secret Storage keystores through ethers (a client nobody here wrote), for the C# interop tests.
//   node keystore.js decrypt FILE   decrypts FILE; prints {"address": …}
//   node keystore.js encrypt FILE   writes a new random key to FILE (never overwrites); prints {"address": …}
// The password is read from the environment variable KEYSTORE_PASSWORD, never from the command line.
// KEYSTORE_SCRYPT_N (optional) sets scrypt's N when encrypting; ethers' default (2^17) otherwise.
"use strict";
const fs = require("fs");
const { Wallet, decryptKeystoreJson, encryptKeystoreJson } = require("ethers");

async function main() {
  const [command, file] = process.argv.slice(2);
  const password = process.env.KEYSTORE_PASSWORD;
  if (!file || password === undefined) {
    throw new Error("usage: KEYSTORE_PASSWORD=… node keystore.js decrypt|encrypt FILE");
  }

  if (command === "decrypt") {
    const account = await decryptKeystoreJson(fs.readFileSync(file, "utf8"), password);
    return { address: account.address };
  }

  if (command === "encrypt") {
    const wallet = Wallet.createRandom();
    const options = process.env.KEYSTORE_SCRYPT_N ? { scrypt: { N: Number(process.env.KEYSTORE_SCRYPT_N) } } : {};
    const json = await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, password, options);
    fs.writeFileSync(file, json, { flag: "wx", mode: 0o600 });
    return { address: wallet.address };
  }

  throw new Error(`unknown command ${command}`);
}

main().then(
  (result) => console.log(JSON.stringify(result)),
  (error) => {
    console.error(error && error.message ? error.message : String(error));
    process.exit(1);
  },
);
