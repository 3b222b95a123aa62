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
#include "nn/runtime/parties_util.h"

namespace hecnn::nn::runtime {
namespace {

using namespace testing_parties;

using compiler::Program;

TEST(Parties, BfvMeanAndWeightedSplitEqualsWholePlan) {
  expect_split_equals_whole(compiler::Scheme::bfv, {compiler::Combiner::mean, compiler::Combiner::weighted_mean});
}

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
