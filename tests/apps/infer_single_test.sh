#!/usr/bin/env bash
# hecnn infer --mode single as a user runs it: a few MNIST test images, one request each,
# the --json fields the issue names, agreement with the float model; options that do not
# apply are refused with a message that names them, before any work. Needs data/mnist.
#   infer_single_test.sh <hecnn binary> <repo root>
set -uo pipefail
hecnn="$(realpath "$1")"; root="$2"
cd "$root"
model=models/cryptonets-x2-mnist.hecnn
if ! ls data/mnist/*t10k* >/dev/null 2>&1; then
  [ "${HECNN_REQUIRE_DATA:-0}" != 0 ] && { echo "FAIL: no MNIST data under data/mnist (HECNN_REQUIRE_DATA is set)"; exit 1; }
  echo "SKIP: no MNIST data under data/mnist"; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
expect_refused() {
  local name="$1" needle="$2"; shift 2
  if "$hecnn" "$@" >"$tmp/out" 2>"$tmp/err"; then echo "FAIL: $name: exit 0"; fail=1; return; fi
  if ! grep -q -- "$needle" "$tmp/err"; then echo "FAIL: $name: stderr lacks '$needle':"; cat "$tmp/err"; fail=1; return; fi
  echo "ok: $name ($(head -c 200 "$tmp/err" | tr '\n' ' '))"
}

if ! "$hecnn" infer --mode single --model "$model" --count 3 --calibrate 16 --json >"$tmp/run.json" 2>"$tmp/err"; then
  echo "FAIL: single run"; cat "$tmp/err"; exit 1
fi
python3 - "$tmp/run.json" <<'PY' || fail=1
import json, sys
j = json.load(open(sys.argv[1]))
need = ["mode", "images", "poly_degree", "coeff_modulus", "galois_keys", "galois_key_bytes", "rotations",
        "server_latency_median_s", "server_latency_p90_s", "encrypt_median_s", "decrypt_median_s",
        "upload_bytes_per_image", "download_bytes_per_image", "accuracy", "float_accuracy",
        "agreement_with_float", "predicted_latency_s", "ops", "security_bits"]
missing = [k for k in need if k not in j]
assert not missing, f"missing fields {missing}"
assert j["mode"] == "single" and j["images"] == 3, j
assert j["security_bits"] == 128
assert j["agreement_with_float"] == 1.0, j["agreement_with_float"]
assert 0 < j["server_latency_median_s"] <= j["server_latency_p90_s"], j
assert 0 < j["upload_bytes_per_image"] <= 500_000, j["upload_bytes_per_image"]
assert j["galois_keys"] == len(j["rotation_steps"]) > 0
assert all(op["level_out"] < op["level_in"] or op["kind"] == "replicate" for op in j["ops"])
print("ok: --json fields, agreement 100%, upload", int(j["upload_bytes_per_image"]), "bytes,",
      "median", round(j["server_latency_median_s"], 4), "s")
PY
"$hecnn" infer --mode single --model "$model" --plan --calibrate 0 >"$tmp/plan.txt" 2>&1 || { echo "FAIL: --plan"; cat "$tmp/plan.txt"; fail=1; }
grep -q "Galois keys" "$tmp/plan.txt" && echo "ok: --plan lists the keys" || { echo "FAIL: --plan lacks keys"; fail=1; }

expect_refused "unknown mode" "use batch (default) or single" infer --mode fast --model "$model" --count 1
d=models/default
if "$hecnn" infer --mode single --model $d/member0.hecnn --model $d/member1.hecnn --model $d/member2.hecnn --count 2 --calibrate 16 --json >"$tmp/ens.json" 2>"$tmp/err"; then
  python3 -c "
import json; j = json.load(open('$tmp/ens.json'))
assert j['members'] == 3 and j['combiner'] == 'mean', j
assert abs(sum(j['member_weights']) - 1) < 1e-12
assert j['agreement_with_float'] == 1.0, j['agreement_with_float']
print('ok: 3-member encrypted ensemble, agreement 100%, median', round(j['server_latency_median_s'], 3), 's')" || fail=1
else
  echo "FAIL: single-mode ensemble"; cat "$tmp/err"; fail=1
fi
expect_refused "poly-softmax" "batch mode" infer --mode single --combiner poly-softmax --model $d/member0.hecnn --model $d/member1.hecnn --count 1 --calibrate 0
expect_refused "bfv" "CKKS only" infer --mode single --scheme bfv --model "$model" --count 1
expect_refused "batch flag" "--temperature" infer --mode single --temperature 2 --model "$model" --count 1
expect_refused "stacking not a power of two" "power of two" infer --mode single --images-per-ciphertext 3 --model "$model" --count 1
if "$hecnn" infer --mode single --images-per-ciphertext 4 --model "$model" --count 6 --calibrate 16 --json >"$tmp/k4.json" 2>"$tmp/err"; then
  python3 -c "
import json; j = json.load(open('$tmp/k4.json'))
assert j['images_per_ciphertext'] == 4 and j['requests'] == 2 and j['images'] == 6, j
assert j['agreement_with_float'] == 1.0, j['agreement_with_float']
print('ok: 4 images per ciphertext, 2 requests, agreement 100%,', round(j['server_images_per_s'], 1), 'images/s')" || fail=1
else
  echo "FAIL: --images-per-ciphertext 4"; cat "$tmp/err"; fail=1
fi
expect_refused "stacking in batch mode" "applies to --mode single" infer --images-per-ciphertext 2 --model "$model" --count 1
expect_refused "bad packing" "use auto, im2col or chw" infer --mode single --packing diagonal --model "$model" --count 1 --calibrate 0
expect_refused "bad N" "4096, 8192, 16384 or 32768" infer --mode single --poly-degree 1000 --model "$model" --count 1 --calibrate 0
# Galois-key budget: below the powers of two it is refused naming the budget; outside the
# single mode it is refused; a small budget that fits composes steps and keeps the result.
expect_refused "key budget below the powers of two" "Galois key budget of 1 MiB" infer --mode single --max-galois-key-mib 1 --model "$model" --count 1 --calibrate 0
expect_refused "key budget in batch mode" "applies to --mode single" infer --max-galois-key-mib 64 --model "$model" --count 1
if "$hecnn" infer --mode single --max-galois-key-mib 96 --model "$model" --count 3 --calibrate 16 --json >"$tmp/budget.json" 2>"$tmp/err"; then
  python3 - "$tmp/budget.json" <<'PY' || fail=1
import json, sys
j = json.load(open(sys.argv[1]))
assert j["galois_key_bytes_uncompressed"] <= 96 << 20, j["galois_key_bytes_uncompressed"]
assert j["composed_steps"] > 0 and j["composed_key_switches"] > 0, (j["composed_steps"], j["composed_key_switches"])
assert j["max_galois_key_mib"] == 96
assert j["agreement_with_float"] == 1.0, j["agreement_with_float"]
print(f"ok: key budget 96 MiB: {j['galois_keys']} keys, {j['composed_steps']} steps composed, agreement 100%")
PY
else
  echo "FAIL: run under a 96 MiB key budget"; cat "$tmp/err"; fail=1
fi
exit $fail
