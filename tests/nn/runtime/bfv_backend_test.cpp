// BFV execution against the cleartext simulator, tensor by tensor, on small
// networks and batches (N = 8192, a dozen images).
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

TEST(BfvBackend, TinyModelLayerByLayer) {
  const Model m = testing::tiny_model(1);
  CompileOptions opt;
  opt.poly_degree = 8192;
  opt.input_bits = 3;
  opt.weight_bits = 3;
  opt.coeff_bits = 3;
  const auto prog = compiler::compile(std::span(&m, 1), {}, opt);
  expect_layer_by_layer(prog, 9);
}

TEST(BfvBackend, WeightedEnsembleEqualsQuantizedModel) {
  std::vector<Model> ms = {testing::tiny_model(3, false), testing::tiny_model(4, false)};
  CompileOptions opt;
  opt.poly_degree = 8192;
  opt.input_bits = 3;
  opt.weight_bits = 3;
  EnsembleOptions ens;
  ens.combiners = {compiler::Combiner::weighted_mean};
  ens.weights = {0.9, 0.6};
  const auto prog = compiler::compile(ms, ens, opt);
  ASSERT_EQ(prog.outputs.size(), 3u);
  const auto raw = testing::random_images(12, 64, 5);
  const auto rep = run_bfv(prog, ms, raw.data(), 12, 64, nullptr, {});
  for (const auto& o : rep.outputs) {
    EXPECT_EQ(o.exact_scores, 12u) << o.name;
    EXPECT_EQ(o.agree_quantized, 12u) << o.name;
    EXPECT_GT(o.min_noise_budget, 0) << o.name;
  }
}

TEST(BfvBackend, RejectsMismatchedKeysAndInputs) {
  const Model m = testing::tiny_model(5, false);
  CompileOptions opt;
  opt.poly_degree = 8192;
  opt.input_bits = 3;
  opt.weight_bits = 3;
  const auto prog = compiler::compile(std::span(&m, 1), {}, opt);
  math::DeterministicPrngForTests prng(1);
  BfvClient client(prog.params, true, prng);
  // Keys made for other parameters.
  auto other = prog.params;
  const auto cand = math::ntt_primes(20, 8192, 2);
  other.plain_moduli[0] = cand[0] == other.plain_moduli[0] ? cand[1] : cand[0];
  BfvClient wrong(other, true, prng);
  EXPECT_THROW(BfvServer(prog, wrong.evaluation_keys()), std::invalid_argument);
  // Missing relinearization keys.
  auto keys = client.evaluation_keys();
  keys.relin.clear();
  EXPECT_THROW(BfvServer(prog, keys), std::invalid_argument);
  BfvServer server(prog, client.evaluation_keys());
  // Wrong number of ciphertexts (wrong image size) and wrong level.
  std::vector<std::vector<std::int64_t>> small(10, std::vector<std::int64_t>(3, 1));
  EXPECT_THROW(server.evaluate(0, client.encrypt(0, small, prog.instrs[0].level)), std::invalid_argument);
  EXPECT_THROW(prog.quantize_input(nullptr, 10), compiler::CompileError);
  const auto raw = testing::random_images(2, 60, 1);
  EXPECT_THROW(run_bfv(prog, std::span(&m, 1), raw.data(), 2, 60, nullptr, {}), std::invalid_argument);
}

}  // namespace
}  // namespace hecnn::nn::runtime
