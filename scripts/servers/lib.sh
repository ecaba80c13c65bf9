# Shared by scripts/servers/*.sh (sourced, not run): paths, ports, process and wait helpers.
#
# State (data dirs, logs, pid files) lives in $CALLMESH_SERVERS_DIR (default: the repo's .servers/).
# Downloads and builds are cached in $CALLMESH_CACHE_DIR (default: ${XDG_CACHE_HOME:-$HOME/.cache}/callmesh);
# the cache is used when present and never required: a cold machine rebuilds it.

SERVERS_SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SERVERS_SCRIPTS_DIR/../.." && pwd)
STATE_DIR=${CALLMESH_SERVERS_DIR:-$REPO_DIR/.servers}
CACHE_DIR=${CALLMESH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/callmesh}
HOST=127.0.0.1 # every server listens on loopback only

# How long one server may take to become healthy after its process started, in seconds.
START_TIMEOUT=${CALLMESH_SERVERS_START_TIMEOUT:-90}

say() { printf '[servers] %s\n' "$*"; }
warn() { printf '[servers] %s\n' "$*" >&2; }
die() {
  printf '[servers] error: %s\n' "$*" >&2
  exit 1
}

# port_var NAME DEFAULT: the value of env var NAME (a TCP port) or DEFAULT; dies on a non-port.
port_var() {
  local value=${!1:-$2}
  [[ $value =~ ^[0-9]+$ ]] && ((value > 0 && value < 65536)) || die "$1=$value is not a TCP port"
  printf '%s' "$value"
}

now_ms() { date +%s%3N; }
# since_s START_MS: seconds since START_MS with one decimal.
since_s() {
  local ms=$(($(now_ms) - $1))
  printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}

# port_open PORT: true when something accepts TCP connections on $HOST:PORT.
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# pid_alive PID [PATTERN]: the process exists (and its command line contains PATTERN).
pid_alive() {
  [[ $1 =~ ^[0-9]+$ ]] && kill -0 "$1" 2>/dev/null || return 1
  # A zombie (killed, not yet reaped) is dead.
  [[ $(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) != Z ]] || return 1
  [[ -z ${2:-} ]] && return 0
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# pid_from FILE [PATTERN]: prints the pid in FILE's first line if that process is alive.
pid_from() {
  local pid
  [[ -f $1 ]] || return 1
  pid=$(head -n 1 "$1" 2>/dev/null | tr -d '[:space:]')
  pid_alive "$pid" "${2:-}" && printf '%s' "$pid"
}

# spawn LOG PIDFILE CMD...: runs CMD detached (own session, stdin closed, output appended to LOG).
spawn() {
  local log=$1 pidfile=$2
  shift 2
  printf '\n===== %s start: %s\n' "$(date -u +%FT%TZ)" "$*" >>"$log"
  setsid "$@" >>"$log" 2>&1 </dev/null 9>&- &
  printf '%s\n' "$!" >"$pidfile"
}

# show_log NAME LOG: the tail of a server's log, for a failure message.
show_log() {
  [[ -f $2 ]] || return 0
  printf '[servers] last lines of %s (%s):\n' "$1" "$2" >&2
  tail -n "${CALLMESH_SERVERS_LOG_LINES:-40}" "$2" | sed 's/^/    /' >&2
}

# wait_healthy NAME PID LOG CHECK...: polls CHECK until it succeeds, the process dies, or START_TIMEOUT.
wait_healthy() {
  local name=$1 pid=$2 log=$3
  shift 3
  local deadline=$(($(date +%s) + START_TIMEOUT))
  while :; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if ! pid_alive "$pid"; then
      show_log "$name" "$log"
      die "$name exited during start-up (pid $pid); see its log above: $log"
    fi
    if (($(date +%s) >= deadline)); then
      show_log "$name" "$log"
      die "$name did not become healthy within ${START_TIMEOUT}s (pid $pid still running; set CALLMESH_SERVERS_START_TIMEOUT to wait longer); log: $log"
    fi
    sleep 0.2
  done
}

# stop_pid NAME PID [SECONDS]: SIGTERM, then SIGKILL if it has not exited in time.
stop_pid() {
  local name=$1 pid=$2 wait_s=${3:-30} i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < wait_s * 10; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  warn "$name (pid $pid) did not stop in ${wait_s}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

# ping PROTOCOL ARGS...: a protocol-level health check (scripts/servers/ping.mjs), bounded in time.
ping() { node "$SERVERS_SCRIPTS_DIR/ping.mjs" "$@"; }

# ensure_port_free NAME PORT VAR: fails when something that is not ours already listens on PORT.
ensure_port_free() {
  if port_open "$2"; then
    die "$1: port $HOST:$2 is already in use by another process; stop it or pick another port with $3=…"
  fi
}

# java_bin: the java to use (JAVA_HOME first), or dies naming what to install.
java_bin() {
  local java=${JAVA_HOME:+$JAVA_HOME/bin/}java version major
  command -v "$java" >/dev/null 2>&1 || die "Java 17 or newer is needed (no java found): install it, e.g. apt-get install openjdk-17-jre-headless, or set JAVA_HOME"
  version=$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  major=${version%%.*}
  [[ $major =~ ^[0-9]+$ ]] && ((major >= 17)) || die "Java 17 or newer is needed (found ${version:-unknown} at $(command -v "$java")): install openjdk-17-jre-headless or set JAVA_HOME"
  printf '%s' "$java"
}

# mvn_fetch DIR POM_DEPENDENCIES_XML: resolves the dependencies from Maven Central into DIR/libs
# with a generated throwaway pom. Maven's own repository is kept in the cache too.
mvn_fetch() {
  local dir=$1 deps=$2
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed to fetch the server's jars from Maven Central: apt-get install maven"
  mkdir -p "$dir"
  cat >"$dir/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <!-- Generated by scripts/servers: only used to resolve a server's runtime jars. -->
  <groupId>callmesh.servers</groupId>
  <artifactId>runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
$deps
  </dependencies>
</project>
EOF
  rm -rf "$dir/libs.tmp"
  if ! timeout "${CALLMESH_INSTALL_TIMEOUT:-1200}" mvn -B -q -f "$dir/pom.xml" -Dmaven.repo.local="$CACHE_DIR/m2" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$dir/libs.tmp" >"$dir/mvn.log" 2>&1; then
    show_log mvn "$dir/mvn.log"
    die "mvn could not fetch the jars for $dir in ${CALLMESH_INSTALL_TIMEOUT:-1200}s (log above)"
  fi
  rm -rf "$dir/libs"
  mv "$dir/libs.tmp" "$dir/libs"
}

# go_env: the Go settings for builds: module and build caches under the cache dir.
go_env() {
  command -v go >/dev/null 2>&1 || die "Go is needed to build FerretDB (go not found on PATH): install Go 1.24 or newer"
  export GOMODCACHE="$CACHE_DIR/go/mod" GOCACHE="$CACHE_DIR/go/build" GOTOOLCHAIN=local CGO_ENABLED=0
  export GOFLAGS="-buildvcs=false -modcacherw"
}

# go_version_at_least MAJOR MINOR: the go on PATH is at least that version.
go_version_at_least() {
  local v
  v=$(go env GOVERSION 2>/dev/null) || return 1
  v=${v#go}
  local major=${v%%.*} rest=${v#*.}
  local minor=${rest%%[!0-9]*}
  ((major > $1 || (major == $1 && minor >= $2)))
}
