// Plots drawn by gnuplot (Debian gnuplot-nox, installed by scripts/setup.sh).
//
// write_line_plot(svg, plot) writes <svg without .svg>.dat (the numbers, one block per
// series) and .gp (the gnuplot script, readable and editable), then runs `gnuplot` on it to
// draw the SVG: round ticks and axis titles come from gnuplot; series differ in colour (12)
// and, beyond that, in dash pattern. Returns false (and says so on stderr) when gnuplot is not
// installed: the .dat and .gp files are still there to render later (`gnuplot FILE.gp`).
// Throws std::runtime_error if a file cannot be written or gnuplot fails on the script.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace hecnn::app {

struct PlotSeries {
  std::string label;
  std::vector<double> x, y;
  bool dashed = false;
  bool bold = false;
};

struct LinePlot {
  std::string title, xlabel, ylabel;
  std::vector<PlotSeries> series;
  std::optional<double> ymin, ymax;
  bool points = false;  // mark the data points (few x values)
};

namespace detail {

// A gnuplot single-quoted string ('' is a quote inside one).
inline std::string gp_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "''";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out + "'";
}

inline bool have_gnuplot() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

inline std::string stem_of(const std::string& svg) {
  return svg.size() > 4 && svg.compare(svg.size() - 4, 4, ".svg") == 0 ? svg.substr(0, svg.size() - 4) : svg;
}

inline const char* colour(std::size_t k) {
  static const char* c[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                            "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#000000", "#aec7e8"};
  return c[k % 12];
}

inline bool run_gnuplot(const std::string& gp, const std::string& svg) {
  if (!have_gnuplot()) {
    std::fprintf(stderr, "plot: gnuplot not found (install gnuplot-nox); wrote %s to render %s later\n", gp.c_str(), svg.c_str());
    return false;
  }
  std::string quoted = "'";  // for the shell: ' becomes '\''
  for (char c : gp) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  const std::string cmd = "gnuplot " + quoted + "' 2>&1";
  std::FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("plot: cannot run gnuplot");
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  const int rc = pclose(p);
  if (rc != 0) throw std::runtime_error("plot: gnuplot failed on " + gp + ": " + out);
  return true;
}

}  // namespace detail

inline bool write_line_plot(const std::string& svg, const LinePlot& plot) {
  if (plot.series.empty()) throw std::invalid_argument("plot: no series");
  const std::string stem = detail::stem_of(svg), dat = stem + ".dat", gp = stem + ".gp";
  {
    std::ofstream d(dat);
    if (!d) throw std::runtime_error(dat + ": cannot open for writing");
    d.precision(10);
    for (std::size_t k = 0; k < plot.series.size(); ++k) {
      const auto& s = plot.series[k];
      d << "# " << s.label << "\n";
      for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
        if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) d << s.x[i] << ' ' << s.y[i] << '\n';
      d << "\n\n";  // next index
    }
    if (!d) throw std::runtime_error(dat + ": write failed");
  }
  {
    std::ofstream g(gp);
    if (!g) throw std::runtime_error(gp + ": cannot open for writing");
    g << "# Drawn by hecnn; render with: gnuplot " << gp << "\n"
      << "set terminal svg size 800,500 dynamic enhanced font 'sans,12' background rgb 'white'\n"
      << "set output " << detail::gp_quote(svg) << "\n"
      << "set title " << detail::gp_quote(plot.title) << " noenhanced\n"
      << "set xlabel " << detail::gp_quote(plot.xlabel) << " noenhanced\n"
      << "set ylabel " << detail::gp_quote(plot.ylabel) << " noenhanced\n"
      << "set grid lc rgb '#dddddd'\nset key outside right top noenhanced\nset border lc rgb '#555555'\n";
    if (plot.ymin || plot.ymax)
      g << "set yrange [" << (plot.ymin ? std::to_string(*plot.ymin) : std::string("*")) << ":"
        << (plot.ymax ? std::to_string(*plot.ymax) : std::string("*")) << "]\n";
    for (std::size_t k = 0; k < plot.series.size(); ++k) {
      const auto& s = plot.series[k];
      const int dash = s.dashed ? 2 : int(k / 12) + 1;
      g << "set style line " << k + 1 << " lc rgb '" << detail::colour(k) << "' lw " << (s.bold ? 3 : 1.5) << " dt " << dash
        << " pt " << (k % 7) + 1 << "\n";
    }
    g << "plot ";
    for (std::size_t k = 0; k < plot.series.size(); ++k) {
      g << (k ? ", \\\n     " : "") << detail::gp_quote(dat) << " index " << k << " using 1:2 with "
        << (plot.points ? "linespoints" : "lines") << " ls " << k + 1 << " title " << detail::gp_quote(plot.series[k].label);
    }
    g << "\n";
    if (!g) throw std::runtime_error(gp + ": write failed");
  }
  return detail::run_gnuplot(gp, svg);
}

}  // namespace hecnn::app
