#include "nn/model/approx.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

namespace hecnn::nn {
namespace {

constexpr double pi = std::numbers::pi;

TEST(Approx, ChebyshevReluDegree2ClosedForm) {
  // |x| = 2/pi + 4/(3 pi) T2 + ...  so ReLU = (x + |x|)/2 -> 1/(3pi) + x/2 + 4/(3pi) x^2, error 1/(3pi) at 0.
  auto a = approximate(ApproxFunction::relu, ApproxMethod::chebyshev, 2, -1, 1);
  ASSERT_EQ(a.coeffs.size(), 3u);
  EXPECT_NEAR(a.coeffs[0], 1 / (3 * pi), 1e-6);
  EXPECT_NEAR(a.coeffs[1], 0.5, 1e-6);
  EXPECT_NEAR(a.coeffs[2], 4 / (3 * pi), 1e-6);
  EXPECT_NEAR(a.max_error, 1 / (3 * pi), 1e-6);
}

TEST(Approx, LeastSquaresReluDegree2MatchesLegendre) {
  // Continuous L2 fit (Legendre): |x| ~ 3/16 + 15/16 x^2, so ReLU ~ 3/32 + x/2 + 15/32 x^2; error 3/32 at 0.
  auto a = approximate(ApproxFunction::relu, ApproxMethod::least_squares, 2, -1, 1);
  EXPECT_NEAR(a.coeffs[0], 3.0 / 32, 2e-3);
  EXPECT_NEAR(a.coeffs[1], 0.5, 1e-6);
  EXPECT_NEAR(a.coeffs[2], 15.0 / 32, 2e-3);
  EXPECT_NEAR(a.max_error, 3.0 / 32, 2e-3);
  // No odd terms beyond x on a symmetric interval (issue 5's remark): degree 3 adds nothing.
  auto c = approximate(ApproxFunction::relu, ApproxMethod::least_squares, 3, -1, 1);
  EXPECT_NEAR(c.coeffs[3], 0, 1e-9);
}

TEST(Approx, NoMethodBeatsTheMinimaxBound) {
  // The best uniform degree-2 approximation of ReLU on [-1, 1] has error 1/16.
  for (auto m : all_methods())
    EXPECT_GE(approximate(ApproxFunction::relu, m, 2, -1, 1).max_error, 1.0 / 16 - 1e-9) << method_name(m);
}

TEST(Approx, TaylorErrorWithinTheNextTerm) {
  // Alternating series: |error| <= first omitted term on [-1, 1].
  EXPECT_LE(approximate(ApproxFunction::sigmoid, ApproxMethod::taylor, 3, -1, 1).max_error, 1.0 / 480);
  EXPECT_LE(approximate(ApproxFunction::tanh, ApproxMethod::taylor, 3, -1, 1).max_error, 2.0 / 15);
  auto t = approximate(ApproxFunction::tanh, ApproxMethod::taylor, 5, -0.5, 0.5);
  EXPECT_LE(t.max_error, 17.0 / 315 * std::pow(0.5, 7));
}

TEST(Approx, ScaledIntervalsAndConvergence) {
  // Chebyshev projection of the analytic tanh converges geometrically.
  double prev = 1e9;
  for (int d : {1, 3, 5, 7}) {
    auto a = approximate(ApproxFunction::tanh, ApproxMethod::chebyshev, d, -2, 2);
    EXPECT_LT(a.max_error, prev);
    prev = a.max_error;
  }
  EXPECT_LT(prev, 5e-3);
  // Sigmoid on a wide interval, degree 8: every fit within 0.05 (sigmoid spans [0, 1]).
  for (auto m : {ApproxMethod::least_squares, ApproxMethod::chebyshev, ApproxMethod::derivative})
    EXPECT_LT(approximate(ApproxFunction::sigmoid, m, 8, -8, 8).max_error, 0.05) << method_name(m);
  // An asymmetric interval gives ReLU fits a genuine cubic term.
  auto c = approximate(ApproxFunction::relu, ApproxMethod::least_squares, 3, -2, 6);
  EXPECT_GT(std::abs(c.coeffs[3]), 1e-4);
}

TEST(Approx, DerivativeMethodIntegratesTheFittedDerivative) {
  auto a = approximate(ApproxFunction::relu, ApproxMethod::derivative, 3, -5, 5);
  // p'(x) fits the sigmoid: p'(0) ~ 1/2 and p' increasing near 0.
  EXPECT_NEAR(a.coeffs[1], 0.5, 0.05);
  EXPECT_GT(a.coeffs[2], 0);
  EXPECT_LT(a.max_error, 1.0);
  // For tanh, the integrated fit of 1 - tanh^2 is close to tanh on a moderate interval.
  EXPECT_LT(approximate(ApproxFunction::tanh, ApproxMethod::derivative, 7, -2, 2).max_error, 0.05);
}

TEST(Approx, ConversionAndBadArguments) {
  // T2 on [0, 2]: t = x - 1, 2t^2 - 1 = 2x^2 - 4x + 1.
  auto p = chebyshev_to_power(std::vector<double>{0, 0, 1}, 0, 2);
  EXPECT_NEAR(p[0], 1, 1e-12);
  EXPECT_NEAR(p[1], -4, 1e-12);
  EXPECT_NEAR(p[2], 2, 1e-12);
  EXPECT_THROW(approximate(ApproxFunction::relu, ApproxMethod::chebyshev, 0, -1, 1), std::invalid_argument);
  EXPECT_THROW(approximate(ApproxFunction::relu, ApproxMethod::chebyshev, 3, 1, 1), std::invalid_argument);
  EXPECT_THROW(approximate(ApproxFunction::relu, ApproxMethod::taylor, 9, -1, 1), std::invalid_argument);
  EXPECT_THROW(parse_method("pade"), std::invalid_argument);
  EXPECT_EQ(parse_method("ls"), ApproxMethod::least_squares);
}

}  // namespace
}  // namespace hecnn::nn
