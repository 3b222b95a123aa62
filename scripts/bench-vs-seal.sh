#!/usr/bin/env bash
# Compares hecnn's BFV primitives with Microsoft SEAL on this machine, interleaved.
#   scripts/bench-vs-seal.sh SEAL_SOURCE_DIR [ROUNDS] [CPU]
# SEAL_SOURCE_DIR: a SEAL 4.x source tree outside this repository (never committed).
# Builds SEAL (Release, no optional deps) into /tmp/hecnn-seal-build, builds
# bench/seal_compare/seal_bfv_bench.cpp against it, then runs hecnn, SEAL, hecnn, SEAL,
# ... pinned to one CPU, single-threaded, and prints medians and the ratio.
#   HECNN_DISABLE_AVX512=1  measures hecnn's portable (non-IFMA) kernels.
#   HECNN_BENCH_BIN=path    hecnn benchmark binary (default build/bench/bfv_ops_bench)
set -euo pipefail
cd "$(dirname "$0")/.."
seal_src="${1:?usage: scripts/bench-vs-seal.sh SEAL_SOURCE_DIR [ROUNDS] [CPU]}"
rounds="${2:-3}"
cpu="${3:-1}"
out=/tmp/hecnn-seal-compare
mkdir -p "$out"
if [ ! -f /tmp/hecnn-seal-build/lib/libseal-4.*.a ] 2>/dev/null; then
  cmake -S "$seal_src" -B /tmp/hecnn-seal-build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSEAL_BUILD_DEPS=OFF \
    -DSEAL_USE_MSGSL=OFF -DSEAL_USE_ZLIB=OFF -DSEAL_USE_ZSTD=OFF > "$out/seal-configure.log"
  cmake --build /tmp/hecnn-seal-build > "$out/seal-build.log"
fi
lib=$(ls /tmp/hecnn-seal-build/lib/libseal-4.*.a | head -1)
g++ -O3 -std=c++17 -I"$seal_src/native/src" -I/tmp/hecnn-seal-build/native/src \
  bench/seal_compare/seal_bfv_bench.cpp "$lib" -lbenchmark -lpthread -o "$out/seal_bfv_bench"
bench="${HECNN_BENCH_BIN:-build/bench/bfv_ops_bench}"
[ -x "$bench" ] || bash scripts/build.sh
for r in $(seq "$rounds"); do
  echo "round $r/$rounds" >&2
  OMP_NUM_THREADS=1 taskset -c "$cpu" "$bench" --benchmark_min_time=0.2 --benchmark_format=json > "$out/hecnn_$r.json"
  taskset -c "$cpu" "$out/seal_bfv_bench" --benchmark_min_time=0.2 --benchmark_format=json > "$out/seal_$r.json"
done
python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def load(prefix):
    d = {}
    for r in range(1, rounds + 1):
        for b in json.load(open(f"{out}/{prefix}_{r}.json"))["benchmarks"]:
            d.setdefault(b["name"].rsplit("/", 1)[0], []).append(b["real_time"])
    return d
h, s = load("hecnn"), load("seal")
print("| operation | hecnn median (µs) | SEAL median (µs) | hecnn / SEAL |")
print("|---|---|---|---|")
for k in h:
    if k not in s:
        continue  # hecnn-only benchmark (e.g. noise_budget)
    hm, sm = statistics.median(h[k]), statistics.median(s[k])
    print(f"| {k} | {hm:.1f} | {sm:.1f} | {hm / sm:.2f} |")
PY
