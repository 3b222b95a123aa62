#include "nn/model/arch.h"

#include "nn/model/forward.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>

namespace hecnn::nn {
namespace {

TEST(Arch, BuiltinShapes) {
  auto s = arch_shapes(builtin_arch("cryptonets"));
  EXPECT_EQ(s[0], (Shape{5, 13, 13}));  // seed 001 Table 1
  EXPECT_EQ(s.back(), (Shape{10, 1, 1}));
  EXPECT_EQ(arch_shapes(builtin_arch("tenseal1"))[0], (Shape{4, 8, 8}));
  auto d1 = arch_shapes(builtin_arch("cryptodl1"));
  EXPECT_EQ(d1[3], (Shape{20, 12, 12}));
  EXPECT_EQ(d1[7], (Shape{50, 4, 4}));
  for (const auto& name : builtin_arch_names()) EXPECT_EQ(arch_shapes(builtin_arch(name)).back().size(), 10u);
}

TEST(Arch, ParseErrorsNameTheLine) {
  auto msg = [](const char* text) {
    try {
      parse_arch(text);
    } catch (const ModelError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(msg("conv 5 5\n").find("first layer"), std::string::npos);
  EXPECT_NE(msg("input 1 28 28\nconv 5 five\n").find("line 2"), std::string::npos);
  EXPECT_NE(msg("input 1 28 28\nact\nbn\ndense 10\n").find("bn must"), std::string::npos);
  EXPECT_NE(msg("input 1 28 28\nmaxpool 2\ndense 10\n").find("unknown layer"), std::string::npos);
  EXPECT_NE(msg("input 1 28 28\nconv 5 3\n").find("last layer must be dense"), std::string::npos);
  EXPECT_NE(msg("input 1 4 4\nconv 5 9\ndense 2\n").find("larger"), std::string::npos);
  EXPECT_NE(msg("input 1 28 28\nconv 5 3 stride 0\ndense 2\n").find("not an integer in"), std::string::npos);
  EXPECT_THROW(builtin_arch("resnet"), ModelError);
  EXPECT_NO_THROW(parse_arch("# custom\ninput 3 8 8\nconv 4 3 pad 1 stride 2\nbn\nact\npool 2\ndense 10\n"));
}

// Reference: conv/dense -> explicit batch norm -> activation -> *average* pooling, in double.
std::vector<double> unfolded_forward(const ArchSpec& spec, const std::vector<LayerParams>& p,
                                     const std::vector<double>& act, std::vector<double> x) {
  Shape cur = spec.input;
  auto shapes = arch_shapes(spec);
  for (std::size_t i = 0; i < spec.layers.size(); ++i) {
    const ArchLayer& l = spec.layers[i];
    switch (l.kind) {
      case ArchLayer::Kind::conv:
        x = apply_layer(Conv2d{cur.c, l.out, l.kernel, l.kernel, l.stride, l.stride, l.pad, l.pad, p[i].weight, p[i].bias},
                        cur, x);
        break;
      case ArchLayer::Kind::dense:
        x = apply_layer(Dense{int(cur.size()), l.out, p[i].weight, p[i].bias}, cur, x);
        break;
      case ArchLayer::Kind::bn: {
        const std::size_t per = x.size() / std::size_t(cur.c);
        for (std::size_t j = 0; j < x.size(); ++j) {
          const std::size_t c = j / per;
          x[j] = (x[j] - p[i].mean[c]) / std::sqrt(p[i].var[c] + p[i].eps) * p[i].gamma[c] + p[i].beta[c];
        }
        break;
      }
      case ArchLayer::Kind::act:
        x = apply_layer(Poly{act}, cur, x);
        break;
      case ArchLayer::Kind::pool:
        x = apply_layer(SumPool{l.kernel, l.kernel, l.stride, l.stride}, cur, x);
        for (double& v : x) v /= double(l.kernel * l.kernel);
        break;
    }
    cur = shapes[i];
  }
  return x;
}

class FoldTest : public ::testing::TestWithParam<const char*> {};

TEST_P(FoldTest, BatchNormAndPoolFoldingIsExact) {
  const ArchSpec spec = parse_arch(GetParam());
  auto params = testing::random_params(spec, 11);
  const std::vector<double> act = {0.2, 0.5, 0.3, -0.01};
  InputSpec input{spec.input, 1.0, 0.0};
  Model m = export_model(spec, params, act, input);
  for (const Layer& l : m.layers) EXPECT_NE(std::string(layer_type(l)), "bn");
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 3; ++trial) {
    auto x = testing::random_vector(spec.input.size(), rng, 1.0);
    auto want = unfolded_forward(spec, params, act, x);
    auto got = forward(m, x);
    ASSERT_EQ(want.size(), got.size());
    for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-9 * (1 + std::abs(want[i])));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Archs, FoldTest,
    ::testing::Values("input 1 8 8\nconv 3 3 pad 1\nbn\nact\npool 2\ndense 4\nbn\nact\ndense 3\n",
                      "input 2 9 9\nconv 4 3 stride 2 pad 1\nbn\npool 2\nact\ndense 3\n",      // pool before act
                      "input 1 12 12\nconv 2 3\nact\npool 2\npool 2 stride 1\nconv 3 2 pad 1\nbn\nact\ndense 2\n",
                      "input 1 10 10\nconv 3 3\nbn\nact\npool 2 stride 1\ndense 5\nact\ndense 2\n"));

}  // namespace
}  // namespace hecnn::nn
