#!/usr/bin/env bash
# Configures and builds hecnn (Release) into ./build. Extra args go to cmake.
#   HECNN_BUILD_DIR   build directory (default: build)
#   HECNN_JOBS        parallel compile jobs (default: number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${HECNN_BUILD_DIR:-build}"
jobs="${HECNN_JOBS:-$(nproc)}"
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" > "$dir.configure.log" 2>&1 || {
  cat "$dir.configure.log"; exit 1; }
cmake --build "$dir" -j "$jobs"
