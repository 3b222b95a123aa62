// Slow tier: CRT over several plaintext primes and every ensemble combiner.
#include <gtest/gtest.h>

#include "math/primes.h"
#include "nn/compiler/compiler.h"
#include "nn/runtime/bfv_backend.h"
#include "nn/runtime/inference.h"
#include "nn/runtime/simulator.h"
#include "nn/test_models.h"

namespace hecnn::nn::runtime {
namespace {

using compiler::CompileOptions;
using compiler::EnsembleOptions;

std::vector<std::vector<std::int64_t>> quantized_batch(const compiler::Program& prog, std::size_t count, std::uint64_t seed) {
  const auto raw = testing::random_images(count, prog.input_shape.size(), seed);
  std::vector<std::vector<std::int64_t>> imgs;
  for (std::size_t i = 0; i < count; ++i) imgs.push_back(prog.quantize_input(raw.data() + i * prog.input_shape.size(), prog.input_shape.size()));
  return to_slots(imgs);
}

// Every tensor of the HE run decrypts to the simulator's values mod t.
void expect_layer_by_layer(const compiler::Program& prog, std::size_t images) {
  math::DeterministicPrngForTests prng(7);
  BfvClient client(prog.params, !prog.keys.empty(), prng);
  BfvServer server(prog, client.evaluation_keys());
  const auto slots = quantized_batch(prog, images, 11);
  for (std::size_t r = 0; r < client.residues(); ++r) {
    const auto sim = simulate_mod(prog, slots, client.plain_modulus(r), {.keep_all = true});
    const auto all = server.evaluate_all(r, client.encrypt(r, slots, prog.instrs[0].level));
    ASSERT_EQ(all.size(), prog.instrs.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      const auto dec = client.decrypt(r, all[i], images);
      ASSERT_EQ(dec.size(), sim[i].size()) << prog.instrs[i].label;
      for (std::size_t e = 0; e < dec.size(); ++e) {
        ASSERT_EQ(dec[e], sim[i][e]) << "tensor " << i << " (" << prog.instrs[i].label << "), element " << e << ", residue " << r;
        EXPECT_EQ(all[i][e].num_primes, std::size_t(prog.instrs[i].level)) << prog.instrs[i].label;
      }
    }
    // The compiler's noise prediction is pessimistic: the real budget is at least the prediction.
    for (const auto& o : prog.outputs)
      for (const auto& ct : all[o.tensor]) EXPECT_GE(client.noise_budget(r, ct), int(prog.predicted_final_budget) - 1) << o.name;
  }
}

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
