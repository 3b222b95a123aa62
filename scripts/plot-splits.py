#!/usr/bin/env python3
"""Redraws the skewed-split plots of a `hecnn report-splits` README from its tables (gnuplot).

usage: plot-splits.py [reports/splits/README.md]

For each "## <split> split" section, the accuracy table (setting, dominance, members,
ensemble) becomes <split>.dat + <split>.gp + <split>.svg beside the README: test accuracy
against the skew setting, the ensemble in bold. The numbers are the report's own (measured
when it was generated); nothing is retrained. Standard library + Debian's gnuplot-nox.
"""
import os
import re
import shutil
import subprocess
import sys

readme = sys.argv[1] if len(sys.argv) > 1 else "reports/splits/README.md"
out = os.path.dirname(readme) or "."
text = open(readme).read()
colours = ["#1f77b4", "#d62728", "#2ca02c", "#000000"]
if not shutil.which("gnuplot"):
    sys.exit("plot-splits: gnuplot not installed (bash scripts/setup.sh installs gnuplot-nox)")
for m in re.finditer(r"^## (\w+) split, groups (\S+)\n(.*?)(?=^## |\Z)", text, re.S | re.M):
    split, groups, body = m.group(1), m.group(2), m.group(3)
    rows = []
    for line in body.splitlines():
        cells = [c.strip().strip("*").rstrip("%") for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and cells[0].isdigit():
            rows.append([int(cells[0])] + [float(c) for c in cells[2:6]])
    if not rows:
        continue
    names = ["member 0", "member 1", "member 2", "ensemble (mean of scores)"]
    with open(os.path.join(out, split + ".dat"), "w") as f:
        f.write("# setting " + " | ".join(names) + f"  (from {os.path.basename(readme)})\n")
        for r in rows:
            f.write(" ".join(str(v) for v in r) + "\n")
    lo = max(0, int(min(min(r[1:]) for r in rows)) // 10 * 10)
    gp = [f"# Drawn by scripts/plot-splits.py; render with: gnuplot {split}.gp",
          "set terminal svg size 800,500 dynamic enhanced font 'sans,12' background rgb 'white'",
          f"set output '{split}.svg'",
          f"set title '{split} split (groups {groups}): test accuracy against skew' noenhanced",
          "set xlabel 'setting (0: uniform ... 5: fully skewed)'", "set ylabel 'test accuracy (%)'",
          f"set yrange [{lo}:100]", "set xtics 1", "set grid lc rgb '#dddddd'", "set key left bottom noenhanced"]
    plots = []
    for k, name in enumerate(names):
        lw = 3 if k == 3 else 1.5
        plots.append(f"'{split}.dat' using 1:{k + 2} with linespoints lw {lw} pt {k + 4} lc rgb '{colours[k]}' title '{name}'")
    gp.append("plot " + ", \\\n     ".join(plots))
    with open(os.path.join(out, split + ".gp"), "w") as f:
        f.write("\n".join(gp) + "\n")
    subprocess.run(["gnuplot", split + ".gp"], check=True, cwd=out)
    print(f"plot-splits: wrote {os.path.join(out, split + '.svg')}", file=sys.stderr)
