#!/usr/bin/env bash
# The real servers for tests and for `npm start` on production adapters (npm run servers:*):
#   servers.sh start   [NAME…]   install what is missing (cached), start what is not running, wait until healthy
#   servers.sh stop    [NAME…]   stop what is running
#   servers.sh restart [NAME…]
#   servers.sh status  [NAME…]   up/down with port and pid; exits 1 if any is down
#   servers.sh env               NAME=value lines that point the system at them: env $(servers.sh env) npm start
#   servers.sh down    [NAME…]   the names of those not up (one a line), for scripts/test.sh
#   servers.sh pid NAME | log NAME
# NAME: postgres, kafka, mongo (FerretDB), s3 (S3Proxy); none means all. Every server listens on
# 127.0.0.1; ports and paths are overridable (docs/servers.md lists the variables).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
ALL=(postgres kafka mongo s3)
for name in "${ALL[@]}"; do
  # shellcheck source=/dev/null
  source "$here/$name.sh"
done

# resolve_names [NAME…]: sets NAMES to the servers named (all when none), in start order.
resolve_names() {
  local n
  NAMES=()
  (($# == 0)) && NAMES=("${ALL[@]}")
  for n in "$@"; do
    case $n in
    postgres | pg) NAMES+=(postgres) ;;
    kafka) NAMES+=(kafka) ;;
    mongo | mongodb | ferretdb) NAMES+=(mongo) ;;
    s3 | s3proxy) NAMES+=(s3) ;;
    *) die "unknown server '$n' (known: ${ALL[*]})" ;;
    esac
  done
}

# is_up NAME: its process is ours and answers its protocol.
is_up() {
  local pid
  pid=$("${1}_pid") || return 1
  "${1}_health" >/dev/null 2>&1
}

with_lock() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/.lock"
  if ! flock -w 600 9; then die "another servers.sh has held $STATE_DIR/.lock for 10 minutes"; fi
}

cmd_start() {
  local n t0 t1 pid installed_s
  resolve_names "$@"
  with_lock
  # Every prerequisite first, so a missing one stops the start before anything runs.
  for n in "${NAMES[@]}"; do "${n}_prereq"; done
  for n in "${NAMES[@]}"; do
    if pid=$("${n}_pid"); then
      if "${n}_health" >/dev/null 2>&1; then
        say "$("${n}_title") already up on $HOST:$("${n}_port") (pid $pid)"
        continue
      fi
      say "$("${n}_title") is running (pid $pid) but not answering yet: waiting"
      wait_healthy "$("${n}_title")" "$pid" "$("${n}_log")" "${n}_health"
      say "$("${n}_title") up on $HOST:$("${n}_port") (pid $pid)"
      continue
    fi
    installed_s=
    if ! "${n}_installed"; then
      t0=$(now_ms)
      "${n}_install"
      installed_s=", installed in $(since_s "$t0")s"
    fi
    t1=$(now_ms)
    "${n}_start"
    say "$("${n}_title") up on $HOST:$("${n}_port") (pid $("${n}_pid"), started in $(since_s "$t1")s$installed_s)"
  done
}

cmd_stop() {
  local n pid
  resolve_names "$@"
  with_lock
  for n in "${NAMES[@]}"; do
    if pid=$("${n}_pid"); then
      "${n}_stop"
      say "$("${n}_title") stopped (was pid $pid)"
    fi
  done
}

cmd_status() {
  local n pid down=0
  resolve_names "$@"
  for n in "${NAMES[@]}"; do
    if pid=$("${n}_pid") && "${n}_health" >/dev/null 2>&1; then
      printf 'up    %-8s %-16s %s:%-5s pid %s\n' "$n" "$("${n}_title")" "$HOST" "$("${n}_port")" "$pid"
    elif [[ -n ${pid:-} ]]; then
      printf 'down  %-8s %-16s %s:%-5s pid %s runs but does not answer (log: %s)\n' "$n" "$("${n}_title")" \
        "$HOST" "$("${n}_port")" "$pid" "$("${n}_log")"
      down=1
    else
      printf 'down  %-8s %-16s %s:%-5s\n' "$n" "$("${n}_title")" "$HOST" "$("${n}_port")"
      down=1
    fi
    pid=
  done
  return "$down"
}

cmd_env() {
  local n
  for n in "${ALL[@]}"; do "${n}_env"; done
}

cmd_down() {
  local n
  resolve_names "$@"
  for n in "${NAMES[@]}"; do is_up "$n" || echo "$n"; done
}

verb=${1:-}
shift || true
case $verb in
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
restart)
  cmd_stop "$@"
  exec 9>&-
  cmd_start "$@"
  ;;
status) cmd_status "$@" ;;
env) cmd_env ;;
down) cmd_down "$@" ;;
pid)
  resolve_names "${1:?pid NAME}"
  "${NAMES[0]}_pid" || exit 1
  echo
  ;;
log)
  resolve_names "${1:?log NAME}"
  "${NAMES[0]}_log"
  echo
  ;;
*)
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
