#!/usr/bin/env bash
# Every benchmark behind a number in the README, in one run (ratios are only comparable within one run).
#   bash scripts/bench.sh           BenchmarkDotNet's default job (tens of minutes)
#   bash scripts/bench.sh --quick   short jobs (2 warm-up, 5 measured iterations): about 20 minutes on 2 cores
# Results: BenchmarkDotNet.Artifacts/results/*.md and the load tool's lines on stdout.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=lib/prereqs.sh
source scripts/lib/prereqs.sh
ensure_apt_packages libsecp256k1-1 postgresql-15 softhsm2

quick=()
[ "${1:-}" = "--quick" ] && quick=(--quick)

dotnet build benchmarks/SmartCity.Benchmarks -c Release -nologo -clp:ErrorsOnly -v:quiet >/dev/null
bench=benchmarks/SmartCity.Benchmarks/bin/Release/net10.0/SmartCity.Benchmarks.dll
run() { (cd benchmarks/SmartCity.Benchmarks && dotnet "../../$bench" "$@"); }

log "signatures, Keccak, EIP-712"; run "${quick[@]}" --filter '*SignatureBenchmarks*'
log "batch verification, 1 thread vs all cores"; run "${quick[@]}" --filter '*BatchVerification*'
log "batch scaling at ordinary priority"; run --batch-scaling
log "block: apply + build 2,000 transactions on 1M state keys"; run "${quick[@]}" --filter '*BlockBuild*'
log "keys: commit seals with an in-memory key vs a PKCS#11 token (SoftHSM2)"; run "${quick[@]}" --filter '*SealSigning*'
log "state tree, state proofs, history tree"; run "${quick[@]}" --filter '*StateTreeBenchmarks*' '*StateProofBenchmarks*' '*HistoryTreeBenchmarks*'

log "storage: embedded append, restart of 1M transactions"
dotnet "$bench" storage append --store embedded --blocks 60
restart_dir=$(mktemp -d /tmp/smartcity-restart.XXXXXX)
dotnet "$bench" storage restart --tx-total 1000000 --dir "$restart_dir"
rm -rf "$restart_dir"

log "storage: PostgreSQL append (throwaway server, synchronous_commit on)"
trap stop_throwaway_postgres EXIT
start_throwaway_postgres
dotnet "$bench" storage append --store postgres --blocks 25 --pg "$SMARTCITY_TEST_PG"
