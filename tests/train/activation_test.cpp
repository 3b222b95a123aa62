#include "train/activation.h"

#include <gtest/gtest.h>

namespace hecnn::train {
namespace {

TEST(Activation, Parse) {
  EXPECT_EQ(parse_activation("x2").coeffs, (std::vector<double>{0, 0, 1}));
  EXPECT_FALSE(parse_activation("relu").polynomial());
  auto p = parse_activation("poly:relu:chebyshev:2:-1:1");
  EXPECT_TRUE(p.polynomial());
  EXPECT_EQ(p.coeffs.size(), 3u);
  EXPECT_EQ(p.info.method, "chebyshev");
  EXPECT_EQ(p.label(), "relu~chebyshev(2)[-1,1]");
  EXPECT_EQ(parse_activation("coeffs:0.5,0.25,0.125").coeffs, (std::vector<double>{0.5, 0.25, 0.125}));
  EXPECT_THROW(parse_activation("gelu"), std::invalid_argument);
  EXPECT_THROW(parse_activation("poly:relu:pade:2:-1:1"), std::invalid_argument);
  EXPECT_THROW(parse_activation("poly:relu:taylor:2:1:-1"), std::invalid_argument);
  EXPECT_THROW(parse_activation("coeffs:1,x"), std::invalid_argument);
}

}  // namespace
}  // namespace hecnn::train
