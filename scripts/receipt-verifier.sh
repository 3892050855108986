#!/usr/bin/env bash
# Builds smartcity-receipt, the stand-alone offline receipt verifier, with Native AOT (one native executable that
# starts in milliseconds), and with --measure times it as a whole process with hyperfine:
#   bash scripts/receipt-verifier.sh                  # -> artifacts/receipt-verifier/smartcity-receipt
#   bash scripts/receipt-verifier.sh --measure        # + one receipt, and a batch of 2,000 (docs/examples/receipts)
# Native AOT needs clang, lld and zlib from Debian (installed here if missing) and the ILCompiler package, which the
# SDK restores from NuGet. `smartcity-receipt verify` takes the same options as `smartcity receipt verify`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/prereqs.sh

ensure_apt_packages clang lld zlib1g-dev libsecp256k1-1
out=artifacts/receipt-verifier
log "publishing smartcity-receipt with Native AOT to $out"
dotnet publish src/ReceiptVerifier/SmartCity.ReceiptVerifier.csproj -c Release -r linux-x64 -p:PublishAot=true -nologo -clp:ErrorsOnly -o "$out" >&2
exe="$out/smartcity-receipt"
"$exe" verify --file docs/examples/receipts/licence-verification.json --genesis docs/examples/receipts/licence-verification-genesis.json

if [ "${1:-}" = "--measure" ]; then
  ensure_apt_packages hyperfine
  batch=$(mktemp -d /tmp/smartcity-receipts.XXXXXX)
  trap 'rm -rf "$batch"' EXIT
  for i in $(seq -w 1 2000); do cp docs/examples/receipts/licence-verification.json "$batch/r$i.json"; done
  hyperfine -N --warmup 5 --runs 50 --export-markdown "$out/one-receipt.md" \
    "$exe verify --file docs/examples/receipts/licence-verification.json --genesis docs/examples/receipts/licence-verification-genesis.json"
  hyperfine -N --warmup 1 --runs 10 --export-markdown "$out/batch-2000.md" \
    "$exe verify --dir $batch --genesis docs/examples/receipts/licence-verification-genesis.json"
fi
