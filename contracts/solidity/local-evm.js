// A local EVM node for development and tests: ganache (pinned in package-lock.json), in this process, on the given
// loopback port, with deterministic accounts. Ganache cannot listen on port 0 (it reports port 0 back), so the caller
// picks a free port from the OS and retries with another if this one was taken meanwhile (exit code 3: port in use).
// Prints one JSON line once it listens:
//   {"rpc":"http://127.0.0.1:PORT","chainId":1337,"pid":PID,"accounts":[{"address":"0x…","privateKey":"0x…"},…]}
// and runs until SIGTERM/SIGINT or until its standard input closes (so it never outlives the harness that started it).
// Usage: node local-evm.js --port N [--chain-id N] [--hardfork NAME] [--accounts N]
//   --hardfork berlin gives a chain without EIP-1559 (legacy gas price), for tests of the fallback.
'use strict';
const path = require('path');
const ganache = require(path.join(__dirname, 'node_modules', 'ganache'));

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const port = Number(option('--port', ''));
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write('local-evm: --port N (1-65535) is required\n');
  process.exit(2);
}
const chainId = Number(option('--chain-id', '1337'));
const hardfork = option('--hardfork', 'shanghai');
const accounts = Number(option('--accounts', '4'));
// Ganache's documented deterministic mnemonic: the same accounts and keys on every run, public test keys only.
const mnemonic = 'myth like bonus scare over problem client lizard pioneer submit female collect';

const server = ganache.server({
  logging: { quiet: true },
  wallet: { mnemonic, totalAccounts: accounts, defaultBalance: 1000 },
  chain: { chainId, networkId: chainId, hardfork },
  miner: { instamine: 'strict' },
});

let closing = false;
async function close() {
  if (closing) return;
  closing = true;
  try { await server.close(); } catch { /* already closed */ }
  process.exit(0);
}

server.listen(port, '127.0.0.1').then(async () => {
  const initial = await server.provider.request({ method: 'eth_accounts', params: [] });
  const keys = server.provider.getInitialAccounts();
  const list = initial.map((address) => ({ address, privateKey: keys[address.toLowerCase()].secretKey }));
  process.stdout.write(JSON.stringify({ rpc: `http://127.0.0.1:${port}`, chainId, hardfork, pid: process.pid, accounts: list }) + '\n');
}, (error) => {
  process.stderr.write(`local-evm: ${error.message}\n`);
  process.exit(/EADDRINUSE|address already in use|listen/i.test(String(error.message)) ? 3 : 1);
});

process.on('SIGTERM', close);
process.on('SIGINT', close);
process.stdin.on('end', close);
process.stdin.on('close', close);
process.stdin.resume();
