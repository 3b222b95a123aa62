#!/usr/bin/env bash
# ThreadSanitizer run of the tests that use evaluators, encryptors and the
# executor from several threads (issue 11): builds build-tsan with
# -fsanitize=thread, where math::parallel_for runs on std::thread instead of
# OpenMP (TSan cannot see libgomp's synchronisation, so OpenMP would report
# false races and hide real ones), then runs the fast tier of the math, rlwe,
# bfv and ckks tests (the evaluator tests that share one evaluator between
# threads among them). Exits non-zero on any report.
#   scripts/tsan.sh [gtest filter]      (default: every test of those suites)
#   HECNN_TSAN_SUITES="test_nn_runtime"       the runtime suite (48 tests, clean,
#                                             37 min under TSan on 2 cores, 2026-12-02)
# Took about 4 minutes on 2 cores (build ~3.5, tests ~0.5), 2026-12-01.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${HECNN_TSAN_BUILD_DIR:-build-tsan}"
filter="${1:-*}"
suites="${HECNN_TSAN_SUITES:-test_math test_fhe_rlwe test_fhe_bfv test_fhe_ckks}"
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHECNN_TSAN=ON \
  -DHECNN_BUILD_TRAIN=OFF -DHECNN_BUILD_BENCH=OFF > "$dir.configure.log" 2>&1 || {
  cat "$dir.configure.log"; exit 1; }
# shellcheck disable=SC2086
cmake --build "$dir" -j "${HECNN_JOBS:-$(nproc)}" --target $suites
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:${TSAN_OPTIONS:-}"
status=0
for t in $suites; do
  start=$(date +%s)
  if "$dir/tests/$t" --gtest_brief=1 --gtest_filter="$filter" > "$dir/$t.log" 2>&1; then
    echo "tsan: $t clean: $(grep -E '^\[  PASSED  \]' "$dir/$t.log" | tr -s ' ') ($(( $(date +%s) - start )) s)"
  else
    echo "tsan: $t FAILED; see $dir/$t.log"
    grep -A30 "WARNING: ThreadSanitizer" "$dir/$t.log" | head -60 || tail -40 "$dir/$t.log"
    status=1
  fi
done
exit $status
