#!/usr/bin/env bash
# Builds the Python package into ${HECNN_BUILD_DIR:-build}-python/python/hecnn: the libraries
# math..nn/runtime position-independent, and the pybind11 module (a build of its own: see
# HECNN_PYTHON_PACKAGE in CMakeLists.txt). Extra args go to cmake.
#   HECNN_BUILD_DIR   the main build directory (default: build); this one is <it>-python
#   HECNN_JOBS        parallel compile jobs (default: number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${HECNN_BUILD_DIR:-build}-python"
jobs="${HECNN_JOBS:-$(nproc)}"
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHECNN_PYTHON_PACKAGE=ON "$@" > "$dir.configure.log" 2>&1 || {
  cat "$dir.configure.log"; exit 1; }
cmake --build "$dir" -j "$jobs"
