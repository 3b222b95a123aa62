// Slow tier: CRT over several plaintext primes and every ensemble combiner.
#include <gtest/gtest.h>

#include "math/primes.h"
#include "nn/compiler/compiler.h"
#include "nn/runtime/bfv_backend.h"
#include "nn/runtime/inference.h"
#include "nn/runtime/simulator.h"
#include "nn/runtime/runtime_test_util.h"
#include "nn/test_models.h"

namespace hecnn::nn::runtime {
namespace {

using compiler::CompileOptions;
using compiler::EnsembleOptions;

TEST(BfvBackendSlow, CrtOverTwoPlainPrimes) {
  const Model m = testing::tiny_model(2, false);
  CompileOptions opt;
  opt.poly_degree = 8192;
  opt.max_plain_bits = 24;
  opt.input_bits = 6;
  opt.weight_bits = 6;
  const auto prog = compiler::compile(std::span(&m, 1), {}, opt);
  ASSERT_GE(prog.params.plain_moduli.size(), 2u);
  expect_layer_by_layer(prog, 5);
}

TEST(BfvBackendSlow, EnsemblePredictionsEqualQuantizedModel) {
  std::vector<Model> ms = {testing::tiny_model(3, false), testing::tiny_model(4, false)};
  CompileOptions opt;
  opt.poly_degree = 8192;
  opt.input_bits = 3;
  opt.weight_bits = 3;
  for (auto comb : {compiler::Combiner::mean, compiler::Combiner::weighted_mean, compiler::Combiner::poly_softmax}) {
    EnsembleOptions ens;
    ens.combiners = {comb};
    ens.weights = {0.9, 0.6};
    const auto prog = compiler::compile(ms, ens, opt);
    ASSERT_EQ(prog.outputs.size(), 3u);
    const auto raw = testing::random_images(20, 64, 5);
    InferOptions io;
    io.check_quantized = true;
    const auto rep = run_bfv(prog, ms, raw.data(), 20, 64, nullptr, io);
    for (const auto& o : rep.outputs) {
      EXPECT_EQ(o.exact_scores, 20u) << o.name;
      EXPECT_EQ(o.agree_quantized, 20u) << o.name;
      EXPECT_GT(o.min_noise_budget, 0) << o.name;
    }
  }
}

}  // namespace
}  // namespace hecnn::nn::runtime
