// Shared by parties_test.cpp and parties_slow_test.cpp: run a plan split between its
// parties and compare with the whole plan.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "math/prng.h"
#include "nn/compiler/parts.h"
#include "nn/compiler/plan_io.h"
#include "nn/runtime/client_server.h"
#include "nn/runtime/pipeline.h"
#include "nn/test_models.h"

namespace hecnn::nn::runtime::testing_parties {

using compiler::Program;

inline std::vector<Model> three_members() { return {testing::tiny_model(31), testing::tiny_model(32), testing::tiny_model(33)}; }

inline EncryptedResult run_split(const Program& prog, const Server& server, const EncryptedBatch& batch) {
  std::vector<EncryptedResult> parts;
  for (int k = 0; k < prog.members; ++k) parts.push_back(server.evaluate_member(k, batch));
  return server.combine(std::move(parts));
}

inline void expect_split_equals_whole(compiler::Scheme scheme, const std::vector<compiler::Combiner>& combiners) {
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

}  // namespace hecnn::nn::runtime::testing_parties
