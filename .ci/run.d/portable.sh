#!/usr/bin/env bash
# CI: the HE core's fast tests once more on the portable kernels (no AVX-512), so the
# fallback used on CPUs without IFMA stays correct. Uses the Release build from run-tests.sh.
set -euo pipefail
cd "$(dirname "$0")/../../build"
export HECNN_DISABLE_AVX512=1
for t in test_math test_fhe_rlwe test_fhe_bfv test_fhe_bgv test_fhe_ckks; do
  [ -x "tests/$t" ] || continue
  echo "portable kernels: $t"
  "tests/$t" --gtest_brief=1
done
