// The float-model oracle, fast cases (float_oracle_cases.h): every layer type, the three
// combiners, CRT over two primes, default and higher bits; a few seconds.
#include "nn/runtime/float_oracle_cases.h"

namespace hecnn::nn::runtime::oracle {
namespace {

class FloatOracle : public ::testing::TestWithParam<Case> {};

TEST_P(FloatOracle, DecryptedScoresEqualTheRuleQuantizedNetworkAndStayWithinTheBound) { expect_float_oracle(GetParam()); }

INSTANTIATE_TEST_SUITE_P(
    Bfv, FloatOracle,
    ::testing::Values(
        Case{"TinyConvSquarePoolDensePolyDefaultBits", [] { return one(testing::tiny_model(21)); }, {}, {}},
        Case{"TinyHighBits_In8W8C8", [] { return one(testing::tiny_model(22)); }, {8, 8, 8, {}}, {}},
        Case{"SmallCryptonetsDefaultBits", [] { return one(testing::small_cryptonets(23)); }, {}, {}},
        Case{"TinyCrtTwoPrimes_Plain20", [] { return one(testing::tiny_model(27)); }, {6, 6, 8, {}}, {}, 20},
        Case{"EnsembleTinyShallow_AllCombiners",
             [] { return std::vector<Model>{testing::tiny_model(28), testing::shallow_model(29)}; }, {6, 7, 8, {}},
             {Combiner::mean, Combiner::weighted_mean, Combiner::poly_softmax}}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace hecnn::nn::runtime::oracle
