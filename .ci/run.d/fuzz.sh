#!/usr/bin/env bash
# CI: build the SEAL wire-format fuzz targets with clang-14/libFuzzer and run
# each briefly (10 s per target, 12 targets). scripts/fuzz.sh runs them longer.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/fuzz.sh "${HECNN_CI_FUZZ_SECONDS:-10}"
