#!/usr/bin/env bash
# The main job: a local 4-region consortium (BJ, TJ, HE, XA) with sample data and a guided tour.
# Installs what is missing (Debian: libsecp256k1-1; for the anchoring step Node.js/npm and the npm packages pinned in
# contracts/solidity/package-lock.json: ganache and solc), builds the node in Release and runs `smartcity demo`.
# The anchoring step runs on a local ganache this script starts on a free loopback port and stops (by its PID) after
# the tour; if it cannot be started, the tour still runs and says it skipped anchoring and why.
# Extra arguments go to the tour (e.g. --out DIR to keep the receipts somewhere you choose).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=lib/prereqs.sh
source scripts/lib/prereqs.sh

ensure_apt_packages libsecp256k1-1
log "building the node (Release)"
dotnet build src/CreditApi -c Release -nologo -clp:ErrorsOnly -v:quiet >/dev/null

evm_pid="" evm_dir="" evm_args=()
stop_demo_evm() {
  if [ -n "$evm_pid" ]; then
    kill "$evm_pid" 2>/dev/null || true
    wait "$evm_pid" 2>/dev/null || true
    evm_pid=""
  fi
  if [ -n "${evm_in:-}" ]; then exec {evm_in}>&-; evm_in=""; fi
  [ -n "$evm_dir" ] && rm -rf "$evm_dir"
  evm_dir=""
}
trap stop_demo_evm EXIT

# start_demo_evm — a local ganache (contracts/solidity/local-evm.js) on a free loopback port; sets evm_args to
# `--evm-rpc URL --evm-key FILE` (its first funded development account), or `--evm-unavailable REASON`.
start_demo_evm() {
  if ! (ensure_node && ensure_npm_packages contracts/solidity) >"${TMPDIR:-/tmp}/smartcity-demo-evm-install.log" 2>&1; then
    evm_args=(--evm-unavailable "Node.js/npm or the pinned ganache could not be installed (see ${TMPDIR:-/tmp}/smartcity-demo-evm-install.log)")
    return 0
  fi
  evm_dir=$(mktemp -d /tmp/smartcity-demo-evm.XXXXXX)
  local attempt port line
  for attempt in 1 2 3; do
    port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();})')
    rm -f "$evm_dir/in" "$evm_dir/ready"
    mkfifo "$evm_dir/in"
    # Its standard input is a FIFO this script holds open: it exits when the script ends, even if killed.
    node contracts/solidity/local-evm.js --port "$port" <"$evm_dir/in" >"$evm_dir/ready" 2>"$evm_dir/log" &
    evm_pid=$!
    exec {evm_in}>"$evm_dir/in"
    for _ in $(seq 1 600); do
      [ -s "$evm_dir/ready" ] && break
      kill -0 "$evm_pid" 2>/dev/null || break
      sleep 0.1
    done
    if [ -s "$evm_dir/ready" ]; then
      line=$(head -n 1 "$evm_dir/ready")
      node -e 'const j=JSON.parse(process.argv[1]);const a=j.accounts[0];require("fs").writeFileSync(process.argv[2],JSON.stringify({address:a.address,privateKey:a.privateKey}),{mode:0o600});console.log(j.rpc)' \
        "$line" "$evm_dir/submitter.json" >"$evm_dir/rpc"
      evm_args=(--evm-rpc "$(cat "$evm_dir/rpc")" --evm-key "$evm_dir/submitter.json")
      log "local EVM node (ganache) on $(cat "$evm_dir/rpc"), pid $evm_pid"
      return 0
    fi
    local reason; reason=$(tail -n 1 "$evm_dir/log" 2>/dev/null || true)
    kill "$evm_pid" 2>/dev/null || true
    wait "$evm_pid" 2>/dev/null || true
    evm_pid=""
    exec {evm_in}>&-; evm_in=""
  done
  evm_args=(--evm-unavailable "the local EVM node (ganache) did not start: ${reason:-no answer within 60 s}")
}

case " $* " in
  *" --crypto gm "*|*" --crypto=gm "*) ;;   # anchoring is eth-only: the gm tour says so without an EVM node
  *) start_demo_evm ;;
esac

status=0
src/CreditApi/bin/Release/net10.0/smartcity demo "${evm_args[@]}" "$@" || status=$?
exit "$status"
