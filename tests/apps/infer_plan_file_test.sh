#!/usr/bin/env bash
# hecnn infer --save-plan / --load-plan as a user runs them: a saved plan reloads to
# the same cost report; truncated, corrupt or mismatched plans and conflicting flags
# are refused with a clear message before any encryption. Needs data/mnist.
#   infer_plan_file_test.sh <hecnn binary> <repo root>
set -uo pipefail
hecnn="$(realpath "$1")"; root="$2"
cd "$root"
model=models/cryptonets-x2-mnist.hecnn
other=models/cryptodl1-relu3-mnist.hecnn
if [ ! -f data/mnist/t10k-images-idx3-ubyte ] && [ ! -f data/mnist/t10k-images.idx3-ubyte ] && ! ls data/mnist/*t10k* >/dev/null 2>&1; then
  [ "${HECNN_REQUIRE_DATA:-0}" != 0 ] && { echo "FAIL: no MNIST data under data/mnist (HECNN_REQUIRE_DATA is set)"; exit 1; }
  echo "SKIP: no MNIST data under data/mnist"; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }
# expect_refused <name> <needle> <args...>: nonzero exit, message on stderr names the problem.
expect_refused() {
  local name="$1" needle="$2"; shift 2
  if "$hecnn" "$@" >"$tmp/out" 2>"$tmp/err"; then echo "FAIL: $name: exit 0"; fail=1; return; fi
  if ! grep -q -- "$needle" "$tmp/err"; then echo "FAIL: $name: stderr lacks '$needle':"; cat "$tmp/err"; fail=1; return; fi
  echo "ok: $name ($(head -c 200 "$tmp/err" | tr '\n' ' '))"
}

for scheme in ckks bfv; do
  "$hecnn" infer --model "$model" --scheme "$scheme" --plan --json --save-plan "$tmp/$scheme.hplan" >"$tmp/$scheme.a.json" 2>"$tmp/err" \
    || { echo "FAIL: $scheme save"; cat "$tmp/err"; fail=1; continue; }
  check "$scheme plan written" "[ -s '$tmp/$scheme.hplan' ]"
  "$hecnn" infer --model "$model" --load-plan "$tmp/$scheme.hplan" --plan --json >"$tmp/$scheme.b.json" 2>"$tmp/err" \
    || { echo "FAIL: $scheme load"; cat "$tmp/err"; fail=1; continue; }
  check "$scheme reloaded plan reports the same" "cmp -s '$tmp/$scheme.a.json' '$tmp/$scheme.b.json'"
done
plan="$tmp/ckks.hplan"
head -c 5000 "$plan" >"$tmp/trunc.hplan"
expect_refused "truncated plan" "truncated" infer --model "$model" --load-plan "$tmp/trunc.hplan" --plan
cp "$plan" "$tmp/flip.hplan"
printf '\x55' | dd of="$tmp/flip.hplan" bs=1 seek=3000 conv=notrunc status=none
expect_refused "corrupt plan" "checksum" infer --model "$model" --load-plan "$tmp/flip.hplan" --plan
expect_refused "not a plan" "not a hecnn plan" infer --model "$model" --load-plan "$model" --plan
expect_refused "missing plan" "cannot read" infer --model "$model" --load-plan "$tmp/none.hplan" --plan
expect_refused "plan for another model" "different model" infer --model "$other" --load-plan "$plan" --plan
expect_refused "compile flags with a plan" "drop --scheme" infer --model "$model" --load-plan "$plan" --scheme bfv --plan
expect_refused "two models, one-member plan" "member" infer --model "$model" --model "$model" --load-plan "$plan" --plan
expect_refused "save into a missing directory" "does not exist" infer --model "$model" --plan --save-plan "$tmp/no/such/dir/p.hplan"
# --mode single: packed plans (nn/compiler/packed_io.h) save and reload to the same results.
if "$hecnn" infer --mode single --model "$model" --count 3 --calibrate 16 --save-plan "$tmp/s.hpplan" --json >"$tmp/s.a.json" 2>"$tmp/err" &&
   "$hecnn" infer --mode single --model "$model" --count 3 --load-plan "$tmp/s.hpplan" --json >"$tmp/s.b.json" 2>"$tmp/err"; then
  check "single: a reloaded packed plan gives the same predictions and accuracy" \
    "python3 -c \"import json; a, b = (json.load(open(f)) for f in ('$tmp/s.a.json', '$tmp/s.b.json')); assert a['accuracy'] == b['accuracy'] and a['agreement_with_float'] == b['agreement_with_float'] and a['poly_degree'] == b['poly_degree']\""
else echo "FAIL: single save/load"; cat "$tmp/err"; fail=1; fi
head -c 3000 "$tmp/s.hpplan" >"$tmp/s.trunc.hpplan"
expect_refused "single: truncated packed plan" "truncated" infer --mode single --model "$model" --load-plan "$tmp/s.trunc.hpplan" --count 1
expect_refused "single: packed plan for another model" "different model" infer --mode single --model "$other" --load-plan "$tmp/s.hpplan" --count 1
expect_refused "single: batch plan as a packed plan" "not a hecnn packed plan" infer --mode single --model "$model" --load-plan "$plan" --count 1
expect_refused "single: compile flags with a plan" "drop --poly-degree" infer --mode single --model "$model" --load-plan "$tmp/s.hpplan" --poly-degree 16384 --count 1

# --simulate --json says nothing was encrypted: no noise budget, and the predictions listed.
if "$hecnn" infer --model "$model" --count 20 --simulate --json --agreement-target 0 >"$tmp/sim.json" 2>"$tmp/err"; then
  python3 - "$tmp/sim.json" <<'PY' && echo "ok: --simulate --json" || { echo "FAIL: --simulate --json"; fail=1; }
import json, sys
j = json.load(open(sys.argv[1]))
o = j["outputs"][0]
assert j["encrypted"] is False, j["encrypted"]
assert o["min_noise_budget_bits"] is None, o["min_noise_budget_bits"]
assert len(o["predictions"]) == 20 and len(o["predictions_first_100"]) == 20, o["predictions_first_100"]
PY
else
  echo "FAIL: --simulate run"; cat "$tmp/err"; fail=1
fi
exit $fail
