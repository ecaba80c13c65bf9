#!/usr/bin/env bash
# Runs every test file: unit specs beside the code (*.spec.ts) and system tests (test/**/*.test.ts).
# Node 20's test runner takes no globs, so the files are listed here (CALLMESH_TEST_FILES picks
# some instead). Extra arguments go to node.
#
# First the real servers (scripts/servers): those not running are started, their settings
# (servers.sh env) exported, and on exit only the ones started here are stopped. A server that
# cannot start fails the run at once with its message: no suite is skipped silently.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t started < <(bash scripts/servers/servers.sh down)
if ((${#started[@]} > 0)); then
  trap 'bash scripts/servers/servers.sh stop "${started[@]}" || true' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if ! bash scripts/servers/servers.sh start "${started[@]}"; then
    echo "npm test: the servers the tests need could not start (message above)" >&2
    exit 1
  fi
fi
while IFS= read -r line; do
  [[ -n $line ]] && export "${line?}"
done < <(bash scripts/servers/servers.sh env)

if [[ -n ${CALLMESH_TEST_FILES:-} ]]; then
  read -ra files <<<"$CALLMESH_TEST_FILES" # e.g. npm run test:faults
  node --import tsx --test "$@" "${files[@]}"
  exit
fi

# Most files wait on timers and sockets, not the CPU: two at a time (Node's default on 2 cores
# is one). The fault run kills the shared Kafka and FerretDB, so it runs alone, after the rest.
faults=test/pipeline-faults.test.ts
mapfile -t files < <(
  find gen platform pbx-sim pbx-agent gateway cdr-service -name node_modules -prune -o -name '*.spec.ts' -print
  find test -name '*.test.ts' ! -path "$faults"
)
status=0
node --import tsx --test --test-concurrency="${CALLMESH_TEST_CONCURRENCY:-2}" "$@" "${files[@]}" || status=$?
node --import tsx --test "$@" "$faults" || status=$?
exit "$status"
