// A saved plan (compiler/plan_io.h) runs identically to the plan it was saved from:
// the same output ciphertexts, bit for bit, for BFV and for calibrated CKKS (deep and
// streamed); and the pipeline (pipeline.h) applies the scheme defaults and refuses
// requests it cannot satisfy before compiling.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "math/prng.h"
#include "nn/compiler/plan_io.h"
#include "nn/runtime/bfv_backend.h"
#include "nn/runtime/ckks_backend.h"
#include "nn/runtime/pipeline.h"
#include "nn/runtime/runtime_test_util.h"
#include "nn/test_models.h"

namespace hecnn::nn::runtime {
namespace {

using compiler::Program;

// Through a file on disk, as a model holder would receive it.
Program save_and_load(const Program& p, const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() / ("hecnn_" + name + "_" + std::to_string(::getpid()) + ".hplan");
  compiler::write_plan(p, path.string());
  Program q = compiler::read_plan(path.string());
  std::filesystem::remove(path);
  return q;
}

Dataset random_training(std::size_t count, std::size_t size, std::uint64_t seed) {
  Dataset d;
  d.rows = d.cols = int(std::lround(std::sqrt(double(size))));
  d.images = testing::random_images(count, size, seed);
  d.labels.assign(count, 0);
  return d;
}

TEST(SavedPlan, CkksCalibratedRunsIdentically) {
  const Model m = testing::tiny_model(31);
  PlanRequest req;
  req.scheme = compiler::Scheme::ckks;
  req.calibrate = 64;
  const Dataset train = random_training(64, 64, 40);
  const Program prog = make_plan(std::span(&m, 1), req, &train);
  ASSERT_TRUE(prog.instrs.back().log2_calibrated.has_value());
  const Program loaded = save_and_load(prog, "ckks");
  EXPECT_EQ(compiler::serialize_plan(loaded), compiler::serialize_plan(prog));
  for (bool streaming : {true}) {  // streaming == layer order is tested in ckks_backend_test
    SCOPED_TRACE(streaming ? "streaming" : "layer order");
    math::DeterministicPrngForTests p1(5), p2(5);
    CkksClient c1(prog, p1), c2(loaded, p2);
    CkksServer s1(prog, c1.evaluation_keys()), s2(loaded, c2.evaluation_keys());
    s1.set_streaming(streaming);
    s2.set_streaming(streaming);
    const auto slots = quantized_batch(prog, 7, 3);
    const auto y1 = s1.evaluate(c1.encrypt(slots)), y2 = s2.evaluate(c2.encrypt(slots));
    ASSERT_EQ(y1.size(), y2.size());
    for (std::size_t k = 0; k < y1.size(); ++k) {
      ASSERT_EQ(y1[k].size(), y2[k].size());
      for (std::size_t e = 0; e < y1[k].size(); ++e) {
        EXPECT_EQ(y1[k][e].data, y2[k][e].data) << "output " << k << " element " << e;
        EXPECT_EQ(y1[k][e].scale, y2[k][e].scale);
      }
    }
  }
}

TEST(SavedPlan, BfvRunsIdentically) {  // ensembles' plans round-trip in plan_io_test
  const std::vector<Model> members = {testing::tiny_model(3)};
  const Program prog = make_plan(members, PlanRequest{}, nullptr);
  const Program loaded = save_and_load(prog, "bfv");
  math::DeterministicPrngForTests p1(9), p2(9);
  BfvClient c1(prog.params, !prog.keys.empty(), p1), c2(loaded.params, !loaded.keys.empty(), p2);
  BfvServer s1(prog, c1.evaluation_keys()), s2(loaded, c2.evaluation_keys());
  const auto slots = quantized_batch(prog, 5, 1);
  ASSERT_EQ(c1.residues(), c2.residues());
  for (std::size_t r = 0; r < 1; ++r) {  // residues differ only in t
    const auto y1 = s1.evaluate(r, c1.encrypt(r, slots, prog.instrs[0].level));
    const auto y2 = s2.evaluate(r, c2.encrypt(r, slots, loaded.instrs[0].level));
    ASSERT_EQ(y1.size(), y2.size());
    for (std::size_t k = 0; k < y1.size(); ++k)
      for (std::size_t e = 0; e < y1[k].size(); ++e) EXPECT_EQ(y1[k][e].data, y2[k][e].data) << "residue " << r << " output " << k;
  }
}

TEST(Pipeline, SchemeDefaults) {
  PlanRequest req;
  auto opt = compile_options(req);
  EXPECT_EQ(opt.input_bits, 5);
  EXPECT_EQ(opt.weight_bits, 6);
  EXPECT_EQ(opt.coeff_bits, 8);
  req.scheme = compiler::Scheme::ckks;
  opt = compile_options(req);
  EXPECT_EQ(opt.input_bits, 8);
  EXPECT_EQ(opt.weight_bits, 10);
  EXPECT_EQ(opt.coeff_bits, 12);
  req.input_bits = 6;
  EXPECT_EQ(compile_options(req).input_bits, 6);
}

TEST(Pipeline, RefusesWhatItCannotDo) {
  const std::vector<Model> members = {testing::tiny_model(3), testing::tiny_model(4)};
  PlanRequest req;
  req.combiners = {compiler::Combiner::weighted_mean};  // the random models record no accuracy
  EXPECT_THROW(make_plan(members, req, nullptr), std::invalid_argument);
  req.combiners = {compiler::Combiner::poly_softmax};   // no temperature and no data to choose it
  EXPECT_THROW(make_plan(members, req, nullptr), std::invalid_argument);
  req.combiners = {compiler::Combiner::mean};
  req.scheme = compiler::Scheme::ckks;                  // calibration without data
  EXPECT_THROW(make_plan(std::span(members.data(), 1), req, nullptr), std::invalid_argument);
  const Dataset wrong = random_training(4, 16, 1);      // 4x4 images for an 8x8 model
  EXPECT_THROW(make_plan(std::span(members.data(), 1), req, &wrong), std::invalid_argument);
  // Poly-softmax temperatures are fitted on validation images: more than the training part holds is refused.
  req.scheme = compiler::Scheme::bfv;
  req.combiners = {compiler::Combiner::poly_softmax};
  const Dataset train = random_training(16, 64, 2);
  EXPECT_THROW(make_plan(members, req, &train), std::invalid_argument);  // 5,000 validation images by default
  // Fitted on the last 16: positive, the smallest recorded.
  req.validation_images = 16;
  EXPECT_GT(make_plan(members, req, &train).temperature, 0.0);
}

// CryptoDL's ReLU approximation has a cubic coefficient of -2.7e-18: negligible over the
// calibrated ranges, not over the worst-case bounds of deep layers. The pipeline drops it
// (one level per activation instead of two) and the plan still agrees with its own oracle.
TEST(Pipeline, CalibratedRangesDropNegligibleTerms) {
  std::mt19937_64 rng(8);
  Model m;
  m.input.shape = {1, 4, 4};
  // Wide, large weights: worst-case bounds grow like B^2 per layer (2^30 and more at the end).
  auto wide = [&](int in, int out) {
    Dense d = testing::dense(in, out, rng);
    for (auto& w : d.weight) w *= 4;
    return d;
  };
  m.layers.push_back(wide(16, 16));
  for (int k = 0; k < 5; ++k) {
    m.layers.push_back(Poly{{0.81744, 0.5, 0.0568856, -2.69509e-18}});
    m.layers.push_back(wide(16, k == 4 ? 4 : 16));
  }
  PlanRequest req;
  req.scheme = compiler::Scheme::ckks;
  req.calibrate = 32;
  const Dataset train = random_training(32, 16, 5);
  const Program prog = make_plan(std::span(&m, 1), req, &train);
  auto opt = compile_options(req);
  const Program worst = compiler::compile(std::span(&m, 1), {}, opt);
  EXPECT_LT(compiler::cost(prog).depth, compiler::cost(worst).depth);
  EXPECT_NE(prog.description.find("dropped"), std::string::npos) << prog.description;
  // Without calibration (or with worst-case fitting) nothing is dropped.
  req.ckks_overflow_margin_bits = -1;
  EXPECT_EQ(compiler::cost(make_plan(std::span(&m, 1), req, &train)).depth, compiler::cost(worst).depth);
}

}  // namespace
}  // namespace hecnn::nn::runtime
