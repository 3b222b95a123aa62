#include <gtest/gtest.h>

#include "nn/compiler/compiler.h"
#include "nn/compiler/params_internal.h"
#include "nn/test_models.h"

namespace hecnn::nn::compiler {
namespace {

TEST(Compiler, LowersConvWithPaddingAndSkipsZeroWeights) {
  Model m = testing::tiny_model(1, false);
  auto& c = std::get<Conv2d>(m.layers[0]);
  for (auto& w : c.weight) w = 0.5;
  c.weight[0] = 0.0;  // a zero weight must produce no term
  CompileOptions opt;
  opt.input_bits = 4;
  opt.weight_bits = 4;
  const auto prog = compile(std::span(&m, 1), {}, opt);
  const Instr& conv = prog.instrs[1];
  ASSERT_EQ(conv.op, OpKind::linear);
  ASSERT_EQ(conv.size, 2u * 4 * 4);
  // Output (0, 0, 0) with pad 1: kernel rows/cols 1..2 fall inside the image (4 taps), tap (0,0) was zeroed anyway.
  EXPECT_EQ(conv.rows[0].size(), 4u);
  // Output (0, 1, 1): full 3x3 window minus the zeroed tap.
  EXPECT_EQ(conv.rows[5].size(), 8u);
  EXPECT_EQ(prog.instrs.back().parts, 2);  // outputs relinearized
  EXPECT_FALSE(prog.keys.empty());
}

// Relinearization moves to the cheapest point between two products: here the activation
// (2x8x8 = 128 ciphertexts) rather than the wider convolution after it (4x8x8 = 256),
// which then runs on 2-part ciphertexts; never right after the square itself.
TEST(Compiler, RelinearizesWhereTheChainIsNarrowest) {
  std::mt19937_64 rng(3);
  Model m;
  m.meta.name = "widening";
  m.input.shape = {1, 8, 8};
  m.layers.push_back(testing::conv(1, 2, 3, 1, 1, rng));
  m.layers.push_back(Poly{{0.1, 0.5, 0.25}});
  m.layers.push_back(testing::conv(2, 4, 3, 1, 1, rng));
  m.layers.push_back(Poly{{0.1, 0.5, 0.25}});
  m.layers.push_back(testing::dense(256, 3, rng));
  for (Scheme scheme : {Scheme::ckks, Scheme::bfv}) {
    CompileOptions opt;
    opt.scheme = scheme;
    opt.input_bits = 3;
    opt.weight_bits = 4;
    opt.coeff_bits = 4;
    const auto prog = compile(std::span(&m, 1), {}, opt);
    std::vector<const Instr*> relins;
    for (const auto& ins : prog.instrs)
      if (ins.op == OpKind::relinearize) relins.push_back(&ins);
    ASSERT_FALSE(relins.empty());
    const Instr& first = *relins.front();
    const Instr& src = prog.instrs[std::size_t(first.inputs[0])];
    EXPECT_EQ(src.op, OpKind::linear) << scheme_name(scheme);
    EXPECT_EQ(src.size, 128u) << scheme_name(scheme) << ": relinearized after " << src.label;
    EXPECT_EQ(src.parts, 3);
    // The convolution reads 2-part ciphertexts.
    for (const auto& ins : prog.instrs)
      if (ins.op == OpKind::linear && ins.label.find("conv") != std::string::npos) EXPECT_EQ(ins.parts, 2) << ins.label;
    const Cost c = cost(prog);
    EXPECT_EQ(c.relins, 128u + 256u / 256u * 3u) << scheme_name(scheme);  // act1 band + the 3 outputs
  }
}

TEST(Compiler, LazyRelinearizationCutsRelinearizations) {
  const Model m = testing::small_cryptonets(2);
  CompileOptions lazy, eager;
  lazy.poly_degree = eager.poly_degree = 8192;
  eager.lazy_relinearize = false;
  const auto a = cost(compile(std::span(&m, 1), {}, lazy));
  const auto b = cost(compile(std::span(&m, 1), {}, eager));
  EXPECT_EQ(a.ct_mults, b.ct_mults);
  EXPECT_EQ(a.ct_mults, 75u + 10u);
  EXPECT_EQ(b.relins, 75u + 10u);
  EXPECT_EQ(a.relins, 10u + 4u);  // after dense1 (before the second square) and the outputs
}

TEST(Compiler, ChoosesCrtWhenOnePrimeIsNotEnough) {
  const Model m = testing::small_cryptonets(3);
  CompileOptions opt;
  opt.weight_bits = 10;
  opt.poly_degree = 8192;
  opt.max_plain_bits = 30;
  const auto prog = compile(std::span(&m, 1), {}, opt);
  double bits = 0;
  for (auto t : prog.params.plain_moduli) {
    EXPECT_EQ(t % (2 * 8192), 1u);
    EXPECT_LT(t, 1ull << 30);
    bits += std::log2(double(t));
  }
  EXPECT_GT(prog.params.plain_moduli.size(), 1u);
  EXPECT_GT(bits, prog.outputs[0].log2_bound + 1);
  EXPECT_GE(prog.predicted_final_budget, opt.budget_margin_bits);
  const std::string report = cost_report(prog);
  EXPECT_NE(report.find("CRT primes"), std::string::npos);
  EXPECT_NE(report.find("relinearization keys"), std::string::npos);
}

TEST(Compiler, ModSwitchLowersLaterLayers) {
  const Model m = testing::small_cryptonets(4);
  CompileOptions opt;
  opt.poly_degree = 16384;
  opt.input_bits = 4;
  opt.weight_bits = 4;
  const auto prog = compile(std::span(&m, 1), {}, opt);
  // Either the client encrypts below the top level or the server switches down on the way.
  EXPECT_LT(prog.instrs[prog.outputs[0].tensor].level, prog.params.data_primes()) << cost_report(prog);
  EXPECT_TRUE(prog.instrs[0].level < prog.params.data_primes() || cost(prog).mod_switches > 0) << cost_report(prog);
  CompileOptions no_switch = opt;
  no_switch.mod_switch = false;
  const auto full = compile(std::span(&m, 1), {}, no_switch);
  EXPECT_EQ(full.instrs[full.outputs[0].tensor].level, full.params.data_primes());
}

// BGV: the same integer program as BFV; the compiler places mod switches around the
// products (a product starts from a small phase), one per product level at least, and
// without mod switching the depth-2 network does not fit N = 8192 at all.
TEST(Compiler, BgvSwitchesAroundProductsAndNeedsThem) {
  const Model m = testing::small_cryptonets(4);
  CompileOptions opt;
  opt.scheme = Scheme::bgv;
  opt.poly_degree = 8192;
  opt.input_bits = 4;
  opt.weight_bits = 4;
  const auto prog = compile(std::span(&m, 1), {}, opt);
  EXPECT_EQ(prog.scheme, Scheme::bgv);
  EXPECT_GE(prog.predicted_final_budget, opt.budget_margin_bits);
  std::size_t switches = 0;
  for (const auto& ins : prog.instrs) switches += ins.op == OpKind::mod_switch;
  EXPECT_GE(switches, 2u) << cost_report(prog);
  const std::string report = cost_report(prog);
  EXPECT_NE(report.find("BGV parameters (128-bit security)"), std::string::npos) << report;
  // The same program as BFV: identical instructions but for the mod switches.
  CompileOptions bfv = opt;
  bfv.scheme = Scheme::bfv;
  const auto b = compile(std::span(&m, 1), {}, bfv);
  std::size_t bgv_ops = 0, bfv_ops = 0;
  for (const auto& ins : prog.instrs) bgv_ops += ins.op != OpKind::mod_switch;
  for (const auto& ins : b.instrs) bfv_ops += ins.op != OpKind::mod_switch;
  EXPECT_EQ(bgv_ops, bfv_ops);
  CompileOptions no_switch = opt;
  no_switch.mod_switch = false;
  EXPECT_THROW(compile(std::span(&m, 1), {}, no_switch), CompileError);
}

TEST(Compiler, RejectsBadModelsAndOptions) {
  Model m = testing::tiny_model(1, false);
  CompileOptions opt;
  opt.weight_bits = 1;
  EXPECT_THROW(compile(std::span(&m, 1), {}, opt), CompileError);
  Model bad = m;
  std::get<Dense>(bad.layers[3]).weight.pop_back();  // malformed
  EXPECT_THROW(compile(std::span(&bad, 1), {}, {}), CompileError);
  Model deg = m;
  deg.layers[1] = Poly{std::vector<double>(12, 0.5)};  // degree 11 activation
  EXPECT_THROW(compile(std::span(&deg, 1), {}, {}), CompileError);
  // Members must agree on classes.
  Model other = testing::small_cryptonets(1);
  std::vector<Model> ens = {m, other};
  EXPECT_THROW(compile(ens, {}, {}), CompileError);
  // Weighted ensemble needs one weight per member.
  std::vector<Model> two = {m, testing::tiny_model(2, false)};
  EnsembleOptions e;
  e.combiners = {Combiner::weighted_mean};
  e.weights = {1.0};
  EXPECT_THROW(compile(two, e, {}), CompileError);
  // Precision that no parameter set can hold.
  CompileOptions huge;
  huge.weight_bits = 24;
  huge.coeff_bits = 24;
  huge.poly_degree = 4096;
  EXPECT_THROW(compile(std::span(&m, 1), {}, huge), CompileError);
  EXPECT_THROW(parse_combiner("median"), CompileError);
}

}  // namespace
}  // namespace hecnn::nn::compiler

namespace hecnn::nn::compiler {
namespace {

// A network too deep for BFV's integer program: the refusal names where, the depth, the
// bits and the way out, and CKKS compiles the same network.
TEST(Compiler, BfvRefusesDeepNetworksNamingDepthAndBits) {
  std::mt19937_64 rng(3);
  Model m;
  m.input.shape = {1, 4, 4};
  m.layers.push_back(testing::dense(16, 4, rng));
  for (int k = 0; k < 6; ++k) {
    m.layers.push_back(Poly{{0.1, 0.5, 0.25, 0.01}});
    m.layers.push_back(testing::dense(4, 4, rng));
  }
  CompileOptions opt;
  try {
    compile(std::span(&m, 1), {}, opt);
    ADD_FAILURE() << "BFV compiled a depth-12 network";
  } catch (const CompileError& e) {
    const std::string msg = e.what();
    for (const char* needle : {"BFV cannot run this network exactly", "multiplicative depth", "of the network's 12", "bits", "--scheme ckks"})
      EXPECT_NE(msg.find(needle), std::string::npos) << "\"" << msg << "\" lacks \"" << needle << "\"";
  }
  opt.scheme = Scheme::ckks;
  opt.input_bits = 8, opt.weight_bits = 10, opt.coeff_bits = 12;
  EXPECT_NO_THROW(compile(std::span(&m, 1), {}, opt));
}


// Per-layer bits: one layer's weights change, the others' do not; names are checked.
TEST(CompilerLayerBits, AnOverrideChangesOnlyThatLayer) {
  const Model m = testing::tiny_model(21);
  CompileOptions base;
  CompileOptions fine = base;
  fine.layer_bits["m0/dense1"] = 12;
  const Program a = compile(std::span(&m, 1), {}, base), b = compile(std::span(&m, 1), {}, fine);
  auto largest = [](const Program& p, const std::string& label) {
    std::int64_t w = 0;
    for (const auto& ins : p.instrs)
      if (ins.label == label)
        for (const auto& row : ins.rows)
          for (const auto& t : row) w = std::max<std::int64_t>(w, std::llabs(t.weight));
    return w;
  };
  EXPECT_LT(largest(a, "m0/dense1"), 1 << 5);       // 6 signed bits
  EXPECT_GE(largest(b, "m0/dense1"), 1 << 10);      // 12 signed bits: the largest weight uses the top bit's range
  EXPECT_LT(largest(b, "m0/dense1"), 1 << 11);
  EXPECT_EQ(largest(a, "m0/conv1"), largest(b, "m0/conv1"));
  EXPECT_EQ(largest(a, "m0/dense2"), largest(b, "m0/dense2"));
  EXPECT_NE(b.description.find("m0/dense1 12"), std::string::npos) << b.description;
  const auto knobs = quantization_knobs(std::span(&m, 1));
  ASSERT_EQ(knobs.size(), 4u);  // conv1, dense1, act2 (general polynomial; act1 is x^2), dense2
  EXPECT_EQ(knobs[0].name, "m0/conv1");
  EXPECT_EQ(knobs[1].name, "m0/dense1");
  EXPECT_EQ(knobs[2].name, "m0/act2");
  EXPECT_FALSE(knobs[2].weights);
  EXPECT_EQ(knobs[3].name, "m0/dense2");
}

TEST(CompilerLayerBits, UnknownLayersAndBadBitsAreRefused) {
  const Model m = testing::tiny_model(22);
  CompileOptions o;
  o.layer_bits["m0/dense9"] = 8;
  try {
    compile(std::span(&m, 1), {}, o);
    ADD_FAILURE() << "accepted";
  } catch (const CompileError& e) {
    EXPECT_NE(std::string(e.what()).find("m0/dense9"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("m0/conv1"), std::string::npos) << e.what();  // lists what exists
  }
  o.layer_bits = {{"m0/act1", 8}};  // a pure square has no coefficients to quantize
  EXPECT_THROW(compile(std::span(&m, 1), {}, o), CompileError);
  o.layer_bits = {{"m0/conv1", 1}};
  EXPECT_THROW(compile(std::span(&m, 1), {}, o), CompileError);
  o.layer_bits = {{"m0/act2", 25}};
  EXPECT_THROW(compile(std::span(&m, 1), {}, o), CompileError);
}

}  // namespace
}  // namespace hecnn::nn::compiler
