#!/usr/bin/env bash
# hecnn infer --image with PNG files as a user draws them (issue 16): the first five MNIST test
# digits redrawn 3x larger in dark ink on white paper, off-centre on canvases of other sizes
# (gray and RGB), are converted the way MNIST was made and classified, encrypted (BFV), as
# their labels; bad files and options are refused with the file named. Needs data/mnist.
#   infer_image_test.sh <hecnn binary> <repo root>
set -uo pipefail
hecnn="$(realpath "$1")"; root="$2"
cd "$root"
if [ ! -f data/mnist/t10k-images-idx3-ubyte ]; then
  [ "${HECNN_REQUIRE_DATA:-0}" != 0 ] && { echo "FAIL: no MNIST data under data/mnist (HECNN_REQUIRE_DATA is set)"; exit 1; }
  echo "SKIP: no MNIST data under data/mnist"; exit 0
fi
py=/usr/bin/python3; [ -x "$py" ] || py=python3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
# PNG writer from the standard library (zlib + struct), so the test needs no imaging package.
"$py" - "$tmp" <<'PY' || { echo "FAIL: could not write the test images"; exit 1; }
import struct, sys, zlib
out = sys.argv[1]
def png(path, w, h, rows, rgb):
    raw = b"".join(b"\x00" + bytes(v for p in r for v in ((p, p, p) if rgb else (p,))) for r in rows)
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2 if rgb else 0, 0, 0, 0)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
images = open("data/mnist/t10k-images-idx3-ubyte", "rb").read()[16:16 + 784 * 5]
for k in range(5):
    d = images[784 * k:784 * (k + 1)]
    w, h, left, top = 100 + 10 * k, 90 + 7 * k, 3 + 2 * k, 4 + k
    rows = [[255] * w for _ in range(h)]
    for y in range(84):
        for x in range(84):
            rows[top + y][left + x] = 255 - d[(y // 3) * 28 + x // 3]
    png(f"{out}/digit{k}.png", w, h, rows, rgb=k % 2 == 1)
PY
labels=$("$py" -c "import sys; print(' '.join(str(b) for b in open('data/mnist/t10k-labels-idx1-ubyte','rb').read()[8:13]))")
args=(); for k in 0 1 2 3 4; do args+=(--image "$tmp/digit$k.png"); done
if "$hecnn" infer --model models/default/member0.hecnn "${args[@]}" --agreement-target 0 --json >"$tmp/out.json" 2>"$tmp/err"; then
  got=$("$py" -c "import json,sys; print(' '.join(str(p) for p in json.load(open(sys.argv[1]))['outputs'][0]['predictions']))" "$tmp/out.json")
  if [ "$got" = "$labels" ]; then echo "ok: five redrawn PNG digits classified encrypted as their labels ($got)";
  else echo "FAIL: predictions '$got', labels '$labels'"; fail=1; fi
  grep -q '"encrypted": true' "$tmp/out.json" || { echo "FAIL: the run was not encrypted"; fail=1; }
else
  echo "FAIL: infer --image failed:"; cat "$tmp/err"; fail=1
fi
# expect_refused <name> <needle> <args...>: nonzero exit within 10 s, stderr names the problem.
expect_refused() {
  local name="$1" needle="$2"; shift 2
  local t0=$SECONDS
  if timeout 60 "$hecnn" "$@" >"$tmp/o" 2>"$tmp/e"; then echo "FAIL: $name: exit 0"; fail=1; return; fi
  if ! grep -q -- "$needle" "$tmp/e"; then echo "FAIL: $name: stderr lacks '$needle':"; cat "$tmp/e"; fail=1; return; fi
  [ $((SECONDS - t0)) -gt 10 ] && { echo "FAIL: $name: took $((SECONDS - t0)) s to refuse"; fail=1; return; }
  echo "ok: $name ($(head -c 160 "$tmp/e" | tr '\n' ' '))"
}
m=models/default/member0.hecnn
head -c 120 "$tmp/digit0.png" >"$tmp/trunc.png"
printf 'GIF89a not an image' >"$tmp/x.gif"
expect_refused "truncated PNG" "trunc.png: PNG" infer --model $m --image "$tmp/trunc.png"
expect_refused "not an image" "not a PNG, JPEG or binary PGM" infer --model $m --image "$tmp/x.gif"
expect_refused "--preprocess none on a large image" "expects 28x28" infer --model $m --image "$tmp/digit0.png" --preprocess none
expect_refused "unknown --preprocess" "--preprocess" infer --model $m --image "$tmp/digit0.png" --preprocess sharpen
expect_refused "missing image" "nothere.png" infer --model $m --image "$tmp/nothere.png"
exit $fail
