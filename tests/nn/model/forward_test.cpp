#include "nn/model/forward.h"

#include <gtest/gtest.h>

namespace hecnn::nn {
namespace {

TEST(Forward, ConvWithPaddingAndStrideKnownValues) {
  // 1x3x3 input 1..9, one 2x2 kernel of ones, pad 1, stride 2 -> 2x2 output.
  Conv2d c{1, 1, 2, 2, 2, 2, 1, 1, {1, 1, 1, 1}, {0.5}};
  std::vector<double> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  auto y = apply_layer(c, {1, 3, 3}, x);
  ASSERT_EQ(y.size(), 4u);
  EXPECT_DOUBLE_EQ(y[0], 1.5);            // only x(0,0) in window
  EXPECT_DOUBLE_EQ(y[1], 2 + 3 + 0.5);    // row -1 padded
  EXPECT_DOUBLE_EQ(y[2], 4 + 7 + 0.5);
  EXPECT_DOUBLE_EQ(y[3], 5 + 6 + 8 + 9 + 0.5);
}

TEST(Forward, DenseSumPoolPoly) {
  Dense d{3, 2, {1, 2, 3, -1, 0, 1}, {0, 10}};
  auto y = apply_layer(d, {3, 1, 1}, std::vector<double>{1, 1, 2});
  EXPECT_DOUBLE_EQ(y[0], 9);
  EXPECT_DOUBLE_EQ(y[1], 11);
  SumPool p{2, 2, 2, 2};
  auto s = apply_layer(p, {1, 2, 4}, std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_DOUBLE_EQ(s[0], 1 + 2 + 5 + 6);
  EXPECT_DOUBLE_EQ(s[1], 3 + 4 + 7 + 8);
  Poly q{{1, 0, 2}};
  auto z = apply_layer(q, {1, 1, 2}, std::vector<double>{3, -1});
  EXPECT_DOUBLE_EQ(z[0], 19);
  EXPECT_DOUBLE_EQ(z[1], 3);
}

TEST(Forward, TraceAndEnsemble) {
  Model m;
  m.input = {{1, 1, 2}, 1.0, 0.0};
  m.layers.push_back(Dense{2, 2, {1, 0, 0, 1}, {0, 0}});
  m.layers.push_back(Poly{{0, 0, 1}});
  std::vector<std::uint8_t> raw = {2, 3};
  auto trace = forward_trace(m, prepare_input(m, raw));
  ASSERT_EQ(trace.size(), 2u);
  EXPECT_DOUBLE_EQ(trace[1][1], 9);
  Model m2 = m;
  std::get<Dense>(m2.layers[0]).bias = {1, 1};
  std::vector<Model> members = {m, m2};
  auto e = ensemble_forward(members, raw);
  EXPECT_DOUBLE_EQ(e[0], (4 + 9) / 2.0);
  EXPECT_DOUBLE_EQ(e[1], (9 + 16) / 2.0);
  EXPECT_EQ(argmax(e), 1);
  EXPECT_THROW(forward(m, std::vector<double>{1}), ModelError);
  m2.input.scale = 0.5;
  members = {m, m2};
  EXPECT_THROW(ensemble_forward(members, raw), ModelError);
}

}  // namespace
}  // namespace hecnn::nn
