// The BFV operation tests at N = 16384 (and rotations at 8192, 16384): slow tier.
#include "fhe/bfv/evaluator.h"

#include "bfv_fixture.h"

namespace hecnn::bfv {
namespace {

using testing::BfvSetup;

TEST(BfvSlow, AllOpsN16384) {
  auto& S = BfvSetup::get(16384);
  std::mt19937_64 rng(11);
  const auto a = S.random_slots(rng), b = S.random_slots(rng);
  const auto& t = S.ctx->plain_modulus();
  auto ca = S.encrypt(a), cb = S.encrypt(b);
  EXPECT_EQ(S.decrypt(ca), a);
  std::vector<u64> sum(a.size()), prod(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    sum[i] = t.add(a[i], b[i]);
    prod[i] = t.mul(a[i], b[i]);
  }
  EXPECT_EQ(S.decrypt(S.evaluator->add(ca, cb)), sum);
  EXPECT_EQ(S.decrypt(S.evaluator->multiply_plain(ca, S.encoder->encode(b))), prod);
  auto m = S.evaluator->multiply(ca, cb);
  S.evaluator->relinearize_inplace(m, S.rk);
  EXPECT_EQ(S.decrypt(m), prod);
  S.evaluator->mod_switch_to_next_inplace(m);
  EXPECT_EQ(S.decrypt(m), prod);
  const auto gk = S.keygen->create_galois_keys_for_steps({1, -1, 1024, 4095}, true);
  for (int step : {1, -1, 1024, 4095}) {
    auto r = ca;
    S.evaluator->rotate_rows_inplace(r, step, gk);
    const auto got = S.decrypt(r);
    const std::size_t row = 8192;
    for (std::size_t i = 0; i < row; i += 97) {
      ASSERT_EQ(got[i], a[(i + row + static_cast<std::size_t>(step + static_cast<int>(row))) % row]) << step;
    }
  }
}

TEST(BfvSlow, RotationsEveryPowerOfTwoN8192) {
  auto& S = BfvSetup::get(8192);
  const std::size_t row = 4096;
  std::vector<int> steps;
  for (std::size_t p = 1; p < row; p <<= 1) {
    steps.push_back(static_cast<int>(p));
    steps.push_back(-static_cast<int>(p));
  }
  const auto gk = S.keygen->create_galois_keys_for_steps(steps);
  std::mt19937_64 rng(12);
  const auto v = S.random_slots(rng);
  const auto c = S.encrypt(v);
  for (int step : steps) {
    auto r = c;
    S.evaluator->rotate_rows_inplace(r, step, gk);
    const auto got = S.decrypt(r);
    for (std::size_t i = 0; i < row; ++i) {
      const std::size_t src = (i + row + static_cast<std::size_t>(step + static_cast<int>(row))) % row;
      ASSERT_EQ(got[i], v[src]) << step;
      ASSERT_EQ(got[row + i], v[row + src]) << step;
    }
  }
}

}  // namespace
}  // namespace hecnn::bfv
