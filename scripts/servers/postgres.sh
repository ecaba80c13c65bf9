# PostgreSQL from Debian's `postgresql` package, in a cluster of its own (not the system cluster):
# initdb into the state dir, run by pg_ctl as the `postgres` system user when we are root (the
# server refuses to run as root). Database `callmesh`, user `callmesh` password `callmesh`.
# Sourced by servers.sh.

PG_PORT=$(port_var CALLMESH_PG_PORT 55432)
PG_USER=callmesh
PG_PASSWORD=callmesh
PG_DB=callmesh

postgres_title() { printf 'PostgreSQL'; }
postgres_port() { printf '%s' "$PG_PORT"; }
postgres_env() { printf 'DATABASE_URL=postgres://%s:%s@%s:%s/%s\n' "$PG_USER" "$PG_PASSWORD" "$HOST" "$PG_PORT" "$PG_DB"; }

# The newest Debian PostgreSQL bin dir, or CALLMESH_PG_BINDIR, or wherever pg_config says.
pg_find_bindir() {
  local dir
  if [[ -n ${CALLMESH_PG_BINDIR:-} ]]; then
    printf '%s' "$CALLMESH_PG_BINDIR"
    return
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
    if [[ -x $dir/postgres && -x $dir/initdb && -x $dir/pg_ctl ]]; then
      printf '%s' "$dir"
      return
    fi
  done
  if command -v pg_config >/dev/null 2>&1; then
    dir=$(pg_config --bindir)
    [[ -x $dir/postgres && -x $dir/initdb ]] && printf '%s' "$dir"
  fi
}

# Where the cluster lives. As root the `postgres` user must reach it; when the state dir is
# somewhere it cannot (e.g. under a 0700 home), the cluster goes under /var/lib/callmesh instead.
pg_dir() {
  local dir="$STATE_DIR/postgres"
  if [[ $(id -u) == 0 ]] && ! runuser -u postgres -- test -x "$STATE_DIR" 2>/dev/null; then
    dir="/var/lib/callmesh/$(printf '%s' "$STATE_DIR" | sha1sum | cut -c1-12)/postgres"
  fi
  printf '%s' "$dir"
}
# The socket dir: short paths only (a Unix socket path has a 107-byte limit).
pg_socket_dir() {
  local dir
  dir="$(pg_dir)/run"
  if ((${#dir} > 80)); then dir="/tmp/callmesh-pg-$(printf '%s' "$dir" | sha1sum | cut -c1-12)"; fi
  printf '%s' "$dir"
}

# Runs a PostgreSQL binary as the user the server runs as.
pg_as() {
  if [[ $(id -u) == 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

postgres_prereq() {
  PG_BINDIR=$(pg_find_bindir)
  if [[ -z $PG_BINDIR ]]; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
      say "PostgreSQL binaries not found: installing Debian's postgresql package (apt-get)"
      # Only the binaries are wanted: no system cluster on 5432.
      if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
        mkdir -p /etc/postgresql-common
        printf 'create_main_cluster = false\n' >/etc/postgresql-common/createcluster.conf
      fi
      local log="$CACHE_DIR/apt-postgresql.log"
      mkdir -p "$CACHE_DIR"
      if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; } >"$log" 2>&1; then
        show_log apt-get "$log"
        die "apt-get could not install postgresql (log above); install Debian's postgresql package by hand"
      fi
      PG_BINDIR=$(pg_find_bindir)
    fi
    [[ -n $PG_BINDIR ]] || die "PostgreSQL's server binaries (initdb, postgres, pg_ctl) are needed: install Debian's postgresql package (sudo apt-get install postgresql), or set CALLMESH_PG_BINDIR"
  fi
  if [[ $(id -u) == 0 ]] && ! id postgres >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres ||
      die "could not create the postgres system user (PostgreSQL refuses to run as root)"
  fi
  command -v node >/dev/null 2>&1 || die "Node.js is needed for the health checks"
}

postgres_installed() { [[ -n $(pg_find_bindir) ]]; }
postgres_install() { :; } # Debian's package; postgres_prereq installs it

postgres_pid() { pid_from "$(pg_dir)/data/postmaster.pid" postgres; }

postgres_health() {
  PGPASSWORD=$PG_PASSWORD PGCONNECT_TIMEOUT=3 "${PG_BINDIR:-$(pg_find_bindir)}/psql" -X -q -At \
    -h "$HOST" -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" -c 'select 1' 2>/dev/null | grep -qx 1
}

postgres_start() {
  local dir sock log
  dir=$(pg_dir)
  sock=$(pg_socket_dir)
  log="$dir/postgres.log"
  mkdir -p "$dir" "$sock"
  if [[ $(id -u) == 0 ]]; then chown postgres: "$dir" "$sock"; fi
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    rm -rf "$dir/data"
    say "PostgreSQL: initdb $dir/data"
    if ! pg_as "$PG_BINDIR/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1; then
      show_log initdb "$dir/initdb.log"
      die "initdb failed (log above)"
    fi
    cat >>"$dir/data/postgresql.conf" <<'EOF'

# scripts/servers: a test server for Callmesh
max_connections = 200
log_line_prefix = '%m [%p] %q%u@%d '
EOF
  fi
  # After a SIGKILL the old postmaster may linger unreaped for a moment; PostgreSQL refuses
  # to start while the pid in its lock file exists, so wait for it to go.
  local old i
  old=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)
  for ((i = 0; i < 100; i++)); do
    [[ $old =~ ^[0-9]+$ && -e /proc/$old ]] || break
    sleep 0.1
  done
  ensure_port_free PostgreSQL "$PG_PORT" CALLMESH_PG_PORT
  if ! pg_as "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$log" -w -t "$START_TIMEOUT" \
    -o "-c port=$PG_PORT -c listen_addresses=$HOST -c unix_socket_directories=$sock" start >/dev/null 2>&1 9>&-; then
    show_log PostgreSQL "$log"
    die "PostgreSQL did not start (log above: $log)"
  fi
  # The role and the database, created once; the server's superuser `postgres` uses the socket.
  if ! pg_as "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$PG_PORT" -U postgres -d postgres >>"$log" 2>&1 <<EOF; then
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
  END IF;
END \$\$;
SELECT 'CREATE DATABASE $PG_DB OWNER $PG_USER' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PG_DB') \gexec
EOF
    show_log PostgreSQL "$log"
    die "PostgreSQL: could not create the role and database $PG_DB (log above)"
  fi
  wait_healthy PostgreSQL "$(postgres_pid)" "$log" postgres_health
}

postgres_stop() {
  local dir
  dir=$(pg_dir)
  [[ -n $(postgres_pid) ]] || return 0
  PG_BINDIR=${PG_BINDIR:-$(pg_find_bindir)}
  pg_as "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || {
    local pid
    pid=$(postgres_pid) && stop_pid PostgreSQL "$pid" 10
  }
}

postgres_log() { printf '%s' "$(pg_dir)/postgres.log"; }
