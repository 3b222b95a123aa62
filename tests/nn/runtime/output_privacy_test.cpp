// Differentially private answers (runtime/output_privacy.h): the sampler's distribution,
// the sensitivity measure, the plan's accounting, and the decrypted noise of an encrypted
// ensemble against the stated mechanism (Kolmogorov-Smirnov tests at alpha = 0.001).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "math/prng.h"
#include "nn/compiler/plan_io.h"
#include "nn/runtime/inference.h"
#include "nn/runtime/output_privacy.h"
#include "nn/runtime/pipeline.h"
#include "nn/runtime/simulator.h"
#include "nn/test_models.h"

namespace hecnn::nn::runtime {
namespace {

double laplace_cdf(double x, double b) { return x < 0 ? 0.5 * std::exp(x / b) : 1 - 0.5 * std::exp(-x / b); }
double normal_cdf(double x, double s) { return 0.5 * std::erfc(-x / (s * std::sqrt(2.0))); }

// Kolmogorov-Smirnov statistic of samples against a continuous CDF.
template <typename F>
double ks_statistic(std::vector<double> x, F cdf) {
  std::sort(x.begin(), x.end());
  double d = 0;
  const double n = double(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double f = cdf(x[i]);
    d = std::max({d, f - double(i) / n, double(i + 1) / n - f});
  }
  return d;
}
double ks_critical_001(std::size_t n) { return 1.949 / std::sqrt(double(n)); }

struct MechanismCase {
  const char* name;
  const char* mechanism;
  double epsilon;
};
class NoiseSampler : public ::testing::TestWithParam<MechanismCase> {};

TEST_P(NoiseSampler, MatchesTheStatedDistribution_20000Samples) {
  compiler::OutputPrivacy p{GetParam().mechanism, GetParam().epsilon, 1e-5};
  const auto np = compiler::dp_noise(p, 3.0);
  compiler::Output o;
  o.name = "ensemble";
  o.dp_noise_scale = np.scale;
  o.dp_noise_bound = np.bound;
  math::DeterministicPrngForTests prng(5);
  const auto x = sample_noise(p, o, 20000, prng);
  const bool lap = std::string(p.mechanism) == "laplace";
  const double d = ks_statistic(x, [&](double v) { return lap ? laplace_cdf(v, np.scale) : normal_cdf(v, np.scale); });
  EXPECT_LT(d, ks_critical_001(x.size()));
  for (double v : x) ASSERT_LE(std::fabs(v), np.bound);
  // Scale: Laplace b = S / epsilon, Gaussian sigma = S sqrt(2 ln(1.25 / delta)) / epsilon.
  EXPECT_NEAR(np.scale, lap ? 3.0 / p.epsilon : 3.0 * std::sqrt(2 * std::log(1.25e5)) / p.epsilon, 1e-9);
}

INSTANTIATE_TEST_SUITE_P(Mechanisms, NoiseSampler,
                         ::testing::Values(MechanismCase{"Laplace_eps1", "laplace", 1.0}, MechanismCase{"Laplace_eps16", "laplace", 16.0},
                                           MechanismCase{"Gaussian_eps05", "gaussian", 0.5}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(OutputPrivacy, BadParametersAreRefusedBeforeAnyWork) {
  EXPECT_THROW(compiler::dp_noise({"laplace", 0, 0}, 1), compiler::CompileError);
  EXPECT_THROW(compiler::dp_noise({"laplace", 1, 0}, 0), compiler::CompileError);
  EXPECT_THROW(compiler::dp_noise({"gaussian", 2, 1e-5}, 1), compiler::CompileError);  // epsilon > 1
  EXPECT_THROW(compiler::dp_noise({"gaussian", 0.5, 0}, 1), compiler::CompileError);
  EXPECT_THROW(compiler::dp_noise({"exponential", 1, 0}, 1), compiler::CompileError);
  const std::vector<Model> one = {testing::tiny_model(1)};
  PlanRequest req;
  req.dp_mechanism = "laplace";
  req.dp_epsilon = 1;
  EXPECT_THROW(make_plan(one, req, nullptr), std::invalid_argument);  // not an ensemble
  const std::vector<Model> two = {testing::tiny_model(1), testing::tiny_model(2)};
  EXPECT_THROW(make_plan(two, req, nullptr), std::invalid_argument);  // no validation images
  req.dp_epsilon = -1;
  EXPECT_THROW(make_plan(two, req, nullptr), std::invalid_argument);
}

Dataset training_images(std::size_t count, std::uint64_t seed) {
  Dataset ds;
  ds.rows = ds.cols = 8;
  ds.num_classes = 3;
  ds.images = testing::random_images(count, 64, seed);
  for (std::size_t n = 0; n < count; ++n) ds.labels.push_back(std::uint8_t(ds.images[n * 64] % 3));
  return ds;
}

// One image repeated 100 times through an encrypted BFV ensemble with Laplace noise on the
// mean: the decrypted scores minus the noiseless quantized program's are the noise (the plan's
// fixed-point grid is far finer than b). They must follow Laplace(b) (KS over 300 values), the
// reference with the same noise must still equal the decryption exactly, and the plan must
// reserve the noise in the output's bound and survive a save/load.
TEST(OutputPrivacy, DecryptedNoiseFollowsTheMechanism_BfvMean100Copies) {
  const std::vector<Model> ms = {testing::tiny_model(41), testing::tiny_model(42)};
  const Dataset train = training_images(200, 3);
  PlanRequest req;
  req.combiners = {compiler::Combiner::mean};
  req.validation_images = 200;
  req.agreement_target = 0;
  PlanRequest noisy = req;
  noisy.dp_mechanism = "laplace";
  noisy.dp_epsilon = 2;
  const auto plain = make_plan(ms, req, &train);
  const auto prog = make_plan(ms, noisy, &train);
  const auto& out = prog.outputs.back();
  ASSERT_EQ(out.combiner, "mean");
  ASSERT_GT(out.dp_sensitivity, 0);
  EXPECT_NEAR(out.dp_noise_scale, out.dp_sensitivity / 2, 1e-12);
  EXPECT_GT(out.log2_bound, plain.outputs.back().log2_bound) << "the noise is reserved in the plaintext modulus";
  const auto back = compiler::parse_plan(compiler::serialize_plan(prog));
  EXPECT_EQ(back.privacy.mechanism, "laplace");
  EXPECT_EQ(back.outputs.back().dp_noise_scale, out.dp_noise_scale);

  const std::size_t copies = 100;
  std::vector<std::uint8_t> images;
  const auto one = testing::random_images(1, 64, 99);
  for (std::size_t i = 0; i < copies; ++i) images.insert(images.end(), one.begin(), one.end());
  InferOptions io;
  io.noise_budget = false;
  const auto rep = run_encrypted(prog, ms, images.data(), copies, 64, nullptr, io);
  EXPECT_EQ(rep.outputs.back().exact_scores, copies) << "decryption = quantized program + the coordinator's noise";
  // Member outputs carry no noise.
  EXPECT_EQ(rep.outputs[0].scores[0], rep.outputs[0].scores[copies - 1]);
  const auto exact = simulate_exact(prog, to_slots({prog.quantize_input(one.data(), 64)}));
  const auto& q = exact[std::size_t(out.tensor)];
  std::vector<double> noise;
  for (std::size_t i = 0; i < copies; ++i)
    for (std::size_t c = 0; c < q.size(); ++c) noise.push_back(rep.outputs.back().scores[i][c] - double(q[c][0]) / out.scale);
  const double d = ks_statistic(noise, [&](double v) { return laplace_cdf(v, out.dp_noise_scale); });
  EXPECT_LT(d, ks_critical_001(noise.size())) << "b " << out.dp_noise_scale;
  double mean_abs = 0;
  for (double v : noise) mean_abs += std::fabs(v) / double(noise.size());
  EXPECT_NEAR(mean_abs, out.dp_noise_scale, 0.25 * out.dp_noise_scale) << "E|X| = b for Laplace";
}

// The sensitivity is the largest distance between two validation images' contributions of
// one member: for the mean of two members (sum units), member i's contribution is its logits.
TEST(OutputPrivacy, SensitivityIsTheLargestPairwiseDistanceOfAMembersContributions) {
  const std::vector<Model> ms = {testing::tiny_model(51), testing::tiny_model(52)};
  const Dataset train = training_images(60, 4);
  PlanRequest req;
  req.combiners = {compiler::Combiner::mean};
  req.agreement_target = 0;
  req.validation_images = 60;
  const auto prog = make_plan(ms, req, &train);
  const auto v = member_logits(ms, train, 0, 60);
  const auto s1 = measure_sensitivity(prog, v, "laplace").at(compiler::Combiner::mean);
  const auto s2 = measure_sensitivity(prog, v, "gaussian").at(compiler::Combiner::mean);
  double want1 = 0, want2 = 0;
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t a = 0; a < 60; ++a)
      for (std::size_t b = 0; b < 60; ++b) {
        double d1 = 0, d2 = 0;
        for (std::size_t c = 0; c < 3; ++c) {
          const double x = v.at(a, i, c) - v.at(b, i, c);
          d1 += std::fabs(x);
          d2 += x * x;
        }
        want1 = std::max(want1, d1);
        want2 = std::max(want2, std::sqrt(d2));
      }
  // The plan's mean weighs each member by its integer alignment factor (1 here, in real units).
  EXPECT_NEAR(s1, want1, 1e-9 * want1);
  EXPECT_NEAR(s2, want2, 1e-9 * want2);
  EXPECT_LE(s2, s1);
}

}  // namespace
}  // namespace hecnn::nn::runtime
