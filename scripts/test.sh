#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine with the .NET 10 SDK:
#   1. installs what is missing (Debian: libsecp256k1-1, postgresql-15, python3-grpcio, python3-grpc-tools,
#      softhsm2 + opensc (a real PKCS#11 module and pkcs11-tool for the validator-key tests),
#      nodejs/npm if absent; npm: tests/interop/package-lock.json, scripts/buf/package-lock.json,
#      contracts/solidity/package-lock.json (solc and ganache: the anchor contract's compiler and local EVM node)),
#   2. checks the wire contracts: `buf lint` and `buf breaking` against main over contracts/proto (two checks),
#   3. starts a throwaway PostgreSQL on a private socket directory,
#   4. builds the solution (Release, warnings are errors) and runs every test project,
#   5. stops what it started and ends with one line: `N passed, N failed` (`, N skipped` if any), counting the
#      contract checks with the tests.
# Extra arguments go to `dotnet test` (e.g. --filter 'FullyQualifiedName~Crypto').
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=lib/prereqs.sh
source scripts/lib/prereqs.sh

ensure_apt_packages libsecp256k1-1 libssl3 openssl postgresql-15 python3-grpcio python3-grpc-tools softhsm2 opensc
ensure_node
ensure_npm_packages tests/interop
ensure_npm_packages scripts/buf
ensure_npm_packages contracts/solidity

results=$(mktemp -d /tmp/smartcity-tests.XXXXXX)
cleanup() { stop_throwaway_postgres; rm -rf "$results"; }
trap cleanup EXIT
check_contracts "$results"
start_throwaway_postgres

log "building (Release)"
dotnet build SmartCity.Ledger.sln -c Release -nologo -clp:ErrorsOnly -warnaserror

status=0
dotnet test SmartCity.Ledger.sln -c Release --no-build --nologo \
  --logger "trx" --results-directory "$results" --blame-hang-timeout 10m "$@" || status=$?

# Sum the counters of every project's TRX file: passed, failed, notExecuted (= skipped).
read -r passed failed skipped < <(
  cat "$results"/*.trx 2>/dev/null | tr '\n' ' ' | grep -o '<Counters [^>]*>' | awk '
    function attr(name,   m) { return match($0, name "=\"[0-9]+\"") ? substr($0, RSTART + length(name) + 2, RLENGTH - length(name) - 3) + 0 : 0 }
    { p += attr("passed"); f += attr("failed") + attr("error") + attr("timeout") + attr("aborted"); s += attr("notExecuted") }
    END { print p + 0, f + 0, s + 0 }')
passed=$((passed + CONTRACT_CHECKS_PASSED))
failed=$((failed + CONTRACT_CHECKS_FAILED))
if [ "$status" -ne 0 ] && [ "$failed" -eq "$CONTRACT_CHECKS_FAILED" ]; then
  log "dotnet test exited with $status although no test reported a failure (a test host crashed or did not start)"
  failed=$((failed + 1))
fi
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line+=", $skipped skipped"
echo "$line"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
