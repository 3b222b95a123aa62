#!/usr/bin/env bash
# Compares hecnn's primitives with Microsoft SEAL (optionally with Intel HEXL) on this machine, interleaved
# (hecnn, SEAL, hecnn, SEAL, ...), pinned to one CPU, single-threaded.
#   scripts/bench-vs-seal.sh SEAL_SOURCE_DIR [ROUNDS] [CPU] [SCHEME] [FILTER]
# SEAL_SOURCE_DIR: a SEAL 4.x source tree outside this repository (never committed).
# SCHEME: bfv (default), bgv or ckks; FILTER: a Google Benchmark regex (default: all).
# Builds SEAL (Release, no optional deps) into /tmp/hecnn-seal-build if needed, builds
# bench/seal_compare/seal_<scheme>_bench.cpp against it, runs both, and prints per-operation
# medians over the rounds (wall and CPU time) and the hecnn / SEAL ratio of each.
#   HEXL_SOURCE_DIR=dir     also an Intel HEXL source tree (outside the repository): HEXL is
#                           built into /tmp/hecnn-hexl-install and SEAL with SEAL_USE_INTEL_HEXL
#                           into /tmp/hecnn-seal-hexl-build, and SEAL+HEXL is the baseline
#                           (needs libcpu-features-dev, installed here if missing).
#   HECNN_DISABLE_AVX512=1  measures hecnn's portable (non-IFMA) kernels.
#   HECNN_BENCH_BIN=path    hecnn benchmark binary (default build/bench/<scheme>_ops_bench)
#   HECNN_BUILD_DIR=dir     build directory holding the default binary (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
seal_src="${1:?usage: scripts/bench-vs-seal.sh SEAL_SOURCE_DIR [ROUNDS] [CPU] [bfv|bgv|ckks] [FILTER]}"
rounds="${2:-3}"
cpu="${3:-1}"
scheme="${4:-bfv}"
filter="${5:-.}"
case "$scheme" in
  bfv|bgv|ckks) ;;
  *) echo "bench-vs-seal: unknown scheme '$scheme' (bfv, bgv or ckks)" >&2; exit 2 ;;
esac
out="/tmp/hecnn-seal-compare-$scheme${HEXL_SOURCE_DIR:+-hexl}"
mkdir -p "$out"
seal_build=/tmp/hecnn-seal-build
seal_flags=()
extra_libs=()
if [ -n "${HEXL_SOURCE_DIR:-}" ]; then
  seal_build=/tmp/hecnn-seal-hexl-build
  hexl_install=/tmp/hecnn-hexl-install
  if ! ls "$hexl_install"/lib*/libhexl.a > /dev/null 2>&1; then
    if ! ls /usr/lib/*/cmake/CpuFeatures > /dev/null 2>&1; then
      sudo apt-get install -y libcpu-features-dev > "$out/apt.log" 2>&1 || apt-get install -y libcpu-features-dev > "$out/apt.log" 2>&1
    fi
    echo "bench-vs-seal: building Intel HEXL (log $out/hexl-build.log)" >&2
    cmake -S "$HEXL_SOURCE_DIR" -B /tmp/hecnn-hexl-build -G Ninja -DCMAKE_BUILD_TYPE=Release -DHEXL_BENCHMARK=OFF \
      -DHEXL_TESTING=OFF -DHEXL_SHARED_LIB=OFF -DCMAKE_INSTALL_PREFIX="$hexl_install" > "$out/hexl-configure.log"
    cmake --build /tmp/hecnn-hexl-build > "$out/hexl-build.log"
    cmake --install /tmp/hecnn-hexl-build > /dev/null
  fi
  seal_flags=(-DSEAL_USE_INTEL_HEXL=ON "-DCMAKE_PREFIX_PATH=$hexl_install")
  extra_libs=("$(ls "$hexl_install"/lib*/libhexl.a | head -1)" -lcpu_features)  # SEAL's archive does not include HEXL
fi
if ! ls "$seal_build"/lib/libseal-4.*.a > /dev/null 2>&1; then
  echo "bench-vs-seal: building SEAL${HEXL_SOURCE_DIR:+ with HEXL} (log $out/seal-build.log)" >&2
  cmake -S "$seal_src" -B "$seal_build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSEAL_BUILD_DEPS=OFF \
    -DSEAL_USE_MSGSL=OFF -DSEAL_USE_ZLIB=OFF -DSEAL_USE_ZSTD=OFF "${seal_flags[@]}" > "$out/seal-configure.log"
  cmake --build "$seal_build" > "$out/seal-build.log"
fi
lib=$(ls "$seal_build"/lib/libseal-4.*.a | head -1)
g++ -O3 -std=c++17 -I"$seal_src/native/src" -I"$seal_build"/native/src \
  "bench/seal_compare/seal_${scheme}_bench.cpp" "$lib" "${extra_libs[@]}" -lbenchmark -lpthread -o "$out/seal_bench"
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
