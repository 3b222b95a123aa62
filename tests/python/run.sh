#!/usr/bin/env bash
# run.sh <python> <package dir> <args...>: runs python with the package built by
# scripts/build-python.sh on its path; skips (fails under HECNN_REQUIRE_DATA) when it is not built.
set -uo pipefail
py="$1"; pkg="$2"; shift 2
if ! ls "$pkg"/hecnn/_hecnn.*.so >/dev/null 2>&1; then
  [ "${HECNN_REQUIRE_DATA:-0}" != 0 ] && { echo "FAIL: no Python package under $pkg (run bash scripts/build-python.sh; HECNN_REQUIRE_DATA is set)"; exit 1; }
  echo "SKIP: no Python package under $pkg (bash scripts/build-python.sh builds it)"; exit 0
fi
PYTHONPATH="$pkg${PYTHONPATH:+:$PYTHONPATH}" exec "$py" "$@"
