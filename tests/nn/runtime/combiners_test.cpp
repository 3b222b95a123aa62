// Fitted ensemble combiners (runtime/combiners.h): the fits on synthetic logits, and the
// compiled combiners run encrypted against their plaintext references (BFV/BGV exact
// against the quantized program, every scheme against the fitted affine map on the float
// logits).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "nn/runtime/combiners.h"
#include "nn/runtime/inference.h"
#include "nn/runtime/pipeline.h"
#include "nn/test_models.h"

namespace hecnn::nn::runtime {
namespace {

// Three members, 10 classes: member i is informative only on its own label group (the
// full-skew case of seed 001): on those classes its logit is high for the true label; on
// the other classes its logits are noise with a member-specific offset and spread.
MemberLogits skewed_logits(std::size_t images, std::uint64_t seed) {
  const std::vector<std::vector<int>> groups = {{0, 1, 2}, {3, 4, 5}, {6, 7, 8, 9}};
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 1);
  MemberLogits v;
  v.images = images;
  v.members = 3;
  v.classes = 10;
  v.z.resize(images * 30);
  for (std::size_t n = 0; n < images; ++n) {
    const int label = int(rng() % 10);
    v.labels.push_back(std::uint8_t(label));
    for (std::size_t i = 0; i < 3; ++i) {
      const auto& g = groups[i];
      const bool mine = std::find(g.begin(), g.end(), label) != g.end();
      // Members' scales differ by 10x: the mean of raw logits is dominated by member 2.
      const double scale = i == 2 ? 10.0 : 1.0;
      for (int c = 0; c < 10; ++c) {
        const bool in_group = std::find(g.begin(), g.end(), c) != g.end();
        double z = in_group ? noise(rng) : -3 + 0.5 * noise(rng);
        // A member confidently picks one of its own classes even for a foreign image;
        // its winning logit is only larger (by 2) when the image is really its own.
        if (in_group && (c == label || (!mine && c == g[n % g.size()]))) z += mine ? 6 : 4;
        v.z[(n * 3 + i) * 10 + std::size_t(c)] = scale * z;
      }
    }
  }
  return v;
}

double mean_accuracy(const MemberLogits& v) {
  std::size_t right = 0;
  for (std::size_t n = 0; n < v.images; ++n) {
    int best = 0;
    double bv = -1e300;
    for (std::size_t c = 0; c < v.classes; ++c) {
      double s = 0;
      for (std::size_t i = 0; i < v.members; ++i) s += v.at(n, i, c);
      if (s > bv) bv = s, best = int(c);
    }
    right += best == v.labels[n];
  }
  return double(right) / double(v.images);
}

TEST(Combiners, StackerBeatsTheMeanAtFullSkew_3Members10Classes) {
  const auto train = skewed_logits(3000, 1), test = skewed_logits(3000, 2);
  const auto fit = fit_stacker(train);
  const double mean = mean_accuracy(test), stacked = combiner_accuracy(fit.combiner, test);
  EXPECT_LT(mean, 0.75) << "the synthetic case should defeat the raw mean";
  EXPECT_GT(stacked, 0.8) << "mean " << mean;
  EXPECT_GT(stacked, mean + 0.3);
  EXPECT_GT(fit.validation_accuracy, 0.8);
  EXPECT_TRUE(std::isfinite(fit.loss));
  // Deterministic: the same fit twice.
  const auto again = fit_stacker(train);
  EXPECT_EQ(again.combiner.weights, fit.combiner.weights);
}

TEST(Combiners, NormalizationCentresEachMemberAndScalesToUnitSpread) {
  const auto v = skewed_logits(2000, 3);
  const auto a = fit_normalization(v);
  ASSERT_EQ(a.weights.size(), 10u * 30u);
  for (std::size_t i = 0; i < 3; ++i) {
    double sum = 0, ss = 0;
    // Member i's contribution to class c: w z + (its share of the bias) = (z - mu_ic) / sigma_i.
    std::vector<double> mu(10, 0.0);
    for (std::size_t n = 0; n < v.images; ++n)
      for (std::size_t c = 0; c < 10; ++c) mu[c] += v.at(n, i, c) / double(v.images);
    for (std::size_t n = 0; n < v.images; ++n)
      for (std::size_t c = 0; c < 10; ++c) {
        const double t = a.weights[c * 30 + i * 10 + c] * (v.at(n, i, c) - mu[c]);
        sum += t;
        ss += t * t;
      }
    const double cnt = double(v.images * 10);
    EXPECT_NEAR(sum / cnt, 0, 1e-9) << "member " << i;
    EXPECT_NEAR(std::sqrt(ss / cnt), 1, 1e-9) << "member " << i;
    // Only diagonal blocks: member i's class c feeds class c.
    for (std::size_t c = 0; c < 10; ++c)
      for (std::size_t j = 0; j < 10; ++j)
        if (j != c) EXPECT_EQ(a.weights[c * 30 + i * 10 + j], 0.0);
  }
  EXPECT_GT(combiner_accuracy(a, v), mean_accuracy(v)) << "per-member scaling removes member 2's dominance";
}

TEST(Combiners, TemperaturesKeepTheSquareMonotoneOnTheValidationLogits) {
  const auto v = skewed_logits(1000, 4);
  const auto t = fit_temperatures(v);
  ASSERT_EQ(t.temperature.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t n = 0; n < v.images; ++n)
      for (std::size_t c = 0; c < 10; ++c) EXPECT_GT(v.at(n, i, c) - t.shift[i], -2 * t.temperature[i]);
  EXPECT_GT(t.temperature[2], 5 * t.temperature[0]) << "member 2's logits spread 10x wider";
}

TEST(Combiners, BadValidationRangesAreRefused) {
  const std::vector<Model> ms = {testing::tiny_model(1), testing::tiny_model(2)};
  Dataset ds;
  ds.rows = ds.cols = 8;
  ds.images.assign(10 * 64, 7);
  ds.labels.assign(10, 1);
  EXPECT_THROW(member_logits(ms, ds, 5, 6), std::invalid_argument);
  EXPECT_THROW(member_logits(ms, ds, 0, 0), std::invalid_argument);
  PlanRequest req;
  req.validation_images = 11;
  EXPECT_THROW(validation_range(req, ds), std::invalid_argument);
  req.validation_images = 0;
  EXPECT_THROW(validation_range(req, ds), std::invalid_argument);
  Dataset wrong = ds;
  wrong.rows = 4;
  wrong.images.resize(10 * 32);
  EXPECT_THROW(member_logits(ms, wrong, 0, 10), std::invalid_argument);
}

// A synthetic "training part": random images, labels from a fixed rule of the pixels so
// that a stacker has something to learn.
Dataset synthetic_training(std::size_t count, std::size_t size, std::uint64_t seed) {
  Dataset ds;
  ds.rows = 8;
  ds.cols = int(size / 8);
  ds.num_classes = 3;
  ds.images = testing::random_images(count, size, seed);
  for (std::size_t n = 0; n < count; ++n) {
    unsigned s = 0;
    for (std::size_t k = 0; k < 8; ++k) s += ds.images[n * size + k];
    ds.labels.push_back(std::uint8_t(s % 3));
  }
  return ds;
}

struct SchemeCase {
  const char* name;
  compiler::Scheme scheme;
};
class FittedCombinersEncrypted : public ::testing::TestWithParam<SchemeCase> {};

// Three tiny members; one plan with the fitted combiners (normalized, stacked, per-member
// poly-softmax) and the mean; 32 images encrypted. Integer schemes: every decrypted score
// equals the quantized program's (exact_scores). All schemes: the decrypted normalized and
// stacked scores equal the fitted affine maps (fitted again here, independently of the plan)
// applied to the decrypted member scores, within 1% of the score range (the weights'
// quantization); CKKS (8-bit inputs) agrees with the float reference on all images but one.
TEST_P(FittedCombinersEncrypted, MatchThePlaintextReference) {
  const std::vector<Model> ms = {testing::tiny_model(31), testing::tiny_model(32), testing::tiny_model(33)};
  const std::size_t size = ms[0].input.shape.size();
  const Dataset train = synthetic_training(400, size, 9);
  PlanRequest req;
  req.scheme = GetParam().scheme;
  req.combiners = {compiler::Combiner::mean, compiler::Combiner::normalized, compiler::Combiner::stacked,
                   compiler::Combiner::poly_softmax};
  req.validation_images = 300;
  req.agreement_target = 0;  // the scheme's fixed default bits
  req.calibrate = 64;
  const auto prog = make_plan(ms, req, &train);
  std::vector<std::string> combiners;
  for (const auto& o : prog.outputs)
    if (!o.combiner.empty()) combiners.push_back(o.combiner);
  ASSERT_EQ(combiners, (std::vector<std::string>{"mean", "normalized", "stacked", "poly-softmax"}));

  CombinerFitReport fr;
  compiler::EnsembleOptions ens;
  fit_combiners(ms, req, train, ens, &fr);
  EXPECT_EQ(fr.first, 100u);
  EXPECT_EQ(fr.count, 300u);
  EXPECT_GE(fr.stacked_accuracy, 0.0);
  const AffineCombiner normalized{9, 3, ens.normalized_weights, ens.normalized_bias};
  const AffineCombiner stacked{9, 3, ens.stacked_weights, ens.stacked_bias};

  const std::size_t count = 32;
  const auto images = testing::random_images(count, size, 77);
  InferOptions io;
  io.noise_budget = false;
  const InferReport rep = run_encrypted(prog, ms, images.data(), count, size, nullptr, io);
  ASSERT_EQ(rep.outputs.size(), prog.outputs.size());
  for (std::size_t o = 0; o < prog.outputs.size(); ++o) {
    SCOPED_TRACE(prog.outputs[o].name);
    if (compiler::integer_scheme(req.scheme)) EXPECT_EQ(rep.outputs[o].exact_scores, count);
    if (req.scheme == compiler::Scheme::ckks) EXPECT_GE(rep.outputs[o].agree_float, count - 1);
  }
  for (const auto* name : {"normalized", "stacked"}) {
    SCOPED_TRACE(name);
    const AffineCombiner& a = std::string(name) == "stacked" ? stacked : normalized;
    const auto k = std::size_t(std::find(combiners.begin(), combiners.end(), name) - combiners.begin()) + ms.size();
    double range = 0, worst = 0;
    for (std::size_t n = 0; n < count; ++n) {
      std::vector<double> z;
      for (std::size_t m = 0; m < ms.size(); ++m) z.insert(z.end(), rep.outputs[m].scores.at(n).begin(), rep.outputs[m].scores.at(n).end());
      const auto want = a.apply(z);
      const auto& got = rep.outputs[k].scores.at(n);
      ASSERT_EQ(got.size(), want.size());
      for (std::size_t c = 0; c < want.size(); ++c) {
        range = std::max(range, std::fabs(want[c]));
        worst = std::max(worst, std::fabs(got[c] - want[c]));
      }
    }
    EXPECT_LE(worst, 0.01 * range) << "decrypted scores against W z + b on the decrypted member scores";
  }
}

INSTANTIATE_TEST_SUITE_P(Schemes, FittedCombinersEncrypted,
                         ::testing::Values(SchemeCase{"BFV", compiler::Scheme::bfv}, SchemeCase{"BGV", compiler::Scheme::bgv},
                                           SchemeCase{"CKKS", compiler::Scheme::ckks}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace hecnn::nn::runtime
