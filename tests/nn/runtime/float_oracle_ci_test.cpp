// The float-model oracle, heavier cases (labels slow, ci): degree-3 polynomials at depth 4,
// per-layer bits, all combiners with CRT at N = 8192, wide weights.
#include "nn/runtime/float_oracle_cases.h"

namespace hecnn::nn::runtime::oracle {
namespace {

class FloatOracleCi : public ::testing::TestWithParam<Case> {};

TEST_P(FloatOracleCi, DecryptedScoresEqualTheRuleQuantizedNetworkAndStayWithinTheBound) { expect_float_oracle(GetParam()); }

INSTANTIATE_TEST_SUITE_P(
    Bfv, FloatOracleCi,
    ::testing::Values(
        Case{"TinySquaresOnly_In8W12", [] { return one(testing::tiny_model(22, false)); }, {8, 12, 8, {}}, {}},
        Case{"SmallCryptonetsHighBits_In8W10", [] { return one(testing::small_cryptonets(24)); }, {8, 10, 8, {}}, {}},
        Case{"DeepConvDegree3Polys_In3W4C4", [] { return one(testing::deep_conv_model(25)); }, {3, 4, 4, {}}, {}},
        Case{"DeepConvPerLayerBits", [] { return one(testing::deep_conv_model(26)); },
             {3, 4, 4, {{"m0/conv1", 5}, {"m0/act1", 3}, {"m0/dense1", 6}}}, {}},
        Case{"EnsembleAllCombinersCrt_Plain24",
             [] { return std::vector<Model>{testing::small_cryptonets(30), testing::small_cryptonets(31)}; }, {6, 8, 8, {}},
             {Combiner::mean, Combiner::weighted_mean, Combiner::poly_softmax}, 24}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace hecnn::nn::runtime::oracle
