#!/usr/bin/env bash
# SEAL wire-format layer: installs node-seal (Microsoft SEAL 4.1 in wasm) from
# npm into tests/fhe/wire/js/node_modules (gitignored), pinned by the committed
# package-lock.json. The interop tests use it as their oracle and skip with a
# reason when node or node-seal is missing. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=tests/fhe/wire/js
want=$(sed -n 's/.*"node-seal": *"\([^"]*\)".*/\1/p' "$dir/package.json" | head -1)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup/wire: node or npm not found; node-seal interop tests will be skipped" >&2
  exit 0
fi
have=""
if [ -f "$dir/node_modules/node-seal/package.json" ]; then
  have=$(node -p "require('./$dir/node_modules/node-seal/package.json').version" 2>/dev/null || true)
fi
if [ "$have" = "$want" ]; then
  [ -n "${HECNN_SETUP_QUIET:-}" ] || echo "setup/wire: node-seal $have present"
  exit 0
fi
echo "setup/wire: installing node-seal $want into $dir/node_modules"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || {
  echo "setup/wire: npm ci failed; node-seal interop tests will be skipped" >&2
  exit 0
}
