#!/usr/bin/env bash
# The README's test command: set up, build, run the fast test tier.
#   scripts/run-tests.sh            fast tier (what CI runs)
#   scripts/run-tests.sh ci         the part of the slow tier CI runs (label ci)
#   scripts/run-tests.sh slow       slow tier (labels slow and ci)
#   scripts/run-tests.sh all        both
set -euo pipefail
cd "$(dirname "$0")/.."
tier="${1:-fast}"
bash scripts/setup.sh
bash scripts/build.sh
bash scripts/build-python.sh   # the Python package (build-python/), tested by ctest python_*
cd build
case "$tier" in
  fast|ci) ctest -L "^$tier\$" --output-on-failure -j "$(nproc)" ;;
  slow) ctest -L '^(slow|ci)$' --output-on-failure -j "$(nproc)" ;;
  all) ctest --output-on-failure -j "$(nproc)" ;;
  *) echo "usage: scripts/run-tests.sh [fast|ci|slow|all]" >&2; exit 2 ;;
esac
