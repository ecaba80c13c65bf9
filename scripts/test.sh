#!/usr/bin/env bash
# Runs every test file: unit specs beside the code (*.spec.ts) and system tests (test/**/*.test.ts).
# Node 20's test runner takes no globs, so the files are listed here. Extra arguments go to node.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(
  find gen platform pbx-sim pbx-agent gateway cdr-service -name node_modules -prune -o -name '*.spec.ts' -print
  find test -name '*.test.ts'
)
exec node --import tsx --test "$@" "${files[@]}"
