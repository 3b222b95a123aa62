// BGV execution of the integer programs against the cleartext simulator, tensor by
// tensor (N = 8192, a dozen images): the same programs as BFV, NTT-form ciphertexts
// with correction factors, mod switches placed by the BGV noise model.
#include <gtest/gtest.h>

#include <cstdio>

#include "nn/compiler/compiler.h"
#include "nn/compiler/params_internal.h"
#include "nn/runtime/bfv_backend.h"
#include "nn/runtime/inference.h"
#include "nn/runtime/runtime_test_util.h"
#include "nn/runtime/simulator.h"
#include "nn/test_models.h"

namespace hecnn::nn::runtime {
namespace {

using compiler::CompileOptions;
using compiler::EnsembleOptions;
using compiler::Scheme;

CompileOptions bgv_options(int bits) {
  CompileOptions opt;
  opt.scheme = Scheme::bgv;
  opt.poly_degree = 8192;
  opt.input_bits = bits;
  opt.weight_bits = bits;
  opt.coeff_bits = bits;
  return opt;
}

// The noise model is a lower bound on every tensor's measured budget, not only at the outputs.
void expect_budgets_above_model(const compiler::Program& prog, std::size_t images) {
  math::DeterministicPrngForTests prng(5);
  BfvClient client(prog.params, !prog.keys.empty(), prng, prog.scheme);
  BfvServer server(prog, client.evaluation_keys());
  const auto all = server.evaluate_all(0, client.encrypt(0, quantized_batch(prog, images, 3), prog.instrs[0].level));
  compiler::NoiseModel model{prog.params.poly_degree, prog.params.coeff_modulus, std::log2(double(prog.params.plain_moduli[0])), true};
  std::vector<double> predicted;
  compiler::simulate_budget(prog, model, &predicted);
  for (std::size_t i = 0; i < all.size(); ++i) {
    int measured = 1 << 30;
    for (const auto& ct : all[i]) measured = std::min(measured, client.noise_budget(0, ct));
    if (std::getenv("HECNN_TEST_VERBOSE")) {
      std::printf("  t %2.0f bits  %-28s level %d  predicted %6.1f  measured %4d\n", model.log2_t, prog.instrs[i].label.c_str(), prog.instrs[i].level, predicted[i], measured);
    }
    EXPECT_GE(measured, int(std::floor(predicted[i]))) << prog.instrs[i].label;
  }
}

TEST(BgvBackend, TinyModelLayerByLayerN8192) {
  const Model m = testing::tiny_model(1);
  const auto prog = compiler::compile(std::span(&m, 1), {}, bgv_options(3));
  ASSERT_EQ(prog.scheme, Scheme::bgv);
  EXPECT_GE(prog.predicted_final_budget, 12);
  expect_layer_by_layer(prog, 9);
  expect_budgets_above_model(prog, 9);
}

TEST(BgvBackend, DeepConvModelLayerByLayer) {
  const Model m = testing::deep_conv_model(2);
  auto opt = bgv_options(3);
  opt.poly_degree = 0;  // depth 4 needs more primes than N = 8192 has
  const auto prog = compiler::compile(std::span(&m, 1), {}, opt);
  std::size_t switches = 0;
  for (const auto& ins : prog.instrs) switches += ins.op == compiler::OpKind::mod_switch;
  EXPECT_GT(switches, 0u);
  expect_layer_by_layer(prog, 6);
  expect_budgets_above_model(prog, 6);
}

// tiny_model (depth 2, a general polynomial whose terms are merged with folded factors)
// and shallow_model (depth 1) reach the ensemble with different correction factors: the
// combiners fold them into their weights too.
TEST(BgvBackend, EnsembleOfDifferentDepthsFoldsCorrectionFactors) {
  std::vector<Model> ms = {testing::tiny_model(3), testing::shallow_model(4)};
  EnsembleOptions ens;
  ens.combiners = {compiler::Combiner::mean, compiler::Combiner::weighted_mean};
  ens.weights = {0.9, 0.6};
  auto opt = bgv_options(3);
  opt.poly_degree = 0;
  const auto prog = compiler::compile(ms, ens, opt);
  ASSERT_EQ(prog.outputs.size(), 4u);
  math::DeterministicPrngForTests prng(9);
  BfvClient client(prog.params, !prog.keys.empty(), prng, prog.scheme);
  BfvServer server(prog, client.evaluation_keys());
  const auto slots = quantized_batch(prog, 7, 2);
  for (std::size_t r = 0; r < client.residues(); ++r) {
    const auto outs = server.evaluate(r, client.encrypt(r, slots, prog.instrs[0].level));
    ASSERT_EQ(outs.size(), 4u);
    // The members' scores, brought to the ensemble's level, carry different factors.
    const bgv::Evaluator ev(bgv::make_tables(client.evaluation_keys().contexts[r]));
    auto a = outs[0][0], b = outs[1][0];
    const auto level = std::size_t(prog.instrs[std::size_t(prog.outputs[2].tensor)].level);
    ev.mod_switch_to_inplace(a, level);
    ev.mod_switch_to_inplace(b, level);
    ASSERT_NE(a.correction_factor, b.correction_factor) << "the members' factors agree: this test no longer reaches the folding path";
    const auto sim = simulate_mod(prog, slots, client.plain_modulus(r));
    for (std::size_t k = 0; k < outs.size(); ++k) {
      EXPECT_EQ(client.decrypt(r, outs[k], 7), sim[std::size_t(prog.outputs[k].tensor)]) << prog.outputs[k].name << ", residue " << r;
      for (const auto& ct : outs[k]) EXPECT_GE(client.noise_budget(r, ct), int(prog.predicted_final_budget) - 1) << prog.outputs[k].name;
    }
  }
}

TEST(BgvBackend, InferenceDriverMatchesTheQuantizedModel) {
  std::vector<Model> ms = {testing::tiny_model(3, false), testing::tiny_model(4, false)};
  EnsembleOptions ens;
  ens.combiners = {compiler::Combiner::mean};
  auto opt = bgv_options(4);
  opt.poly_degree = 0;
  const auto prog = compiler::compile(ms, ens, opt);
  const auto raw = testing::random_images(12, 64, 5);
  const auto rep = run_encrypted(prog, ms, raw.data(), 12, 64, nullptr, {});
  EXPECT_EQ(rep.scheme, "BGV");
  ASSERT_EQ(rep.outputs.size(), 3u);
  for (const auto& o : rep.outputs) {
    EXPECT_EQ(o.exact_scores, 12u) << o.name;
    EXPECT_EQ(o.agree_quantized, 12u) << o.name;
    EXPECT_GE(o.min_noise_budget, int(prog.predicted_final_budget) - 1) << o.name;
  }
}

TEST(BgvBackend, RefusesBfvKeysAndCiphertexts) {
  const Model m = testing::tiny_model(5, false);
  const auto prog = compiler::compile(std::span(&m, 1), {}, bgv_options(3));
  math::DeterministicPrngForTests prng(1);
  BfvClient bfv(prog.params, true, prng, Scheme::bfv), bgv(prog.params, true, prng, Scheme::bgv);
  try {
    BfvServer s(prog, bfv.evaluation_keys());
    FAIL() << "BFV keys accepted for a BGV plan";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("BGV"), std::string::npos) << e.what();
  }
  BfvServer server(prog, bgv.evaluation_keys());
  const auto slots = quantized_batch(prog, 2, 1);
  EXPECT_THROW(server.evaluate(0, bfv.encrypt(0, slots, prog.instrs[0].level)), std::invalid_argument);
  EXPECT_NO_THROW(server.evaluate(0, bgv.encrypt(0, slots, prog.instrs[0].level)));
  EXPECT_THROW(BfvClient(prog.params, true, prng, Scheme::ckks), std::invalid_argument);
}

}  // namespace
}  // namespace hecnn::nn::runtime
