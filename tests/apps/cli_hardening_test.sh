#!/usr/bin/env bash
# The CLI refuses bad input clearly (issue 11's table, the rows fixed so far): each case
# must exit non-zero within 10 s, print a message naming the problem, and leave any file
# already there untouched. Needs no data set.
#   cli_hardening_test.sh <hecnn binary> <repo root>
set -uo pipefail
hecnn="$(realpath "$1")"; root="$2"
cd "$root"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
# expect_refused <name> <needle> <args...>
expect_refused() {
  local name="$1" needle="$2"; shift 2
  local t0=$(date +%s.%N)
  if timeout 10 "$hecnn" "$@" >"$tmp/out" 2>"$tmp/err"; then echo "FAIL: $name: exit 0"; fail=1; return; fi
  local rc=$?
  if [ $rc -eq 124 ]; then echo "FAIL: $name: still running after 10 s"; fail=1; return; fi
  if ! grep -q -- "$needle" "$tmp/err"; then echo "FAIL: $name: stderr lacks '$needle':"; cat "$tmp/err"; fail=1; return; fi
  if grep -q $'\x1b' "$tmp/err" "$tmp/out"; then echo "FAIL: $name: an escape character reached the terminal"; fail=1; return; fi
  echo "ok: $name ($(awk "BEGIN{printf \"%.2f\", $(date +%s.%N) - $t0}") s: $(head -c 160 "$tmp/err" | tr '\n' ' '))"
}
model=models/cryptonets-x2-mnist.hecnn

# Unknown subcommands are named (control characters escaped), close names suggested.
expect_refused "unknown command" "unknown command 'bogus'" bogus
expect_refused "misspelt command" "did you mean 'infer'" infr --model "$model"
expect_refused "escape in a command name" 'unknown command .\\x1b\[31m' $'\x1b[31mred'

# Counts: positive and bounded, refused before any work.
expect_refused "infer --count -1" "count" infer --model "$model" --count -1
expect_refused "infer --count 0" "count" infer --model "$model" --count 0
expect_refused "infer --count huge" "count" infer --model "$model" --count 99999999999999999999999
expect_refused "demo --count 0" "count" demo --count 0
expect_refused "infer --batch 0" "batch" infer --model "$model" --batch 0

# Approximation intervals.
expect_refused "approx huge interval" "reaches beyond" approx --lo -1e308 --hi 1e308
expect_refused "approx empty interval" "is empty" approx --lo 2 --hi 1
expect_refused "approx nan" "" approx --lo nan --hi 1

# Model files: nothing unreadable is written, and a file already there survives.
printf 'w1,w2,b\n' >/dev/null
echo "keep" >"$tmp/existing.hecnn"
expect_refused "import --act coeffs:nan" "not a finite coefficient" model-import-csv --act coeffs:nan,1 --out "$tmp/existing.hecnn" x.csv
expect_refused "import --input-scale 1e400" "input-scale" model-import-csv --input-scale 1e400 --out "$tmp/existing.hecnn" x.csv
if [ "$(cat "$tmp/existing.hecnn")" != "keep" ]; then echo "FAIL: an existing file was overwritten"; fail=1; else echo "ok: existing file intact"; fi

# A model file with flipped bytes is refused by its checksum.
cp "$model" "$tmp/flip.hecnn"
size=$(stat -c %s "$tmp/flip.hecnn")
for off in $((size / 2)) $((size / 2 + 100)) $((size - 200)); do
  printf '\x5a' | dd of="$tmp/flip.hecnn" bs=1 seek=$off conv=notrunc status=none
done
expect_refused "flipped model bytes" "checksum mismatch" model-info "$tmp/flip.hecnn"

# PGM input: a long comment and no pixels (read past the buffer before), truncated data.
{ printf 'P5\n#'; head -c 5000 /dev/zero | tr '\0' 'c'; } >"$tmp/comment.pgm"
expect_refused "PGM with a long comment and no pixels" "header ends before" infer --model "$model" --image "$tmp/comment.pgm" --plan
printf 'P5\n28 28\n255\n' >"$tmp/short.pgm"
expect_refused "truncated PGM" "truncated PGM" infer --model "$model" --image "$tmp/short.pgm" --plan

exit $fail
