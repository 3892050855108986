#!/usr/bin/env bash
# The main job: a local 4-region consortium (BJ, TJ, HE, XA) with sample data and a guided tour.
# Installs what is missing (Debian: libsecp256k1-1), builds the node in Release and runs `smartcity demo`.
# Extra arguments go to the tour (e.g. --out DIR to keep the receipts somewhere you choose).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=lib/prereqs.sh
source scripts/lib/prereqs.sh

ensure_apt_packages libsecp256k1-1
log "building the node (Release)"
dotnet build src/CreditApi -c Release -nologo -clp:ErrorsOnly -v:quiet >/dev/null
exec src/CreditApi/bin/Release/net10.0/smartcity demo "$@"
