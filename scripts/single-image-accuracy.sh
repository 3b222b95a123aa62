#!/usr/bin/env bash
# Single-image mode (hecnn infer --mode single) over a test set: accuracy, agreement with
# the float model, per-image server latency (median, 90th percentile) and bytes, one JSON
# file per model under the output directory. The issue's must-show runs:
#   bash scripts/single-image-accuracy.sh out/single               # all three, full sizes (~1.5 h on 2 cores)
#   COUNT=200 bash scripts/single-image-accuracy.sh out/single     # a quicker look
#   ONLY=tenseal2-fashion bash scripts/single-image-accuracy.sh    # one model (names below)
# Models: CryptoNets on MNIST (10,000 images), seed 002's networks on Fashion-MNIST
# (tenseal1: 1,000, tenseal2: 1,000), CryptoDL Model 2 on MNIST (1,000; about 7.5 s per
# image on 2 cores without AVX-512, 4 GiB of Galois keys, 8 GiB of memory).
# OFFSET=K starts at test image K (a long run in parts). Builds hecnn if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-out/single}"
mkdir -p "$out"
[ -x build/apps/hecnn ] || bash scripts/build.sh
run() {  # name model dataset count
  local name="$1" model="$2" dataset="$3" count="${COUNT:-$4}" offset="${OFFSET:-0}"
  if [ -n "${ONLY:-}" ] && [ "$ONLY" != "$name" ]; then return; fi
  local file="$out/$name.json"
  [ "$offset" = 0 ] || file="$out/$name-from-$offset.json"
  echo "== $name: $count images of $dataset from $offset ($(date -u +%H:%M:%S))"
  ./build/apps/hecnn infer --mode single --model "$model" --dataset "$dataset" --count "$count" --offset "$offset" --json >"$file"
  python3 - "$file" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print(f"   N={j['poly_degree']} primes={len(j['coeff_modulus'])} accuracy={100*j['accuracy']:.2f}% "
      f"float={100*j['float_accuracy']:.2f}% agreement={100*j['agreement_with_float']:.2f}% "
      f"server median={j['server_latency_median_s']:.4f}s p90={j['server_latency_p90_s']:.4f}s "
      f"up={j['upload_bytes_per_image']/1000:.1f}kB down={j['download_bytes_per_image']/1000:.1f}kB "
      f"galois={j['galois_key_bytes']/2**20:.1f}MiB ({j['galois_keys']} keys)")
PY
}
run cryptonets-mnist models/cryptonets-x2-mnist.hecnn mnist 10000
run tenseal1-fashion models/fashion-tenseal1-x2.hecnn fashion-mnist 1000
run tenseal2-fashion models/fashion-tenseal2-x2.hecnn fashion-mnist 1000
run cryptodl2-mnist models/cryptodl2-relu3-mnist.hecnn mnist 1000
