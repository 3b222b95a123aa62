// Slow tier: the poly-softmax combiner split between parties (8 CRT primes in BFV).
#include "nn/runtime/parties_util.h"

namespace hecnn::nn::runtime {
namespace {

using namespace testing_parties;

TEST(PartiesSlow, BfvPolySoftmaxSplitEqualsWholePlan) { expect_split_equals_whole(compiler::Scheme::bfv, {compiler::Combiner::poly_softmax}); }

}  // namespace
}  // namespace hecnn::nn::runtime
