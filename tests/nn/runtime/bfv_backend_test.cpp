// BFV execution against the cleartext simulator, tensor by tensor, on small
// networks and batches (N = 8192, a dozen images).
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

// poly-softmax squares the members' scores: with 6-bit inputs and weights the ensemble
// needs more than 125 bits (the README's `demo --combiner poly-softmax` case), so the
// scores are decoded with the wide CRT and checked residue by residue against the
// quantized model simulated modulo each plaintext prime.
TEST(BfvBackend, PolySoftmaxBeyond125BitsIsDecodedExactly) {
  std::vector<Model> ms = {testing::tiny_model(3, false), testing::tiny_model(4, false)};
  CompileOptions opt;
  opt.poly_degree = 8192;
  opt.input_bits = 6;
  opt.weight_bits = 6;
  EnsembleOptions ens;
  ens.combiners = {compiler::Combiner::mean, compiler::Combiner::poly_softmax};
  const auto prog = compiler::compile(ms, ens, opt);
  ASSERT_TRUE(needs_wide_integers(prog)) << prog.params.plain_moduli.size() << " plaintext primes";
  EXPECT_THROW(simulate_exact(prog, {}), std::invalid_argument);
  const auto raw = testing::random_images(8, 64, 5);
  const auto rep = run_bfv(prog, ms, raw.data(), 8, 64, nullptr, {});
  ASSERT_EQ(rep.outputs.size(), 4u);
  for (const auto& o : rep.outputs) {
    EXPECT_EQ(o.exact_scores, 8u) << o.name;
    EXPECT_EQ(o.agree_quantized, 8u) << o.name;
  }
}

// The interpreter loop runs BFV in either order; streaming must give the same ciphertexts
// (every operation is deterministic given its inputs), hence the same decryptions.
TEST(BfvBackend, StreamingOrderGivesTheLayerOrderCiphertexts) {
  const Model m = testing::tiny_model(2);
  CompileOptions opt;
  opt.poly_degree = 8192;
  opt.input_bits = 3;
  opt.weight_bits = 3;
  opt.coeff_bits = 3;
  const auto prog = compiler::compile(std::span(&m, 1), {}, opt);
  math::DeterministicPrngForTests prng(3);
  BfvClient client(prog.params, !prog.keys.empty(), prng);
  BfvServer layer(prog, client.evaluation_keys()), stream(prog, client.evaluation_keys());
  stream.set_streaming(true);
  const auto slots = quantized_batch(prog, 5, 9);
  const auto in = client.encrypt(0, slots, prog.instrs[0].level);
  const auto a = layer.evaluate(0, in), b = stream.evaluate(0, in);
  ASSERT_EQ(a.size(), b.size());
  const auto sim = simulate_mod(prog, slots, client.plain_modulus(0));
  for (std::size_t k = 0; k < a.size(); ++k) {
    ASSERT_EQ(a[k].size(), b[k].size());
    for (std::size_t e = 0; e < a[k].size(); ++e) ASSERT_EQ(a[k][e].data, b[k][e].data) << "output " << k << " element " << e;
    EXPECT_EQ(client.decrypt(0, b[k], 5), sim[std::size_t(prog.outputs[k].tensor)]);
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
