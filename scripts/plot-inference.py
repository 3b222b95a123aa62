#!/usr/bin/env python3
"""Inference plots from `hecnn infer --json` runs, drawn by gnuplot (issue 16).

usage: plot-inference.py OUT_DIR BATCH_RUN.json... [--single SINGLE_RUN.json]

Batch runs (any schemes, any image counts) give:
  throughput.svg      server images/s against the images in the run, one line per scheme;
  bytes-per-image.svg encrypted upload and download per image against the images in the run
                      (single mode's per-image bytes as flat lines when --single is given);
  layers.svg          server seconds per layer of the largest run of each scheme (bars).
A single-mode run (--mode single --json) gives latency.svg: the histogram of its per-request
server latencies. Each plot is written as .dat + .gp beside the .svg (re-render with
`gnuplot FILE.gp`). Standard library only; gnuplot is Debian's gnuplot-nox.
"""
import json
import math
import os
import shutil
import subprocess
import sys

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def q(s):
    return "'" + str(s).replace("'", "''") + "'"


def header(svg, title, xlabel, ylabel):
    return (f"set terminal svg size 800,500 dynamic enhanced font 'sans,12' background rgb 'white'\n"
            f"set output {q(svg)}\nset title {q(title)} noenhanced\nset xlabel {q(xlabel)} noenhanced\n"
            f"set ylabel {q(ylabel)} noenhanced\nset grid lc rgb '#dddddd'\nset key outside right top noenhanced\n")


def render(gp_path, script):
    with open(gp_path, "w") as f:
        f.write("# Drawn by scripts/plot-inference.py; render with: gnuplot " + os.path.basename(gp_path) + "\n" + script)
    if not shutil.which("gnuplot"):
        print(f"plot-inference: gnuplot not found (install gnuplot-nox); wrote {gp_path}", file=sys.stderr)
        return
    subprocess.run(["gnuplot", os.path.basename(gp_path)], check=True, cwd=os.path.dirname(gp_path) or ".")


def lines_plot(out, name, title, xlabel, ylabel, series, logx=False, logy=False):
    """series: [(label, [(x, y), ...])]"""
    dat = os.path.join(out, name + ".dat")
    with open(dat, "w") as f:
        for label, pts in series:
            f.write(f"# {label}\n" + "".join(f"{x} {y}\n" for x, y in sorted(pts)) + "\n\n")
    s = header(name + ".svg", title, xlabel, ylabel)
    if logx:
        s += "set logscale x 2\nset format x '%.0f'\n"
    if logy:
        s += "set logscale y 10\n"
    parts = []
    for k, (label, _) in enumerate(series):
        parts.append(f"{q(name + '.dat')} index {k} using 1:2 with linespoints lw 2 pt {k % 7 + 1} "
                     f"lc rgb '{COLOURS[k % len(COLOURS)]}' dt {k // len(COLOURS) + 1} title {q(label)}")
    render(os.path.join(out, name + ".gp"), s + "plot " + ", \\\n     ".join(parts) + "\n")


def bars_plot(out, name, title, ylabel, groups):
    """groups: [(label, [(category, value), ...])] drawn as clustered bars."""
    cats = []
    for _, vals in groups:
        for c, _ in vals:
            if c not in cats:
                cats.append(c)
    dat = os.path.join(out, name + ".dat")
    with open(dat, "w") as f:
        f.write("# layer " + " ".join(g[0].replace(" ", "_") for g in groups) + "\n")
        for c in cats:
            row = [str(dict(vals).get(c, 0)) for _, vals in groups]
            f.write('"' + c.replace('"', "'") + '" ' + " ".join(row) + "\n")
    s = header(name + ".svg", title, "layer", ylabel)
    s += ("set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
          "set boxwidth 0.9\nset xtics rotate by -30 noenhanced\nset yrange [0:*]\n")
    parts = []
    for k, (label, _) in enumerate(groups):
        parts.append(f"{q(name + '.dat')} using {k + 2}:xtic(1) lc rgb '{COLOURS[k % len(COLOURS)]}' title {q(label)}")
    render(os.path.join(out, name + ".gp"), s + "plot " + ", \\\n     ".join(parts) + "\n")


def histogram_plot(out, name, title, xlabel, values, bins=20):
    lo, hi = min(values), max(values)
    width = (hi - lo) / bins if hi > lo else max(hi, 1e-6) / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / width))] += 1
    with open(os.path.join(out, name + ".dat"), "w") as f:
        for i, c in enumerate(counts):
            f.write(f"{lo + (i + 0.5) * width} {c}\n")
    s = header(name + ".svg", title, xlabel, "requests")
    s += f"set style fill solid 0.7 border -1\nset boxwidth {width}\nset yrange [0:*]\nset key off\n"
    med = sorted(values)[len(values) // 2]
    s += f"set arrow from {med},graph 0 to {med},graph 1 nohead front lc rgb '#d62728' lw 2 dt 2\n"
    s += f"set label {q('median %.4f s' % med)} at {med},graph 0.95 offset 1,0 tc rgb '#d62728'\n"
    render(os.path.join(out, name + ".gp"), s + f"plot {q(name + '.dat')} using 1:2 with boxes lc rgb '#1f77b4'\n")


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    out, rest = argv[0], argv[1:]
    single = None
    if "--single" in rest:
        i = rest.index("--single")
        single = json.load(open(rest[i + 1]))
        rest = rest[:i] + rest[i + 2:]
    runs = [json.load(open(p)) for p in rest]
    os.makedirs(out, exist_ok=True)
    by_scheme = {}
    for r in runs:
        by_scheme.setdefault(r["scheme"], []).append(r)
    if runs:
        lines_plot(out, "throughput", "Server throughput against the images in a run (batch mode)",
                   "images in the run", "images per second (server evaluation)",
                   [(s, [(r["images"], r["images_per_second"]) for r in rs]) for s, rs in by_scheme.items()], logx=True)
        series = []
        for s, rs in by_scheme.items():
            series.append((f"{s} upload", [(r["images"], r["bytes"]["input"] / r["images"] / 1024) for r in rs]))
            series.append((f"{s} download", [(r["images"], r["bytes"]["output"] / r["images"] / 1024) for r in rs]))
        if single is not None:
            xs = sorted({r["images"] for r in runs})
            series.append(("single mode upload", [(x, single["upload_bytes_per_image"] / 1024) for x in xs]))
            series.append(("single mode download", [(x, single["download_bytes_per_image"] / 1024) for x in xs]))
        lines_plot(out, "bytes-per-image", "Encrypted bytes per image", "images in the run", "KiB per image",
                   series, logx=True, logy=True)
        groups = []
        for s, rs in by_scheme.items():
            big = max(rs, key=lambda r: r["images"])
            groups.append((f"{s}, {big['images']} images", [(l["layer"], l["seconds"]) for l in big["layers"]]))
        bars_plot(out, "layers", "Server time per layer (largest run of each scheme)", "seconds (wall)", groups)
    if single is not None and single.get("server_latency_s"):
        histogram_plot(out, "latency", f"Single-image mode: server latency per request ({single['images']} images)",
                       "seconds per request", single["server_latency_s"])


if __name__ == "__main__":
    main(sys.argv[1:])
