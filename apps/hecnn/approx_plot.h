// The plot of an activation function and its polynomial approximations (gnuplot, plot.h),
// shared by `hecnn approx --plot` and `hecnn report-approx`.
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "hecnn/plot.h"
#include "nn/model/approx.h"

namespace hecnn::app {

// f on [lo, hi] (bold) and each approximation (dashed), 401 points each. Returns false when
// gnuplot is missing (plot.h). Throws std::runtime_error on a write or gnuplot failure.
inline bool plot_approximations(const std::string& svg, nn::ApproxFunction f, const std::vector<nn::Approximation>& aps,
                                double lo, double hi) {
  const int n = 401;
  std::vector<PlotSeries> series(1);
  series[0].label = nn::function_name(f);
  series[0].bold = true;
  double ymin = 1e300, ymax = -1e300;
  for (int i = 0; i < n; ++i) {
    const double x = lo + (hi - lo) * i / (n - 1), y = nn::eval_function(f, x);
    series[0].x.push_back(x);
    series[0].y.push_back(y);
    ymin = std::min(ymin, y), ymax = std::max(ymax, y);
  }
  for (const auto& ap : aps) {
    PlotSeries s;
    s.label = std::string(nn::method_name(ap.method)) + " d" + std::to_string(ap.degree);
    s.dashed = true;
    for (int i = 0; i < n; ++i) {
      const double x = lo + (hi - lo) * i / (n - 1);
      s.x.push_back(x);
      s.y.push_back(nn::eval_poly(ap.coeffs, x));
    }
    series.push_back(std::move(s));
  }
  char interval[64];
  std::snprintf(interval, sizeof interval, "[%g, %g]", lo, hi);
  const double pad = 0.25 * (ymax - ymin);
  LinePlot plot;
  plot.title = std::string(nn::function_name(f)) + " and its polynomial approximations on " + interval;
  plot.xlabel = "x";
  plot.ylabel = "f(x)";
  plot.series = std::move(series);
  plot.ymin = ymin - pad;
  plot.ymax = ymax + pad;
  return write_line_plot(svg, plot);
}

}  // namespace hecnn::app
