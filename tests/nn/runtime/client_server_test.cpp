// The scheme-agnostic Client / Server (client_server.h): decrypted scores equal the plan's
// exact integer program (BFV, CRT over several primes recombined inside the client) or
// its real program within the plan's precision (CKKS), in real units; bad calls refused.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "math/prng.h"
#include "fhe/wire/core_convert.h"
#include "fhe/wire/objects.h"
#include "nn/runtime/client_server.h"
#include "nn/runtime/pipeline.h"
#include "nn/runtime/simulator.h"
#include "nn/test_models.h"

namespace hecnn::nn::runtime {
namespace {

using compiler::Program;

std::vector<std::vector<std::int64_t>> slots_of(const Program& p, const std::vector<std::uint8_t>& raw, std::size_t count) {
  std::vector<std::vector<std::int64_t>> q;
  for (std::size_t i = 0; i < count; ++i) q.push_back(p.quantize_input(raw.data() + i * p.input_shape.size(), p.input_shape.size()));
  return to_slots(q);
}

TEST(ClientServer, BfvScoresAreTheExactProgramsAcrossCrtPrimes) {
  const Model m = testing::tiny_model(12);
  PlanRequest req;
  req.input_bits = 8, req.weight_bits = 8;  // more bits: several CRT primes
  const Program prog = make_plan(std::span(&m, 1), req, nullptr);
  ASSERT_GE(prog.params.plain_moduli.size(), 2u) << "the test wants CRT";
  const std::size_t count = 5;
  const auto raw = testing::random_images(count, 64, 3);
  math::DeterministicPrngForTests prng(1);
  Client client(prog, prng);
  Server server(prog, client.evaluation_keys());
  const auto scores = client.decrypt(server.evaluate(client.encrypt(raw.data(), count)));
  const auto exact = simulate_exact(prog, slots_of(prog, raw, count));
  ASSERT_EQ(scores.size(), prog.outputs.size());
  for (std::size_t k = 0; k < prog.outputs.size(); ++k)
    for (std::size_t i = 0; i < count; ++i)
      for (std::size_t c = 0; c < scores[k][i].size(); ++c)
        EXPECT_EQ(scores[k][i][c], double(exact[std::size_t(prog.outputs[k].tensor)][c][i]) / prog.outputs[k].scale);
}

TEST(ClientServer, CkksScoresAreTheRealProgramsWithinPrecision) {
  const Model m = testing::tiny_model(13);
  PlanRequest req;
  req.scheme = compiler::Scheme::ckks;
  req.calibrate = 0;
  const Program prog = make_plan(std::span(&m, 1), req, nullptr);
  const std::size_t count = 7;
  const auto raw = testing::random_images(count, 64, 4);
  math::DeterministicPrngForTests prng(2);
  Client client(prog, prng);
  Server server(prog, client.evaluation_keys());
  const auto scores = client.decrypt(server.evaluate(client.encrypt(raw.data(), count)));
  const auto ref = simulate_real(prog, slots_of(prog, raw, count));
  const auto& o = prog.outputs[0];
  // The plan keeps ckks_precision_bits (20) above the noise relative to the outputs' bound;
  // 10 bits of slack as in the backend tests.
  const double tol = std::exp2(o.log2_bound - (req.ckks_precision_bits - 10)) / o.scale;
  for (std::size_t i = 0; i < count; ++i)
    for (std::size_t c = 0; c < scores[0][i].size(); ++c)
      EXPECT_NEAR(scores[0][i][c], ref[std::size_t(o.tensor)][c][i] / o.scale, tol) << "image " << i << " class " << c;
}

TEST(ClientServer, BadCallsAreRefused) {
  const Model m = testing::tiny_model(14);
  const Program bfv = make_plan(std::span(&m, 1), PlanRequest{}, nullptr);
  PlanRequest req;
  req.scheme = compiler::Scheme::ckks;
  req.calibrate = 0;
  const Program ckks = make_plan(std::span(&m, 1), req, nullptr);
  math::DeterministicPrngForTests prng(3);
  Client client(ckks, prng);
  const auto raw = testing::random_images(2, 64, 5);
  EXPECT_THROW(client.encrypt(raw.data(), 0), std::invalid_argument);
  EXPECT_THROW(client.encrypt(raw.data(), client.batch_capacity() + 1), std::invalid_argument);
  EXPECT_THROW(client.encrypt(nullptr, 1), std::invalid_argument);
  EXPECT_THROW(Server(bfv, client.evaluation_keys()), std::invalid_argument);  // keys of the other scheme
  Server server(ckks, client.evaluation_keys());
  EncryptedBatch empty;
  EXPECT_THROW(server.evaluate(empty), std::invalid_argument);
  EncryptedResult wrong;
  wrong.images = 1;
  EXPECT_THROW(client.decrypt(wrong), std::invalid_argument);
  Program broken = ckks;
  broken.instrs[1].inputs = {5000};
  EXPECT_THROW(Client(broken, prng), std::invalid_argument);
}

// Seeded upload objects (Client::serialize_input): about half the bytes, and read back by
// the bounded wire reader they give the same scores as the ciphertexts themselves.
TEST(ClientServer, SeededInputObjectsDecryptTheSameAtHalfTheBytes) {
  for (auto scheme : {compiler::Scheme::bfv, compiler::Scheme::ckks}) {
    const Model m = testing::tiny_model(15);
    PlanRequest req;
    req.scheme = scheme;
    req.calibrate = 0;
    const Program prog = make_plan(std::span(&m, 1), req, nullptr);
    const auto raw = testing::random_images(3, 64, 6);
    math::DeterministicPrngForTests prng(4);
    Client client(prog, prng);
    Server server(prog, client.evaluation_keys());
    const auto batch = client.encrypt(raw.data(), 3);
    const auto objs = client.serialize_input(batch);
    ASSERT_EQ(objs.size(), batch.residues.size());
    EncryptedBatch back;
    back.images = 3;
    for (std::size_t r = 0; r < objs.size(); ++r) {
      const std::uint64_t t = scheme == compiler::Scheme::bfv ? prog.params.plain_moduli[r] : 0;
      const rlwe::ParamsLiteral lit{scheme == compiler::Scheme::bfv ? rlwe::Scheme::bfv : rlwe::Scheme::ckks, prog.poly_degree(),
                                    scheme == compiler::Scheme::bfv ? prog.params.coeff_modulus : prog.ckks.coeff_modulus, t, rlwe::Security::tc128};
      const wire::Context wctx(wire::to_wire(lit));
      EncryptedTensor cts;
      for (std::size_t i = 0; i < objs[r].size(); ++i) {
        const auto& ct = batch.residues[r][i];
        EXPECT_LT(objs[r][i].size(), 8 * ct.n * ct.num_primes * 2 * 6 / 10) << "not seeded";
        cts.push_back(wire::to_core(wctx, wire::read_ciphertext(wctx, objs[r][i]).value));
      }
      back.residues.push_back(std::move(cts));
    }
    const auto want = client.decrypt(server.evaluate(batch));
    const auto got = client.decrypt(server.evaluate(std::move(back)));
    if (scheme == compiler::Scheme::bfv) {
      EXPECT_EQ(got, want);
    } else {
      for (std::size_t i = 0; i < want[0].size(); ++i)
        for (std::size_t c = 0; c < want[0][i].size(); ++c) EXPECT_NEAR(got[0][i][c], want[0][i][c], 1e-2 * (1 + std::abs(want[0][i][c])));
    }
  }
}

}  // namespace
}  // namespace hecnn::nn::runtime