# A MongoDB-wire server: FerretDB v1.24 (Apache-2.0) on its SQLite backend, built from the Go
# module proxy's source. Production targets a real MongoDB replica set: see docs/servers.md.
# Sourced by servers.sh.
#
# Why not a plain `go install …/cmd/ferretdb@v1.24.2`: that binary panics at start ("Invalid
# build/version/version.txt") because the release's version file is generated, not in the module.
# So the module is downloaded (go mod download), the version file written, and cmd/ferretdb built.

FERRETDB_VERSION=${CALLMESH_FERRETDB_VERSION:-v1.24.2}
MONGO_PORT=$(port_var CALLMESH_MONGO_PORT 57017)
MONGO_DB=callmesh
FERRETDB_HOME="$CACHE_DIR/ferretdb/$FERRETDB_VERSION"
MONGO_DIR="$STATE_DIR/mongo"

mongo_title() { printf 'FerretDB %s' "$FERRETDB_VERSION"; }
mongo_port() { printf '%s' "$MONGO_PORT"; }
mongo_env() { printf 'MONGODB_URL=mongodb://%s:%s/%s\n' "$HOST" "$MONGO_PORT" "$MONGO_DB"; }

mongo_installed() { [[ -x $FERRETDB_HOME/bin/ferretdb ]]; }

mongo_prereq() {
  mongo_installed && return 0
  go_env
  go_version_at_least 1 24 || die "Go 1.24 or newer is needed to build FerretDB $FERRETDB_VERSION (found $(go env GOVERSION)): install a newer Go"
}

mongo_install() {
  mongo_installed && return 0
  go_env
  say "FerretDB $FERRETDB_VERSION: building from the Go module proxy's source into $FERRETDB_HOME"
  local log="$CACHE_DIR/ferretdb-build.log" src="$FERRETDB_HOME/src" dir
  mkdir -p "$FERRETDB_HOME"
  if ! dir=$(cd "$CACHE_DIR" && timeout "${CALLMESH_INSTALL_TIMEOUT:-1200}" go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" 2>"$log" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') || [[ -z $dir ]]; then
    show_log "go mod download" "$log"
    die "could not download github.com/FerretDB/FerretDB@$FERRETDB_VERSION from the Go module proxy (log above)"
  fi
  rm -rf "$src"
  cp -R "$dir" "$src"
  chmod -R u+w "$src"
  printf '%s\n' "$FERRETDB_VERSION" >"$src/build/version/version.txt"
  if ! (cd "$src" && timeout "${CALLMESH_INSTALL_TIMEOUT:-1200}" go build -trimpath -o "$FERRETDB_HOME/bin/ferretdb.tmp" ./cmd/ferretdb) >>"$log" 2>&1; then
    show_log "go build" "$log"
    die "building FerretDB failed (log above)"
  fi
  mv "$FERRETDB_HOME/bin/ferretdb.tmp" "$FERRETDB_HOME/bin/ferretdb"
  rm -rf "$src"
}

mongo_pid() { pid_from "$MONGO_DIR/ferretdb.pid" ferretdb; }
mongo_health() { ping mongo "$HOST" "$MONGO_PORT"; }

mongo_start() {
  local log="$MONGO_DIR/ferretdb.log"
  mkdir -p "$MONGO_DIR/data"
  ensure_port_free FerretDB "$MONGO_PORT" CALLMESH_MONGO_PORT
  spawn "$log" "$MONGO_DIR/ferretdb.pid" "$FERRETDB_HOME/bin/ferretdb" \
    --handler=sqlite "--sqlite-url=file:$MONGO_DIR/data/" \
    "--listen-addr=$HOST:$MONGO_PORT" "--state-dir=$MONGO_DIR" \
    --telemetry=disable --debug-addr=- --log-level=info
  wait_healthy FerretDB "$(cat "$MONGO_DIR/ferretdb.pid")" "$log" mongo_health
}

mongo_stop() {
  local pid
  pid=$(mongo_pid) || return 0
  stop_pid FerretDB "$pid" 30
}

mongo_log() { printf '%s' "$MONGO_DIR/ferretdb.log"; }
