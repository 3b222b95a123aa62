#!/usr/bin/env bash
# The two programs: `hecnn` links no libtorch (its subcommands start in milliseconds) and
# hands the training subcommands to `hecnn-train` beside it, when that was built.
#   programs_test.sh <hecnn binary>
set -uo pipefail
hecnn="$(realpath "$1")"
fail=0
if ldd "$hecnn" | grep -q torch; then echo "FAIL: hecnn links libtorch"; fail=1; else echo "ok: hecnn links no libtorch"; fi
"$hecnn" version | grep -q "hecnn" && echo "ok: version" || { echo "FAIL: version"; fail=1; }
if [ -x "$(dirname "$hecnn")/hecnn-train" ]; then
  out=$("$hecnn" train --help 2>&1) && echo "$out" | grep -q -- "--arch" && echo "ok: hecnn train runs hecnn-train" \
    || { echo "FAIL: hecnn train --help: $out"; fail=1; }
  "$hecnn" --help | grep -q "report-splits" && echo "ok: training commands listed" || { echo "FAIL: hecnn --help lacks the training commands"; fail=1; }
  if "$hecnn" train --epochs 0 >/dev/null 2>&1; then echo "FAIL: hecnn train --epochs 0 accepted"; fail=1; else echo "ok: bad option refused through hecnn-train"; fi
else
  echo "ok: no hecnn-train built (no libtorch); training commands absent"
fi
exit $fail
