#!/usr/bin/env bash
# The README's main command: set up, build, run hecnn's main job.
# Extra arguments are passed to the demo subcommand.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
exec ./build/apps/hecnn demo "$@"
