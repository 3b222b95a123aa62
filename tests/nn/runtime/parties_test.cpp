// The plan split between parties (compiler/parts.h, Server::evaluate_member / combine):
// every member on its own, then the coordinator's combiner, gives exactly the scores of
// the whole plan (BFV) or the same scores within the plan's precision (CKKS); a client
// holding only the public plan (no weights) decrypts them; bad member results are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "math/prng.h"
#include "nn/compiler/parts.h"
#include "nn/compiler/plan_io.h"
#include "nn/runtime/client_server.h"
#include "nn/runtime/pipeline.h"
#include "nn/test_models.h"

namespace hecnn::nn::runtime {
namespace {

using compiler::Program;

std::vector<Model> three_members() { return {testing::tiny_model(31), testing::tiny_model(32), testing::tiny_model(33)}; }

EncryptedResult run_split(const Program& prog, const Server& server, const EncryptedBatch& batch) {
  std::vector<EncryptedResult> parts;
  for (int k = 0; k < prog.members; ++k) parts.push_back(server.evaluate_member(k, batch));
  return server.combine(std::move(parts));
}

void expect_split_equals_whole(compiler::Scheme scheme, const std::vector<compiler::Combiner>& combiners) {
  const auto members = three_members();
  PlanRequest req;
  req.scheme = scheme;
  req.calibrate = 0;
  req.combiners = combiners;
  req.weights = {0.9, 0.8, 0.7};
  req.temperature = 8;
  const Program prog = make_plan(members, req, nullptr);
  const Program pub = compiler::public_plan(prog);
  // The public plan carries no weights: its only instructions are the input and one per output.
  EXPECT_EQ(pub.instrs.size(), 1 + prog.outputs.size());
  EXPECT_EQ(compiler::plan_id(pub), compiler::plan_id(compiler::parse_plan(compiler::serialize_plan(pub))));
  const std::size_t count = 6;
  const auto raw = testing::random_images(count, 64, 7);
  math::DeterministicPrngForTests prng(11);
  Client client(pub, prng);  // the client never sees the weights
  Server server(prog, client.evaluation_keys());
  const auto batch = client.encrypt(raw.data(), count);
  const auto whole = client.decrypt(server.evaluate(batch));
  const auto split = client.decrypt(run_split(prog, server, batch));
  ASSERT_EQ(whole.size(), split.size());
  for (std::size_t k = 0; k < whole.size(); ++k)
    for (std::size_t i = 0; i < count; ++i)
      for (std::size_t c = 0; c < whole[k][i].size(); ++c) {
        if (scheme == compiler::Scheme::bfv) {
          EXPECT_EQ(split[k][i][c], whole[k][i][c]) << prog.outputs[k].name << " image " << i << " class " << c;
        } else {
          const double tol = std::exp2(prog.instrs[std::size_t(prog.outputs[k].tensor)].log2_bound - 10) / prog.outputs[k].scale;
          EXPECT_NEAR(split[k][i][c], whole[k][i][c], tol) << prog.outputs[k].name << " image " << i << " class " << c;
        }
      }
}

TEST(Parties, BfvMeanAndWeightedSplitEqualsWholePlan) {
  expect_split_equals_whole(compiler::Scheme::bfv, {compiler::Combiner::mean, compiler::Combiner::weighted_mean});
}

TEST(Parties, BfvPolySoftmaxSplitEqualsWholePlan) { expect_split_equals_whole(compiler::Scheme::bfv, {compiler::Combiner::poly_softmax}); }

TEST(Parties, CkksMeanSplitMatchesWholePlan) { expect_split_equals_whole(compiler::Scheme::ckks, {compiler::Combiner::mean}); }

TEST(Parties, PartsCoverThePlanOnce) {
  const auto members = three_members();
  const Program prog = make_plan(members, PlanRequest{}, nullptr);
  std::vector<int> owners(prog.instrs.size(), 0);
  for (int k = 0; k < prog.members; ++k) {
    const auto part = compiler::member_part(prog, k);
    EXPECT_EQ(part.given, std::vector<int>{0}) << "member " << k << " reads only the input";
    ASSERT_EQ(part.outputs.size(), 1u);
    EXPECT_EQ(prog.outputs[std::size_t(part.outputs[0])].member, k);
    for (std::size_t i = 0; i < prog.instrs.size(); ++i) owners[i] += part.runs[i];
  }
  const auto comb = compiler::combiner_part(prog);
  for (std::size_t i = 0; i < prog.instrs.size(); ++i) owners[i] += comb.runs[i];
  EXPECT_EQ(owners[0], 0);
  for (std::size_t i = 1; i < prog.instrs.size(); ++i) EXPECT_EQ(owners[i], 1) << prog.instrs[i].label;
  EXPECT_THROW(compiler::member_part(prog, 3), compiler::PlanError);
  EXPECT_THROW(compiler::member_part(prog, -1), compiler::PlanError);
}

TEST(Parties, BadMemberResultsAreRefused) {
  const auto members = three_members();
  const Program prog = make_plan(members, PlanRequest{}, nullptr);
  const auto raw = testing::random_images(2, 64, 8);
  math::DeterministicPrngForTests prng(12);
  Client client(prog, prng);
  Server server(prog, client.evaluation_keys());
  const auto batch = client.encrypt(raw.data(), 2);
  std::vector<EncryptedResult> parts;
  for (int k = 0; k < prog.members; ++k) parts.push_back(server.evaluate_member(k, batch));
  // Too few members.
  EXPECT_THROW(server.combine({parts[0], parts[1]}), std::invalid_argument);
  // Member 1's slot filled with member 0's result: its output is missing.
  EXPECT_THROW(server.combine({parts[0], parts[0], parts[2]}), std::invalid_argument);
  // A ciphertext of the wrong level.
  auto bad = parts;
  auto& t = bad[1].residues[0][1];
  ASSERT_FALSE(t.empty());
  t[0].num_primes += 1;
  EXPECT_THROW(server.combine(std::move(bad)), std::invalid_argument);
  // A member index outside the plan.
  EXPECT_THROW(server.evaluate_member(3, batch), compiler::PlanError);
}

}  // namespace
}  // namespace hecnn::nn::runtime
