// Compiles CheckpointAnchor.sol with the pinned solc-js (package-lock.json) and writes the build outputs:
//   build/CheckpointAnchor.abi.json  the ABI (JSON, two-space indent)
//   build/CheckpointAnchor.bin       the creation bytecode (hex, no 0x)
// Usage: node compile.js [--out DIR]   write the outputs to DIR (default: build/ beside this file)
//        node compile.js --check       recompile and compare with the committed build/ byte for byte (exit 1 if not)
// The source unit is named "CheckpointAnchor.sol" whatever the checkout path, so the bytecode (whose metadata hash
// covers the source and the settings) is the same on every machine.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const here = __dirname;
const sourceName = 'CheckpointAnchor.sol';
const contractName = 'CheckpointAnchor';
const settings = {
  optimizer: { enabled: true, runs: 200 },
  viaIR: false,
  // paris: no PUSH0 (shanghai) or MCOPY/transient storage (cancun), so the contract deploys on any EVM chain since the
  // merge, including consortium chains and local nodes that lag mainnet's hard forks.
  evmVersion: 'paris',
  outputSelection: { [sourceName]: { [contractName]: ['abi', 'evm.bytecode.object'] } },
};

function compile() {
  const input = { language: 'Solidity', sources: { [sourceName]: { content: fs.readFileSync(path.join(here, sourceName), 'utf8') } }, settings };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const problems = (output.errors || []).filter((e) => e.severity === 'error' || e.type === 'Warning');
  if (problems.length > 0) {
    for (const e of problems) process.stderr.write(e.formattedMessage + '\n');
    process.exit(2);
  }
  const contract = output.contracts[sourceName][contractName];
  return {
    'CheckpointAnchor.abi.json': JSON.stringify(contract.abi, null, 2) + '\n',
    'CheckpointAnchor.bin': contract.evm.bytecode.object + '\n',
  };
}

const args = process.argv.slice(2);
const outputs = compile();
if (args[0] === '--check') {
  let same = true;
  for (const [name, content] of Object.entries(outputs)) {
    const committed = path.join(here, 'build', name);
    if (!fs.existsSync(committed) || fs.readFileSync(committed, 'utf8') !== content) {
      process.stderr.write(`build/${name} differs from what solc ${solc.version()} compiles; run: node contracts/solidity/compile.js\n`);
      same = false;
    }
  }
  process.exit(same ? 0 : 1);
}
const out = args[0] === '--out' ? path.resolve(args[1]) : path.join(here, 'build');
fs.mkdirSync(out, { recursive: true });
for (const [name, content] of Object.entries(outputs)) fs.writeFileSync(path.join(out, name), content);
process.stdout.write(`solc ${solc.version()}: ${Object.keys(outputs).map((n) => path.join(out, n)).join(', ')}\n`);
