// Polynomial approximations of activation functions (CryptoDL, seed 003 §3.2-3.3).
//
// Five methods, each giving a polynomial of the requested degree on [lo, hi], returned
// in the power basis of x (c0 + c1 x + ... + cd x^d, ready for a Poly layer):
//   least_squares       least-squares fit to 2001 equally spaced samples of f ("numerical analysis")
//   taylor              Taylor series at 0, truncated (ReLU has none at 0: we expand
//                       softplus ln(1 + e^x), the smooth ReLU, as Chabanne et al. do)
//   chebyshev           projection on Chebyshev polynomials of the stretched interval
//                       (measure dx / sqrt(1 - t^2), t = (2x - lo - hi) / (hi - lo))
//   chebyshev_modified  weighted least squares with CryptoDL's modified weight
//                       w(t) = exp(-1 / (1e-5 + t^2)) on the normalised variable t
//   derivative          CryptoDL's method 5: fit a degree d-1 polynomial to the derivative
//                       (for ReLU the step-like derivative is modelled by the sigmoid, as in
//                       the paper), integrate it, and pick the constant by least squares
// Fits work in the normalised variable t, in the Chebyshev basis (well conditioned),
// and convert to the power basis of x at the end.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace hecnn::nn {

enum class ApproxFunction { relu, sigmoid, tanh };
enum class ApproxMethod { least_squares, taylor, chebyshev, chebyshev_modified, derivative };

struct Approximation {
  ApproxFunction function;
  ApproxMethod method;
  int degree = 0;
  double lo = 0, hi = 0;
  std::vector<double> coeffs;   // power basis in x, size degree + 1
  double max_error = 0;         // max |f - p| on 10001 equally spaced points of [lo, hi]
};

inline constexpr int kMinApproxDegree = 1, kMaxApproxDegree = 16;
// Largest |lo|, |hi| accepted (CryptoDL uses [-6, 6]; beyond this the coefficients lose meaning).
inline constexpr double kMaxApproxBound = 1e4;

// Throws std::invalid_argument for a degree out of range or lo >= hi.
Approximation approximate(ApproxFunction f, ApproxMethod m, int degree, double lo, double hi);

double eval_function(ApproxFunction f, double x);
double eval_poly(std::span<const double> coeffs, double x);
double max_abs_error(ApproxFunction f, std::span<const double> coeffs, double lo, double hi, int points = 10001);

const char* function_name(ApproxFunction f);
const char* method_name(ApproxMethod m);
ApproxFunction parse_function(const std::string& s);   // relu | sigmoid | tanh
ApproxMethod parse_method(const std::string& s);       // least_squares (ls) | taylor | chebyshev | chebyshev_modified | derivative
std::vector<ApproxMethod> all_methods();

// Coefficients of sum_k cheb[k] T_k(t), t = (2x - lo - hi) / (hi - lo), in the power basis of x.
std::vector<double> chebyshev_to_power(std::span<const double> cheb, double lo, double hi);
// Least-squares solution of min ||A c - b|| (A is rows x cols, row-major) by Householder QR.
std::vector<double> least_squares_solve(std::vector<double> a, std::vector<double> b, int rows, int cols);

}  // namespace hecnn::nn
