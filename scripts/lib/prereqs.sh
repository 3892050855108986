# shellcheck shell=bash
# Idempotent installers and the throwaway PostgreSQL used by scripts/test.sh and scripts/demo.sh.
# (SoftHSM needs no service: each PKCS#11 test makes its own token directory and points SOFTHSM2_CONF at it.)
# Each step checks before it acts, so a second run on a ready machine costs a few hundred milliseconds.

log() { printf '[setup] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}

# ensure_apt_packages PKG... — installs the Debian packages that are missing (apt-get update only if needed).
ensure_apt_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_node — Node.js and npm for the interop tests (Debian's packages unless a node is already on PATH).
ensure_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    ensure_apt_packages nodejs npm
  fi
}

# ensure_npm_packages DIR — `npm ci` in DIR unless node_modules already matches package-lock.json.
ensure_npm_packages() {
  local dir=$1 stamp want
  stamp="$dir/node_modules/.smartcity-lock.sha256"
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  log "installing npm packages in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" > "$stamp"
}

# start_throwaway_postgres — initdb + start a private PostgreSQL 15 cluster: its own data directory and its own
# Unix-socket directory, no TCP listener at all (listen_addresses=''), so it never collides with the system
# cluster or another run. Exports SMARTCITY_TEST_PG and PG_THROWAWAY_DIR; stop_throwaway_postgres ends it.
start_throwaway_postgres() {
  local bin=/usr/lib/postgresql/15/bin run=()
  PG_THROWAWAY_DIR=$(mktemp -d /tmp/smartcity-pg.XXXXXX)
  export PG_THROWAWAY_DIR
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$PG_THROWAWAY_DIR"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$bin/initdb" -D "$PG_THROWAWAY_DIR/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$PG_THROWAWAY_DIR/initdb.log" 2>&1 \
    || { cat "$PG_THROWAWAY_DIR/initdb.log" >&2; return 1; }
  "${run[@]}" "$bin/pg_ctl" -D "$PG_THROWAWAY_DIR/data" -w -t 60 -l "$PG_THROWAWAY_DIR/server.log" \
    -o "-c listen_addresses='' -k $PG_THROWAWAY_DIR -p 5432 -c max_connections=200 -c shared_buffers=256MB" start >/dev/null \
    || { cat "$PG_THROWAWAY_DIR/server.log" >&2; return 1; }
  export SMARTCITY_TEST_PG="Host=$PG_THROWAWAY_DIR;Port=5432;Username=postgres;Database=postgres;Pooling=true"
  log "throwaway PostgreSQL running (socket dir $PG_THROWAWAY_DIR)"
}

stop_throwaway_postgres() {
  [ -n "${PG_THROWAWAY_DIR:-}" ] && [ -d "$PG_THROWAWAY_DIR/data" ] || return 0
  local run=()
  [ "$(id -u)" = 0 ] && run=(runuser -u postgres --)
  "${run[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$PG_THROWAWAY_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_THROWAWAY_DIR"
  PG_THROWAWAY_DIR=
}

# contracts_base_ref — the commit whose contracts/proto `buf breaking` compares against: the last commit of main
# (a local branch in a worktree or a clone of main, else origin/main); empty when there is none.
contracts_base_ref() {
  local ref
  for ref in refs/heads/main refs/remotes/origin/main; do
    if git rev-parse -q --verify "$ref^{commit}" >/dev/null 2>&1; then
      git rev-parse "$ref^{commit}"
      return 0
    fi
  done
  return 0
}

# check_contracts RESULTS_DIR — `buf lint` and `buf breaking` over contracts/proto (config: contracts/proto/buf.yaml).
# The breaking check compares with contracts/proto as committed on main, extracted with `git archive` (works in a
# worktree, whose .git is a file, and in a plain clone). Sets CONTRACT_CHECKS_PASSED and CONTRACT_CHECKS_FAILED.
check_contracts() {
  local results=$1 buf base against
  buf="$PWD/scripts/buf/node_modules/.bin/buf"
  CONTRACT_CHECKS_PASSED=0
  CONTRACT_CHECKS_FAILED=0
  if (cd contracts/proto && "$buf" lint) >"$results/buf-lint.log" 2>&1; then
    CONTRACT_CHECKS_PASSED=$((CONTRACT_CHECKS_PASSED + 1))
    log "buf lint contracts/proto: clean"
  else
    CONTRACT_CHECKS_FAILED=$((CONTRACT_CHECKS_FAILED + 1))
    log "buf lint contracts/proto FAILED:"
    cat "$results/buf-lint.log" >&2
  fi

  base=$(contracts_base_ref)
  if [ -z "$base" ] || ! git cat-file -e "$base:contracts/proto" 2>/dev/null; then
    log "buf breaking: no contracts/proto on main to compare with; skipped"
    return 0
  fi
  against=$(mktemp -d "$results/contracts-main.XXXXXX")
  git archive "$base" contracts/proto | tar -x -C "$against"
  if (cd contracts/proto && "$buf" breaking . --against "$against/contracts/proto") >"$results/buf-breaking.log" 2>&1; then
    CONTRACT_CHECKS_PASSED=$((CONTRACT_CHECKS_PASSED + 1))
    log "buf breaking contracts/proto against main ${base:0:12}: no breaking change"
  else
    CONTRACT_CHECKS_FAILED=$((CONTRACT_CHECKS_FAILED + 1))
    log "buf breaking contracts/proto against main ${base:0:12} FAILED:"
    cat "$results/buf-breaking.log" >&2
  fi
}
