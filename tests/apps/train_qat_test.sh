#!/usr/bin/env bash
# `hecnn train --qat` as a user runs it: bad options are refused before any data is loaded;
# fine-tuning a shipped model file writes a model whose weights lie on the BFV grids and a
# --json summary with the agreement before and after. Needs hecnn-train and data/mnist.
#   train_qat_test.sh <hecnn binary> <repo root>
set -uo pipefail
hecnn="$(realpath "$1")"; root="$2"
cd "$root"
if [ ! -x "$(dirname "$hecnn")/hecnn-train" ]; then echo "SKIP: no hecnn-train (built without libtorch)"; exit 0; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
# expect_refused <name> <needle> <args...>: nonzero exit within 10 s, stderr names the problem.
expect_refused() {
  local name="$1" needle="$2"; shift 2
  local t0=$SECONDS
  if timeout 60 "$hecnn" "$@" >"$tmp/out" 2>"$tmp/err"; then echo "FAIL: $name: exit 0"; fail=1; return; fi
  if ! grep -q -- "$needle" "$tmp/err"; then echo "FAIL: $name: stderr lacks '$needle':"; cat "$tmp/err"; fail=1; return; fi
  if [ $((SECONDS - t0)) -gt 10 ]; then echo "FAIL: $name: took $((SECONDS - t0)) s to refuse"; fail=1; return; fi
  echo "ok: $name ($(head -c 160 "$tmp/err" | tr '\n' ' '))"
}
m=models/default/member0.hecnn
expect_refused "unknown --qat-bits name" "unknown name 'bogus'" train --init "$m" --qat --qat-bits bogus=3 --out "$tmp/x.hecnn"
expect_refused "--qat-bits out of range" "input=9 is outside 1..8" train --init "$m" --qat --qat-bits input=9 --out "$tmp/x.hecnn"
expect_refused "--qat-bits not a number" "not a whole number" train --init "$m" --qat --qat-bits weight=six --out "$tmp/x.hecnn"
expect_refused "--qat-bits names no layer of the model" "has no layer 'dense7'" train --init "$m" --qat --qat-bits dense7=5 --out "$tmp/x.hecnn"
expect_refused "--init without --qat" "needs --qat" train --init "$m" --out "$tmp/x.hecnn"
expect_refused "--init with --arch" "excludes" train --init "$m" --qat --arch tenseal1
expect_refused "--init of a missing file" "does not exist" train --init "$tmp/none.hecnn" --qat
expect_refused "negative --qat-lr" "--qat-lr must be positive" train --init "$m" --qat --qat-lr -1
expect_refused "--qat-raw-share above 1" "--qat-raw-share" train --init "$m" --qat --qat-raw-share 2
expect_refused "--qat-epochs -1" "qat-epochs" train --init "$m" --qat --qat-epochs -1
[ -f "$tmp/x.hecnn" ] && { echo "FAIL: a refused run wrote a file"; fail=1; }

if ! ls data/mnist/*t10k* >/dev/null 2>&1; then
  [ "${HECNN_REQUIRE_DATA:-0}" != 0 ] && { echo "FAIL: no MNIST data under data/mnist (HECNN_REQUIRE_DATA is set)"; exit 1; }
  echo "SKIP: no MNIST data under data/mnist (the fine-tuning run)"; exit $fail
fi
# One epoch on 2,000 of member 0's training images (its recorded regular split), 2 threads.
if "$hecnn" train --init "$m" --qat --qat-bits input=5,weight=5 --qat-epochs 1 --limit-train 6000 --threads 2 --quiet \
    --json --out "$tmp/m0-qat.hecnn" >"$tmp/qat.json" 2>"$tmp/err"; then
  python3 - "$tmp/qat.json" <<'PY' || fail=1
import json, sys
j = json.load(open(sys.argv[1]))
q = j["qat"]
ok = True
for k in ("bits", "epochs", "accuracy_before", "quantized_accuracy_before", "agreement_before", "accuracy",
          "quantized_accuracy", "agreement", "test_samples", "train_samples", "seconds", "per_epoch"):
    if k not in q: print("FAIL: qat." + k + " missing"); ok = False
if ok:
    print("ok: qat json: bits %s, agreement %.4f -> %.4f, quantized accuracy %.4f -> %.4f on %d images, %d train samples"
          % (q["bits"], q["agreement_before"], q["agreement"], q["quantized_accuracy_before"], q["quantized_accuracy"],
             q["test_samples"], q["train_samples"]))
    if q["test_samples"] != 10000: print("FAIL: not the whole test set"); ok = False
    if not (0 < q["train_samples"] < 6000): print("FAIL: the member's split was not recreated"); ok = False
    if q["agreement"] < 0.99: print("FAIL: agreement after fine-tuning below 99%"); ok = False
    if q["quantized_accuracy"] < 0.95: print("FAIL: quantized accuracy below 95%"); ok = False
sys.exit(0 if ok else 1)
PY
  "$hecnn" model-info "$tmp/m0-qat.hecnn" >"$tmp/info" 2>&1 && grep -q -- "-qat" "$tmp/info" && echo "ok: the fine-tuned file reads back" \
    || { echo "FAIL: model-info of the fine-tuned file:"; cat "$tmp/info"; fail=1; }
else
  echo "FAIL: fine-tuning run:"; cat "$tmp/err"; fail=1
fi
exit $fail
