#!/usr/bin/env bash
# Measures batch-mode throughput and bytes per image at several run sizes (BFV and CKKS),
# per-layer server time, and single-image latencies, then draws the plots with gnuplot
# (scripts/plot-inference.py) into reports/inference/ with a README that lists the figures.
#   bash scripts/plot-inference.sh [--model FILE] [--counts "512 2048 8192"] [--single N] [--out DIR]
# Defaults: models/cryptonets-x2-mnist.hecnn, counts 512 2048 8192 10000 (the test set), 50 single-mode
# images, reports/inference. Needs build/apps/hecnn and data/mnist (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
model=models/cryptonets-x2-mnist.hecnn
counts="512 2048 8192 10000"
single=50
out=reports/inference
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --counts) counts="$2"; shift 2 ;;
    --single) single="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "plot-inference: unknown option $1" >&2; exit 2 ;;
  esac
done
hecnn=${HECNN_BIN:-build/apps/hecnn}
[ -x "$hecnn" ] || { echo "plot-inference: $hecnn not built (bash scripts/build.sh)" >&2; exit 1; }
[ -f "$model" ] || { echo "plot-inference: no model $model" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "plot-inference: gnuplot not installed (bash scripts/setup.sh installs gnuplot-nox)" >&2; exit 1; }
for c in $counts; do [[ "$c" =~ ^[0-9]+$ ]] && [ "$c" -ge 1 ] || { echo "plot-inference: bad count '$c'" >&2; exit 2; }; done
mkdir -p "$out/runs"
runs=()
for scheme in bfv ckks; do
  for c in $counts; do
    f="$out/runs/$scheme-$c.json"
    echo "plot-inference: $scheme, $c images" >&2
    "$hecnn" infer --model "$model" --scheme "$scheme" --count "$c" --json --quiet >"$f"
    runs+=("$f")
  done
done
echo "plot-inference: single mode, $single images" >&2
"$hecnn" infer --model "$model" --mode single --count "$single" --json --quiet >"$out/runs/single.json"
/usr/bin/python3 scripts/plot-inference.py "$out" "${runs[@]}" --single "$out/runs/single.json"
# The README: figures from the same JSON files.
/usr/bin/python3 - "$out" "$model" "$counts" "$single" <<'PY'
import json, os, platform, subprocess, sys, time
out, model, counts, single = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4]
rows = []
for scheme in ("bfv", "ckks"):
    for c in counts:
        r = json.load(open(f"{out}/runs/{scheme}-{c}.json"))
        rows.append(f"| {r['scheme']} | {r['images']} | N = {r['poly_degree']}, {len(r['coeff_modulus'])} primes, 128-bit | "
                    f"{r['images_per_second']:.0f} | {r['seconds']['evaluate']:.2f} | "
                    f"{r['bytes']['input'] / r['images'] / 1024:.1f} | {r['bytes']['output'] / r['images'] / 1024:.2f} | "
                    f"{100 * r['outputs'][0]['accuracy_encrypted']:.2f}% |")
s = json.load(open(f"{out}/runs/single.json"))
cpu = "unknown"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip(); break
except OSError:
    pass
md = f"""# Inference plots

Model `{model}`, MNIST test images, measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores ({cpu}).
Made by `bash scripts/plot-inference.sh` (runs `hecnn infer --json`, plots with gnuplot through
`scripts/plot-inference.py`; the JSON of every run is in `runs/`, each plot's data and gnuplot
script beside its SVG).

| scheme | images | parameters | images/s (server) | evaluate s | upload KiB/image | download KiB/image | encrypted accuracy |
|---|---|---|---|---|---|---|---|
""" + "\n".join(rows) + f"""

Single-image mode (CKKS, {s['images']} images): server latency median {s['server_latency_median_s']:.4f} s,
90th percentile {s['server_latency_p90_s']:.4f} s; {s['upload_bytes_per_image'] / 1024:.1f} KiB up and
{s['download_bytes_per_image'] / 1024:.1f} KiB down per image.

![throughput](throughput.svg)

![bytes per image](bytes-per-image.svg)

![time per layer](layers.svg)

![single-image latency](latency.svg)
"""
open(f"{out}/README.md", "w").write(md)
print(f"plot-inference: wrote {out}/README.md", file=sys.stderr)
PY
