#!/usr/bin/env bash
# CI: the SEAL interop tests skip (GTEST_SKIP) when node or node-seal is
# missing; on CI they must have run, so fail if the oracle is not usable.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=tests/fhe/wire/js
node -e "require('./$dir/node_modules/node-seal/package.json')" || {
  echo "ci: node-seal is not installed in $dir (scripts/setup.d/wire.sh); SEAL interop tests were skipped" >&2
  exit 1
}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
node "$dir/oracle.js" gen --out "$out" --scheme bfv --n 4096 | grep -q '"ok":true'
echo "ci: node-seal $(node -p "require('./$dir/node_modules/node-seal/package.json').version") oracle works"
