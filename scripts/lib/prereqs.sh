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
