#!/usr/bin/env bash
# The consensus simulator over many seeds (docs/consensus.md, "Simulator"): every seed is one deterministic run with
# its own validators, faults, Byzantine behaviour and network; the run fails on the first broken invariant.
#   bash scripts/consensus-soak.sh                 100,000 seeds from seed 1 on the simulated curve, with a fixed
#                                                  validator set and then with validator-set changes (two seed spaces)
#   bash scripts/consensus-soak.sh 20000 500001    20,000 seeds of each kind from seed 500,001
#   SMARTCITY_SIM_SET_CHANGES=1 bash scripts/consensus-soak.sh 10000    only the set-change seeds (0: only fixed sets)
#   SMARTCITY_SIM_REAL_CRYPTO=1 bash scripts/consensus-soak.sh 2000    real secp256k1 (about 5x the CPU per seed)
# Prints the summary line (seeds, failures, time, events, progress after healing) and, for each failed seed, the
# command that replays it with a trace. Exit code 0 when every seed passed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=lib/prereqs.sh
source scripts/lib/prereqs.sh
ensure_apt_packages libsecp256k1-1

seeds=${1:-100000}
first=${2:-1}
log "building the simulator (Release)"
dotnet build tests/SmartCity.Ledger.Tests -c Release -nologo -clp:ErrorsOnly -v:quiet >/dev/null
log "simulating $seeds seeds from $first"
status=0
SMARTCITY_SIM_SEEDS=$seeds SMARTCITY_SIM_FIRST_SEED=$first \
  dotnet test tests/SmartCity.Ledger.Tests -c Release --no-build --nologo \
  --filter "FullyQualifiedName~Soak_runs_the_number_of_seeds" --logger "console;verbosity=detailed" \
  | sed -n 's/^ \{1,\}\([0-9][0-9]* seeds from\)/\1/p; s/^ \{1,\}\(FAILED .*\)/\1/p; s/^ \{3,\}\(t=.*\|replay: .*\)/  \1/p' || status=$?
exit "$status"
