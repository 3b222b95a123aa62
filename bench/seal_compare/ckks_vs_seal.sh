#!/usr/bin/env bash
# Compares hecnn's CKKS primitives with Microsoft SEAL on this machine, interleaved
# (hecnn, SEAL, hecnn, SEAL, ...), pinned to one CPU, single-threaded.
#   bench/seal_compare/ckks_vs_seal.sh SEAL_SOURCE_DIR [ROUNDS] [CPU] [FILTER]
# Builds SEAL like scripts/bench-vs-seal.sh (into /tmp/hecnn-seal-build) if needed,
# builds seal_ckks_bench.cpp against it, runs both, and prints per-operation medians
# over the rounds (wall and CPU time) and the hecnn / SEAL ratio of each.
# Needs build/bench/ckks_ops_bench (or HECNN_BUILD_DIR=dir).
set -euo pipefail
cd "$(dirname "$0")/../.."
seal_src="${1:?usage: bench/seal_compare/ckks_vs_seal.sh SEAL_SOURCE_DIR [ROUNDS] [CPU] [FILTER]}"
rounds="${2:-3}"
cpu="${3:-1}"
filter="${4:-.}"
dir="${HECNN_BUILD_DIR:-build}"
out=/tmp/hecnn-seal-compare-ckks
mkdir -p "$out"
if ! ls /tmp/hecnn-seal-build/lib/libseal-4.*.a > /dev/null 2>&1; then
  cmake -S "$seal_src" -B /tmp/hecnn-seal-build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSEAL_BUILD_DEPS=OFF \
    -DSEAL_USE_MSGSL=OFF -DSEAL_USE_ZLIB=OFF -DSEAL_USE_ZSTD=OFF > "$out/seal-configure.log"
  cmake --build /tmp/hecnn-seal-build > "$out/seal-build.log"
fi
lib=$(ls /tmp/hecnn-seal-build/lib/libseal-4.*.a | head -1)
g++ -O3 -std=c++17 -I"$seal_src/native/src" -I/tmp/hecnn-seal-build/native/src \
  bench/seal_compare/seal_ckks_bench.cpp "$lib" -lbenchmark -lpthread -o "$out/seal_ckks_bench"
for r in $(seq "$rounds"); do
  echo "round $r/$rounds" >&2
  OMP_NUM_THREADS=1 taskset -c "$cpu" "$dir/bench/ckks_ops_bench" --benchmark_filter="$filter" \
    --benchmark_min_time=0.2 --benchmark_format=json > "$out/hecnn_$r.json"
  taskset -c "$cpu" "$out/seal_ckks_bench" --benchmark_filter="$filter" --benchmark_min_time=0.2 \
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
        continue
    hw, hc = statistics.median(x[0] for x in h[k]), statistics.median(x[1] for x in h[k])
    sw, sc = statistics.median(x[0] for x in s[k]), statistics.median(x[1] for x in s[k])
    print(f"| {k} | {hw:.1f} / {hc:.1f} | {sw:.1f} / {sc:.1f} | {hw / sw:.2f}, {hc / sc:.2f} |")
PY
