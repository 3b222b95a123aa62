#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14) into build-fuzz/ and runs each one.
#   scripts/fuzz.sh [seconds-per-target]     (default 60)
#   HECNN_FUZZ_TARGETS="ciphertext params"   run only these
#   HECNN_FUZZ_OPT="-O1 -g1"                 optimisation and debug flags (default -O2 -g)
# Crashes are written to build-fuzz/artifacts/<target>/; the script exits
# non-zero if any target finds one. Corpora grow in build-fuzz/corpus/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
dir="${HECNN_FUZZ_BUILD_DIR:-build-fuzz}"
opt="${HECNN_FUZZ_OPT:--O2 -g}"
cmake -S fuzz -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$opt -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=$opt -DNDEBUG" \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 > "$dir.configure.log" 2>&1 || {
  cat "$dir.configure.log"; exit 1; }
cmake --build "$dir" -j "${HECNN_JOBS:-$(nproc)}"
"$dir/make_corpus" "$dir/seeds"
targets="${HECNN_FUZZ_TARGETS:-params ciphertext plaintext secret_key public_key relin_keys galois_keys inspect seal_eval model plan pgm image onnx}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}"
status=0
for t in $targets; do
  mkdir -p "$dir/corpus/$t" "$dir/artifacts/$t"
  echo "fuzz: $t for ${secs}s"
  if ! "$dir/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=1100000 -timeout=20 \
      -artifact_prefix="$dir/artifacts/$t/" -print_final_stats=1 \
      "$dir/corpus/$t" "$dir/seeds/$t" > "$dir/fuzz_$t.log" 2>&1; then
    echo "fuzz: $t FAILED; see $dir/fuzz_$t.log and $dir/artifacts/$t/"
    tail -40 "$dir/fuzz_$t.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$dir/fuzz_$t.log" | tr '\n' ' '; echo
  fi
done
exit $status
