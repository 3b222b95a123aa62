// The BFV quantization rules shared by the compiler and quantization-aware training
// (nn/model/quant_rules.h), against values worked out by hand.
#include "nn/model/quant_rules.h"

#include <gtest/gtest.h>

#include <vector>

namespace hecnn::nn {
namespace {

TEST(QuantRules, WeightExponentKeepsTheLargestWeightWithinTheBits) {
  // 6 bits: |W| <= 31. max 0.7 -> k = floor(log2(31 / 0.7)) = 5 (0.7 * 32 = 22.4).
  const std::vector<double> w = {0.7, -0.3, 0.05};
  EXPECT_EQ(weight_exponent(w, 6), 5);
  // 2 bits: |W| <= 1 -> k = floor(log2(1 / 0.7)) = 0.
  EXPECT_EQ(weight_exponent(w, 2), 0);
  // max 31 exactly at 6 bits: k = 0 (31 * 2^0 = 31 fits, 62 does not).
  EXPECT_EQ(weight_exponent(std::vector<double>{31.0}, 6), 0);
  EXPECT_EQ(weight_exponent(std::vector<double>{0.0, 0.0}, 6), 0);
  EXPECT_EQ(weight_exponent(std::vector<double>{1e-300}, 24), 60);  // clamped
}

TEST(QuantRules, PixelsAndGridRoundHalfAwayFromZero) {
  // 5 bits: X = round(raw / 8), back in raw units * 8.
  EXPECT_EQ(quantized_raw(0, 5), 0.0);
  EXPECT_EQ(quantized_raw(4, 5), 8.0);    // 0.5 rounds up
  EXPECT_EQ(quantized_raw(3, 5), 0.0);
  EXPECT_EQ(quantized_raw(255, 5), 256.0);  // round(31.875) = 32
  EXPECT_EQ(quantized_raw(200, 8), 200.0);
  EXPECT_EQ(on_grid(0.3125, 3), 0.375);   // 2.5 -> 3
  EXPECT_EQ(on_grid(-0.3125, 3), -0.375);
}

TEST(QuantRules, GridBitsIsTheFewestBitsThatHoldEveryWeight) {
  // {22, -10, 2} / 32: at 5 bits k = floor(log2(15 / 0.6875)) = 4 gives 11, -5, 1 (exact);
  // at 4 bits k = 3 gives 5.5.
  const std::vector<double> w = {22.0 / 32, -10.0 / 32, 2.0 / 32};
  EXPECT_EQ(grid_bits(w), 5);
  // {23, -10} / 32: 11.5 at 5 bits, exact at 6.
  const std::vector<double> odd = {23.0 / 32, -10.0 / 32};
  EXPECT_EQ(grid_bits(odd), 6);
  EXPECT_EQ(grid_bits(std::vector<double>{0.1, 0.2}), 0);  // not dyadic
}

}  // namespace
}  // namespace hecnn::nn
