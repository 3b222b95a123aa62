#include "nn/model/approx.h"

#include <cmath>
#include <functional>
#include <numbers>
#include <stdexcept>

namespace hecnn::nn {
namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

double derivative_target(ApproxFunction f, double x) {
  switch (f) {
    case ApproxFunction::relu: return sigmoid(x);  // CryptoDL: the sigmoid as the smooth step
    case ApproxFunction::sigmoid: { double s = sigmoid(x); return s * (1 - s); }
    case ApproxFunction::tanh: { double t = std::tanh(x); return 1 - t * t; }
  }
  return 0;
}

// Chebyshev values T_0..T_d at t.
void cheb_row(double t, int d, double* row) {
  row[0] = 1;
  if (d >= 1) row[1] = t;
  for (int k = 2; k <= d; ++k) row[k] = 2 * t * row[k - 1] - row[k - 2];
}

// Weighted least squares in the Chebyshev basis on `points` equally spaced samples.
std::vector<double> fit(const std::function<double(double)>& target, const std::function<double(double)>& weight,
                        int degree, double lo, double hi, int points) {
  const int cols = degree + 1;
  std::vector<double> a(static_cast<std::size_t>(points) * cols), b(static_cast<std::size_t>(points));
  for (int j = 0; j < points; ++j) {
    const double t = -1.0 + 2.0 * j / (points - 1);
    const double x = lo + (t + 1) * (hi - lo) / 2;
    const double sw = std::sqrt(weight(t));
    cheb_row(t, degree, &a[std::size_t(j) * cols]);
    for (int k = 0; k < cols; ++k) a[std::size_t(j) * cols + k] *= sw;
    b[std::size_t(j)] = sw * target(x);
  }
  return least_squares_solve(std::move(a), std::move(b), points, cols);
}

std::vector<double> taylor(ApproxFunction f, int d) {
  // Series at 0 up to degree 8 (softplus for ReLU).
  static const double softplus[] = {std::numbers::ln2, 0.5, 1.0 / 8, 0, -1.0 / 192, 0, 1.0 / 2880, 0, -17.0 / 645120};
  static const double sig[] = {0.5, 0.25, 0, -1.0 / 48, 0, 1.0 / 480, 0, -17.0 / 80640, 0};
  static const double th[] = {0, 1, 0, -1.0 / 3, 0, 2.0 / 15, 0, -17.0 / 315, 0};
  if (d > 8) throw std::invalid_argument("taylor: degree above 8 is not tabulated");
  const double* c = f == ApproxFunction::relu ? softplus : f == ApproxFunction::sigmoid ? sig : th;
  return std::vector<double>(c, c + d + 1);
}

}  // namespace

std::vector<double> least_squares_solve(std::vector<double> a, std::vector<double> b, int rows, int cols) {
  if (rows < cols) throw std::invalid_argument("least squares: fewer rows than unknowns");
  for (int k = 0; k < cols; ++k) {
    double norm = 0;
    for (int i = k; i < rows; ++i) norm += a[std::size_t(i) * cols + k] * a[std::size_t(i) * cols + k];
    norm = std::sqrt(norm);
    if (norm == 0) throw std::invalid_argument("least squares: rank-deficient system");
    const double akk = a[std::size_t(k) * cols + k];
    const double alpha = akk > 0 ? -norm : norm;
    std::vector<double> v(std::size_t(rows - k));
    for (int i = k; i < rows; ++i) v[std::size_t(i - k)] = a[std::size_t(i) * cols + k];
    v[0] -= alpha;
    double vv = 0;
    for (double x : v) vv += x * x;
    if (vv == 0) continue;
    for (int j = k; j < cols; ++j) {
      double s = 0;
      for (int i = k; i < rows; ++i) s += v[std::size_t(i - k)] * a[std::size_t(i) * cols + j];
      s = 2 * s / vv;
      for (int i = k; i < rows; ++i) a[std::size_t(i) * cols + j] -= s * v[std::size_t(i - k)];
    }
    double s = 0;
    for (int i = k; i < rows; ++i) s += v[std::size_t(i - k)] * b[std::size_t(i)];
    s = 2 * s / vv;
    for (int i = k; i < rows; ++i) b[std::size_t(i)] -= s * v[std::size_t(i - k)];
  }
  std::vector<double> x(static_cast<std::size_t>(cols));
  for (int k = cols - 1; k >= 0; --k) {
    double s = b[std::size_t(k)];
    for (int j = k + 1; j < cols; ++j) s -= a[std::size_t(k) * cols + j] * x[std::size_t(j)];
    x[std::size_t(k)] = s / a[std::size_t(k) * cols + k];
  }
  return x;
}

std::vector<double> chebyshev_to_power(std::span<const double> cheb, double lo, double hi) {
  const std::size_t n = cheb.size();
  // Power basis in t: accumulate T_k as polynomials.
  std::vector<double> pt(n, 0.0), tkm1(n, 0.0), tk(n, 0.0);
  if (n == 0) return {};
  tkm1[0] = 1;  // T_0
  pt[0] += cheb[0];
  if (n > 1) {
    tk[1] = 1;  // T_1
    pt[1] += cheb[1];
  }
  for (std::size_t k = 2; k < n; ++k) {
    std::vector<double> next(n, 0.0);
    for (std::size_t i = 0; i + 1 < n; ++i) next[i + 1] += 2 * tk[i];
    for (std::size_t i = 0; i < n; ++i) next[i] -= tkm1[i];
    for (std::size_t i = 0; i < n; ++i) pt[i] += cheb[k] * next[i];
    tkm1 = tk;
    tk = next;
  }
  // Substitute t = a x + b (Horner in polynomial arithmetic).
  const double a = 2.0 / (hi - lo), b = -(hi + lo) / (hi - lo);
  std::vector<double> px(n, 0.0);
  for (std::size_t k = n; k-- > 0;) {
    std::vector<double> next(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      next[i] += b * px[i];
      if (i + 1 < n) next[i + 1] += a * px[i];
    }
    next[0] += pt[k];
    px = next;
  }
  return px;
}

double eval_function(ApproxFunction f, double x) {
  switch (f) {
    case ApproxFunction::relu: return x > 0 ? x : 0;
    case ApproxFunction::sigmoid: return sigmoid(x);
    case ApproxFunction::tanh: return std::tanh(x);
  }
  return 0;
}

double eval_poly(std::span<const double> coeffs, double x) {
  double acc = 0;
  for (std::size_t k = coeffs.size(); k-- > 0;) acc = acc * x + coeffs[k];
  return acc;
}

double max_abs_error(ApproxFunction f, std::span<const double> coeffs, double lo, double hi, int points) {
  double worst = 0;
  for (int j = 0; j < points; ++j) {
    const double x = lo + (hi - lo) * j / (points - 1);
    worst = std::max(worst, std::abs(eval_function(f, x) - eval_poly(coeffs, x)));
  }
  return worst;
}

Approximation approximate(ApproxFunction f, ApproxMethod m, int degree, double lo, double hi) {
  if (degree < kMinApproxDegree || degree > kMaxApproxDegree)
    throw std::invalid_argument("degree " + std::to_string(degree) + " is not in " + std::to_string(kMinApproxDegree) +
                                ".." + std::to_string(kMaxApproxDegree));
  if (!(lo < hi) || !std::isfinite(lo) || !std::isfinite(hi))
    throw std::invalid_argument("interval [" + std::to_string(lo) + ", " + std::to_string(hi) + "] is empty");
  if (std::fabs(lo) > kMaxApproxBound || std::fabs(hi) > kMaxApproxBound)
    throw std::invalid_argument("interval [" + std::to_string(lo) + ", " + std::to_string(hi) + "] reaches beyond +-" +
                                std::to_string(int(kMaxApproxBound)) + " (the power-basis coefficients would overflow)");
  Approximation r{f, m, degree, lo, hi, {}, 0};
  auto target = [f](double x) { return eval_function(f, x); };
  auto one = [](double) { return 1.0; };
  switch (m) {
    case ApproxMethod::least_squares:
      r.coeffs = chebyshev_to_power(fit(target, one, degree, lo, hi, 2001), lo, hi);
      break;
    case ApproxMethod::taylor:
      r.coeffs = taylor(f, degree);
      break;
    case ApproxMethod::chebyshev: {
      // Gauss-Chebyshev quadrature: c_k = (2/N) sum_j f(x(t_j)) T_k(t_j), c_0 halved.
      const int n = 4096;
      std::vector<double> c(std::size_t(degree) + 1, 0.0), row(std::size_t(degree) + 1);
      for (int j = 0; j < n; ++j) {
        const double t = std::cos(std::numbers::pi * (j + 0.5) / n);
        const double fx = target(lo + (t + 1) * (hi - lo) / 2);
        cheb_row(t, degree, row.data());
        for (int k = 0; k <= degree; ++k) c[std::size_t(k)] += fx * row[std::size_t(k)];
      }
      for (double& v : c) v *= 2.0 / n;
      c[0] /= 2;
      r.coeffs = chebyshev_to_power(c, lo, hi);
      break;
    }
    case ApproxMethod::chebyshev_modified:
      r.coeffs = chebyshev_to_power(
          fit(target, [](double t) { return std::exp(-1.0 / (1e-5 + t * t)); }, degree, lo, hi, 4001), lo, hi);
      break;
    case ApproxMethod::derivative: {
      std::vector<double> dp(1, 0.0);
      if (degree >= 2)
        dp = chebyshev_to_power(fit([f](double x) { return derivative_target(f, x); }, one, degree - 1, lo, hi, 2001),
                                lo, hi);
      else
        dp[0] = (target(hi) - target(lo)) / (hi - lo);
      std::vector<double> p(std::size_t(degree) + 1, 0.0);
      for (std::size_t k = 0; k < dp.size(); ++k) p[k + 1] = dp[k] / double(k + 1);
      // Constant of integration: least squares against f on the interval.
      const int pts = 2001;
      double s = 0;
      for (int j = 0; j < pts; ++j) {
        const double x = lo + (hi - lo) * j / (pts - 1);
        s += target(x) - eval_poly(p, x);
      }
      p[0] = s / pts;
      r.coeffs = p;
      break;
    }
  }
  for (double c : r.coeffs)
    if (!std::isfinite(c)) throw std::invalid_argument("the approximation's coefficients are not finite on this interval");
  r.max_error = max_abs_error(f, r.coeffs, lo, hi);
  return r;
}

const char* function_name(ApproxFunction f) {
  switch (f) {
    case ApproxFunction::relu: return "relu";
    case ApproxFunction::sigmoid: return "sigmoid";
    case ApproxFunction::tanh: return "tanh";
  }
  return "?";
}

const char* method_name(ApproxMethod m) {
  switch (m) {
    case ApproxMethod::least_squares: return "least_squares";
    case ApproxMethod::taylor: return "taylor";
    case ApproxMethod::chebyshev: return "chebyshev";
    case ApproxMethod::chebyshev_modified: return "chebyshev_modified";
    case ApproxMethod::derivative: return "derivative";
  }
  return "?";
}

ApproxFunction parse_function(const std::string& s) {
  if (s == "relu") return ApproxFunction::relu;
  if (s == "sigmoid") return ApproxFunction::sigmoid;
  if (s == "tanh") return ApproxFunction::tanh;
  throw std::invalid_argument("unknown function \"" + s + "\" (known: relu, sigmoid, tanh)");
}

ApproxMethod parse_method(const std::string& s) {
  if (s == "least_squares" || s == "ls" || s == "numerical") return ApproxMethod::least_squares;
  if (s == "taylor") return ApproxMethod::taylor;
  if (s == "chebyshev") return ApproxMethod::chebyshev;
  if (s == "chebyshev_modified" || s == "modified_chebyshev") return ApproxMethod::chebyshev_modified;
  if (s == "derivative") return ApproxMethod::derivative;
  throw std::invalid_argument("unknown method \"" + s +
                              "\" (known: least_squares, taylor, chebyshev, chebyshev_modified, derivative)");
}

std::vector<ApproxMethod> all_methods() {
  return {ApproxMethod::least_squares, ApproxMethod::taylor, ApproxMethod::chebyshev, ApproxMethod::chebyshev_modified,
          ApproxMethod::derivative};
}

}  // namespace hecnn::nn
