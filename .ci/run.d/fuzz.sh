#!/usr/bin/env bash
# CI: build the SEAL wire-format fuzz targets with clang-14/libFuzzer and run
# each briefly (5 s per target, 14 targets; built at -O1 -g1 to build faster).
# scripts/fuzz.sh runs them longer (-O2 -g by default).
set -euo pipefail
cd "$(dirname "$0")/../.."
HECNN_FUZZ_OPT="${HECNN_FUZZ_OPT:--O1 -g1}" bash scripts/fuzz.sh "${HECNN_CI_FUZZ_SECONDS:-5}"
