// Minimal SVG line plots for the approximation commands (no plotting dependency).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace hecnn::app {

struct SvgSeries {
  std::string label;
  std::vector<double> x, y;
  bool dashed = false;
};

inline void write_svg_plot(const std::string& path, const std::string& title, const std::vector<SvgSeries>& series,
                           double ymin, double ymax) {
  static const char* colors[] = {"#000000", "#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"};
  const double W = 720, H = 480, L = 60, R = 190, T = 40, B = 50;
  double xmin = 1e300, xmax = -1e300;
  for (const auto& s : series)
    for (double v : s.x) xmin = std::min(xmin, v), xmax = std::max(xmax, v);
  if (!(xmax > xmin) || !(ymax > ymin)) throw std::invalid_argument("plot: empty range");
  auto px = [&](double x) { return L + (x - xmin) / (xmax - xmin) * (W - L - R); };
  auto py = [&](double y) { return H - B - (std::clamp(y, ymin, ymax) - ymin) / (ymax - ymin) * (H - T - B); };
  std::ofstream f(path);
  if (!f) throw std::runtime_error(path + ": cannot open for writing");
  char buf[256];
  f << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  f << "<text x=\"" << W / 2 - 100 << "\" y=\"22\" font-size=\"14\">" << title << "</text>\n";
  f << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << W - L - R << "\" height=\"" << H - T - B
    << "\" fill=\"none\" stroke=\"#888\"/>\n";
  for (int i = 0; i <= 4; ++i) {
    const double xv = xmin + (xmax - xmin) * i / 4, yv = ymin + (ymax - ymin) * i / 4;
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", px(xv), H - B + 18, xv);
    f << buf;
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n", L - 6, py(yv) + 4, yv);
    f << buf;
    std::snprintf(buf, sizeof buf, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", L, py(yv),
                  W - R, py(yv));
    f << buf;
  }
  for (std::size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    const char* c = colors[k % 8];
    f << "<path fill=\"none\" stroke=\"" << c << "\" stroke-width=\"" << (k == 0 ? 2.5 : 1.5) << "\""
      << (s.dashed ? " stroke-dasharray=\"5,3\"" : "") << " d=\"";
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      std::snprintf(buf, sizeof buf, "%s%.1f,%.1f ", i ? "L" : "M", px(s.x[i]), py(s.y[i]));
      f << buf;
    }
    f << "\"/>\n";
    const double ly = T + 14 + 18 * double(k);
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>"
                  "<text x=\"%.1f\" y=\"%.1f\">",
                  W - R + 10, ly, W - R + 30, ly, c, W - R + 36, ly + 4);
    f << buf << s.label << "</text>\n";
  }
  f << "</svg>\n";
  if (!f) throw std::runtime_error(path + ": write failed");
}

}  // namespace hecnn::app
