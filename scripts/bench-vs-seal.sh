#!/usr/bin/env bash
# Compares hecnn's primitives with Microsoft SEAL on this machine, interleaved
# (hecnn, SEAL, hecnn, SEAL, ...), pinned to one CPU, single-threaded.
#   scripts/bench-vs-seal.sh SEAL_SOURCE_DIR [ROUNDS] [CPU] [SCHEME] [FILTER]
# SEAL_SOURCE_DIR: a SEAL 4.x source tree outside this repository (never committed).
# SCHEME: bfv (default) or ckks; FILTER: a Google Benchmark regex (default: all).
# Builds SEAL (Release, no optional deps) into /tmp/hecnn-seal-build if needed, builds
# bench/seal_compare/seal_<scheme>_bench.cpp against it, runs both, and prints per-operation
# medians over the rounds (wall and CPU time) and the hecnn / SEAL ratio of each.
#   HECNN_DISABLE_AVX512=1  measures hecnn's portable (non-IFMA) kernels.
#   HECNN_BENCH_BIN=path    hecnn benchmark binary (default build/bench/<scheme>_ops_bench)
#   HECNN_BUILD_DIR=dir     build directory holding the default binary (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
seal_src="${1:?usage: scripts/bench-vs-seal.sh SEAL_SOURCE_DIR [ROUNDS] [CPU] [bfv|ckks] [FILTER]}"
rounds="${2:-3}"
cpu="${3:-1}"
scheme="${4:-bfv}"
filter="${5:-.}"
case "$scheme" in
  bfv|ckks) ;;
  *) echo "bench-vs-seal: unknown scheme '$scheme' (bfv or ckks)" >&2; exit 2 ;;
esac
out="/tmp/hecnn-seal-compare-$scheme"
mkdir -p "$out"
if ! ls /tmp/hecnn-seal-build/lib/libseal-4.*.a > /dev/null 2>&1; then
  cmake -S "$seal_src" -B /tmp/hecnn-seal-build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSEAL_BUILD_DEPS=OFF \
    -DSEAL_USE_MSGSL=OFF -DSEAL_USE_ZLIB=OFF -DSEAL_USE_ZSTD=OFF > "$out/seal-configure.log"
  cmake --build /tmp/hecnn-seal-build > "$out/seal-build.log"
fi
lib=$(ls /tmp/hecnn-seal-build/lib/libseal-4.*.a | head -1)
g++ -O3 -std=c++17 -I"$seal_src/native/src" -I/tmp/hecnn-seal-build/native/src \
  "bench/seal_compare/seal_${scheme}_bench.cpp" "$lib" -lbenchmark -lpthread -o "$out/seal_bench"
bench="${HECNN_BENCH_BIN:-${HECNN_BUILD_DIR:-build}/bench/${scheme}_ops_bench}"
[ -x "$bench" ] || bash scripts/build.sh
for r in $(seq "$rounds"); do
  echo "round $r/$rounds" >&2
  OMP_NUM_THREADS=1 taskset -c "$cpu" "$bench" --benchmark_filter="$filter" --benchmark_min_time=0.2 \
    --benchmark_format=json > "$out/hecnn_$r.json"
  taskset -c "$cpu" "$out/seal_bench" --benchmark_filter="$filter" --benchmark_min_time=0.2 \
    --benchmark_format=json > "$out/seal_$r.json"
done
python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def load(prefix):
    d = {}
    for r in range(1, rounds + 1):
        for b in json.load(open(f"{out}/{prefix}_{r}.json"))["benchmarks"]:
            d.setdefault(b["name"].rsplit("/", 1)[0], []).append((b["real_time"], b["cpu_time"]))
    return d
h, s = load("hecnn"), load("seal")
print("| operation | hecnn wall / CPU (µs) | SEAL wall / CPU (µs) | hecnn / SEAL (wall, CPU) |")
print("|---|---|---|---|")
for k in h:
    if k not in s:
        continue  # hecnn-only benchmark (e.g. noise_budget)
    hw, hc = statistics.median(x[0] for x in h[k]), statistics.median(x[1] for x in h[k])
    sw, sc = statistics.median(x[0] for x in s[k]), statistics.median(x[1] for x in s[k])
    print(f"| {k} | {hw:.1f} / {hc:.1f} | {sw:.1f} / {sc:.1f} | {hw / sw:.2f}, {hc / sc:.2f} |")
PY
