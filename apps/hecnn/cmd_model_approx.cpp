// `hecnn approx`: polynomial approximations of ReLU / Sigmoid / Tanh by CryptoDL's
// five methods; prints coefficients and max error, optionally writes an SVG plot.
//
//   hecnn approx --function relu --method all --degree 2 --lo -6 --hi 6 --plot relu-d2.svg
#include "hecnn/command.h"
#include "hecnn/approx_plot.h"

#include "nn/model/approx.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

namespace {

using namespace hecnn;

struct Args {
  std::string function = "relu", method = "all", plot;
  std::vector<int> degrees = {2};
  double lo = -6, hi = 6;
  bool json = false;
};

void run(const Args& a) {
  const auto f = nn::parse_function(a.function);
  std::vector<nn::ApproxMethod> methods =
      a.method == "all" ? nn::all_methods() : std::vector<nn::ApproxMethod>{nn::parse_method(a.method)};
  std::vector<nn::Approximation> results;
  for (int d : a.degrees)
    for (auto m : methods) {
      if (m == nn::ApproxMethod::taylor && d > 8) continue;
      results.push_back(nn::approximate(f, m, d, a.lo, a.hi));
    }
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : results)
      out.push_back({{"function", nn::function_name(r.function)}, {"method", nn::method_name(r.method)},
                     {"degree", r.degree}, {"interval", {r.lo, r.hi}}, {"coeffs", r.coeffs},
                     {"max_error", r.max_error}});
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%s on [%g, %g]; p(x) = c0 + c1 x + ... ; max error over 10001 points\n", nn::function_name(f), a.lo,
                a.hi);
    std::printf("%-19s %3s %12s  coefficients\n", "method", "deg", "max error");
    for (const auto& r : results) {
      std::printf("%-19s %3d %12.6g  [", nn::method_name(r.method), r.degree, r.max_error);
      for (std::size_t k = 0; k < r.coeffs.size(); ++k) std::printf("%s%.9g", k ? ", " : "", r.coeffs[k]);
      std::printf("]\n");
    }
  }
  if (!a.plot.empty()) {
    if (!app::plot_approximations(a.plot, f, results, a.lo, a.hi)) return;
    std::fprintf(stderr, "wrote %s\n", a.plot.c_str());
  }
}

void setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  app.add_option("--function", a->function, "relu | sigmoid | tanh")->capture_default_str();
  app.add_option("--method", a->method, "all | least_squares | taylor | chebyshev | chebyshev_modified | derivative")
      ->capture_default_str();
  app.add_option("--degree", a->degrees, "one or more degrees (2..8 in CryptoDL)")->capture_default_str();
  app.add_option("--lo", a->lo, "interval start")->capture_default_str();
  app.add_option("--hi", a->hi, "interval end")->capture_default_str();
  app.add_option("--plot", a->plot, "write an SVG plot of the function and the approximations");
  app.add_flag("--json", a->json, "machine-readable output");
  app.callback([a] { run(*a); });
}

const bool registered = hecnn::app::register_command(
    {"approx", "Polynomial approximations of ReLU/Sigmoid/Tanh (CryptoDL's five methods)", &setup});

}  // namespace
