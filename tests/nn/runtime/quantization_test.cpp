// BFV quantization chosen by agreement (runtime/quantization.h). The oracle for "meets the
// target" is independent of the search: run_quantized (exact 128-bit integers) against the
// float model on the same calibration images; the search itself simulates in doubles.
#include "nn/runtime/quantization.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "nn/compiler/plan_io.h"
#include "nn/model/quant_rules.h"
#include "nn/runtime/inference.h"
#include "nn/runtime/pipeline.h"
#include "nn/test_models.h"

namespace hecnn::nn::runtime {
namespace {

using compiler::CompileOptions;
using compiler::EnsembleOptions;
using compiler::Program;

Dataset random_dataset(const Model& m, std::size_t count, std::uint64_t seed) {
  Dataset ds;
  ds.name = "random";
  ds.rows = m.input.shape.h;
  ds.cols = m.input.shape.w;
  ds.channels = m.input.shape.c;
  ds.images = testing::random_images(count, m.input.shape.size(), seed);
  ds.labels.assign(count, 0);
  return ds;
}

// Lowest agreement with the float model over the outputs, by the exact integer simulator.
double exact_agreement(const Program& prog, std::span<const Model> members, const Dataset& ds, std::size_t count) {
  const auto rep = run_quantized(prog, members, ds.images.data(), count, ds.image_size(), nullptr);
  double worst = 1.0;
  for (const auto& o : rep.outputs) worst = std::min(worst, double(o.agree_float) / double(count));
  return worst;
}

struct Net {
  const char* name;
  std::function<std::vector<Model>()> make;
  double target;
};

class ChosenQuantization : public ::testing::TestWithParam<Net> {};

TEST_P(ChosenQuantization, MeetsTheTargetOnTheCalibrationImagesAtOrAboveTheDefaults) {
  const auto members = GetParam().make();
  const Dataset ds = random_dataset(members[0], 1500, 11);
  QuantizationRequest req;
  req.target = GetParam().target;
  req.images = ds.count();
  std::string log;
  req.log = [&](const std::string& line) { log += line + "\n"; };
  EnsembleOptions ens;
  if (members.size() > 1) ens.combiners = {compiler::Combiner::mean};
  const CompileOptions base;
  const Program prog = choose_quantization(members, ens, base, ds, req);
  const auto& q = prog.quantization;
  ASSERT_TRUE(q.searched);
  EXPECT_EQ(q.calibration_images, ds.count());
  EXPECT_DOUBLE_EQ(q.target, req.target);
  EXPECT_NEAR(q.calibration_target, 1 - (1 - req.target) / req.unseen_factor, 1e-12);
  ASSERT_TRUE(q.target_met) << compiler::quantization_summary(q) << "\n" << log;
  EXPECT_GE(q.agreement, q.calibration_target);
  // Independent check of the claim: exact integers, the same images.
  EXPECT_GE(exact_agreement(prog, members, ds, ds.count()), q.calibration_target) << compiler::quantization_summary(q);
  // Never below the defaults; the reported cost is the plan's.
  EXPECT_GE(q.input_bits, base.input_bits);
  for (const auto& [name, bits] : q.layer_bits) EXPECT_GE(bits, name.find("act") != std::string::npos ? base.coeff_bits : base.weight_bits) << name;
  EXPECT_DOUBLE_EQ(q.cost, compiler::predicted_cost_per_image(prog));
  EXPECT_GE(q.cost, q.default_cost * 0.999);
  EXPECT_GT(q.evaluations, 0u);
  // The chosen bits reproduce the plan when compiled directly.
  CompileOptions again = base;
  again.input_bits = q.input_bits;
  for (const auto& [name, bits] : q.layer_bits) again.layer_bits[name] = bits;
  const Program direct = compiler::compile(members, ens, again);
  EXPECT_EQ(direct.params.plain_moduli, prog.params.plain_moduli);
  EXPECT_EQ(direct.instrs.size(), prog.instrs.size());
}

INSTANTIATE_TEST_SUITE_P(
    Nets, ChosenQuantization,
    ::testing::Values(Net{"tiny_general_poly_t99", [] { return std::vector<Model>{testing::tiny_model(3)}; }, 0.99},
                      Net{"small_cryptonets_t99_5", [] { return std::vector<Model>{testing::small_cryptonets(4)}; }, 0.995},
                      Net{"tiny_square_only_t98", [] { return std::vector<Model>{testing::tiny_model(5, false)}; }, 0.98},
                      Net{"ensemble_of_two_t99",
                          [] { return std::vector<Model>{testing::tiny_model(6, false), testing::shallow_model(7)}; }, 0.99}),
    [](const ::testing::TestParamInfo<Net>& i) { return std::string(i.param.name); });

// Two classes whose float scores differ by 1e-13 of the bias and nothing else: no
// quantization can tell them apart, so the target is out of reach and said so.
TEST(ChosenQuantizationUnreachable, ReportsTheBestAgreementReached) {
  Model m;
  m.meta.name = "tie";
  m.input.shape = {1, 4, 4};
  Dense d;
  d.in_features = 16;
  d.out_features = 2;
  d.weight.assign(32, 0.0);
  for (int i = 0; i < 16; ++i) d.weight[std::size_t(i)] = d.weight[std::size_t(16 + i)] = 0.01 * (i % 5 - 2);
  d.bias = {0.5, 0.5 + 1e-13};
  m.layers.push_back(d);
  const Dataset ds = random_dataset(m, 300, 2);
  QuantizationRequest req;
  req.images = ds.count();
  const Program prog = choose_quantization(std::span(&m, 1), {}, CompileOptions{}, ds, req);
  const auto& q = prog.quantization;
  EXPECT_FALSE(q.target_met);
  EXPECT_LT(q.agreement, req.target);
  EXPECT_NE(compiler::quantization_summary(q).find("NOT met"), std::string::npos);
  EXPECT_NEAR(exact_agreement(prog, std::span(&m, 1), ds, ds.count()), q.agreement, 1e-12);  // the best reached, measured
  EXPECT_FALSE(prog.instrs.empty());  // still a runnable plan
}

TEST(ChosenQuantizationKnobs, FixedKnobsKeepTheirBits) {
  const Model m = testing::small_cryptonets(8);
  const Dataset ds = random_dataset(m, 600, 3);
  QuantizationRequest req;
  req.images = ds.count();
  req.search_weights = false;
  CompileOptions base;
  base.weight_bits = 7;
  const Program prog = choose_quantization(std::span(&m, 1), {}, base, ds, req);
  for (const auto& [name, bits] : prog.quantization.layer_bits) {
    EXPECT_EQ(name.find("conv"), std::string::npos) << name;
    EXPECT_EQ(name.find("dense"), std::string::npos) << name;
  }
  EXPECT_EQ(prog.quantization.weight_bits, 7);
  EXPECT_NE(prog.description.find("weights 7 bits"), std::string::npos) << prog.description;
}

// Weights already on a grid (as quantization-aware training writes them) are the same
// values at any more bits: the search does not raise those knobs past the grid, and says so.
TEST(ChosenQuantizationKnobs, WeightsOnAGridAreNotRaisedPastIt) {
  Model m = testing::small_cryptonets(8);
  int layers = 0;
  for (auto& l : m.layers) {
    std::vector<double>* w = nullptr;
    if (auto* c = std::get_if<Conv2d>(&l)) w = &c->weight;
    if (auto* d = std::get_if<Dense>(&l)) w = &d->weight;
    if (!w) continue;
    const int k = nn::weight_exponent(*w, 6);
    for (double& x : *w) x = nn::on_grid(x, k);
    EXPECT_EQ(nn::grid_bits(*w), 6);
    ++layers;
  }
  ASSERT_GE(layers, 2);
  const Dataset ds = random_dataset(m, 600, 3);
  QuantizationRequest req;
  req.images = ds.count();
  req.target = 0.9999;  // high enough to raise the input bits
  std::string log;
  req.log = [&](const std::string& line) { log += line + "\n"; };
  const Program prog = choose_quantization(std::span(&m, 1), {}, CompileOptions{}, ds, req);
  for (const auto& [name, bits] : prog.quantization.layer_bits)
    if (name.find("conv") != std::string::npos || name.find("dense") != std::string::npos) EXPECT_LE(bits, 6) << name;
  EXPECT_LE(prog.quantization.weight_bits, 6);
  EXPECT_NE(log.find("weights lie on a 6-bit grid"), std::string::npos) << log;
  EXPECT_NE(log.find("every knob +1"), std::string::npos) << "the search did not raise anything:\n" << log;
  // A trained (float) layer lies on no grid.
  EXPECT_EQ(nn::grid_bits(std::get<Dense>(testing::small_cryptonets(9).layers.back()).weight), 0);
}

TEST(ChosenQuantizationRequests, BadOnesAreRefusedBeforeAnyWork) {
  const Model m = testing::tiny_model(1);
  const Dataset ds = random_dataset(m, 10, 1);
  QuantizationRequest req;
  req.target = 0;
  EXPECT_THROW(choose_quantization(std::span(&m, 1), {}, {}, ds, req), std::invalid_argument);
  req.target = 1.5;
  EXPECT_THROW(choose_quantization(std::span(&m, 1), {}, {}, ds, req), std::invalid_argument);
  req.target = 0.99;
  req.unseen_factor = 0.5;
  EXPECT_THROW(choose_quantization(std::span(&m, 1), {}, {}, ds, req), std::invalid_argument);
  req.unseen_factor = 3;
  EXPECT_THROW(choose_quantization(std::span(&m, 1), {}, {}, Dataset{}, req), std::invalid_argument);
  CompileOptions ckks;
  ckks.scheme = compiler::Scheme::ckks;
  EXPECT_THROW(choose_quantization(std::span(&m, 1), {}, ckks, ds, req), std::invalid_argument);
  const Dataset wrong = random_dataset(testing::small_cryptonets(1), 10, 1);
  EXPECT_THROW(choose_quantization(std::span(&m, 1), {}, {}, wrong, req), std::invalid_argument);
}

// make_plan: BFV with training images searches; without, or with all bits given, or with
// target 0, the fixed bits; a searched plan survives the plan file.
TEST(ChosenQuantizationPipeline, MakePlanSearchesOnlyWhenAsked) {
  const Model m = testing::small_cryptonets(9);
  const Dataset ds = random_dataset(m, 400, 4);
  PlanRequest req;
  req.quantization_images = ds.count();
  const Program searched = make_plan(std::span(&m, 1), req, &ds);
  EXPECT_TRUE(searched.quantization.searched);
  EXPECT_FALSE(make_plan(std::span(&m, 1), req, nullptr).quantization.searched);
  PlanRequest fixed = req;
  fixed.agreement_target = 0;
  const Program f = make_plan(std::span(&m, 1), fixed, &ds);
  EXPECT_FALSE(f.quantization.searched);
  EXPECT_EQ(f.quantization.input_bits, 5);
  EXPECT_EQ(f.quantization.weight_bits, 6);
  PlanRequest all = req;
  all.input_bits = 5;
  all.weight_bits = 6;
  all.coeff_bits = 8;
  EXPECT_FALSE(make_plan(std::span(&m, 1), all, &ds).quantization.searched);
  PlanRequest bad = req;
  bad.agreement_target = 2;
  EXPECT_THROW(make_plan(std::span(&m, 1), bad, &ds), std::invalid_argument);
  // Plan file round trip keeps the record.
  const Program back = compiler::parse_plan(compiler::serialize_plan(searched));
  const auto &a = searched.quantization, &b = back.quantization;
  EXPECT_TRUE(b.searched);
  EXPECT_EQ(a.layer_bits, b.layer_bits);
  EXPECT_EQ(a.input_bits, b.input_bits);
  EXPECT_DOUBLE_EQ(a.agreement, b.agreement);
  EXPECT_DOUBLE_EQ(a.calibration_target, b.calibration_target);
  EXPECT_DOUBLE_EQ(a.cost, b.cost);
  EXPECT_EQ(a.target_met, b.target_met);
  EXPECT_EQ(a.evaluations, b.evaluations);
}

}  // namespace
}  // namespace hecnn::nn::runtime
