#include "math/modulus.h"

#include <gtest/gtest.h>

#include <random>

namespace hecnn::math {
namespace {

class ModulusTest : public ::testing::TestWithParam<u64> {};

TEST_P(ModulusTest, ReduceMulShoupMatchReference) {
  const Modulus q(GetParam());
  std::mt19937_64 rng(GetParam());
  const u64 qv = q.value();
  for (int it = 0; it < 20000; ++it) {
    const u64 a = rng() % qv, b = rng() % qv, x = rng();
    const u128 wide = (static_cast<u128>(rng()) << 64) | rng();
    ASSERT_EQ(q.reduce(x), x % qv);
    ASSERT_EQ(q.reduce(wide), static_cast<u64>(wide % qv));
    ASSERT_EQ(q.mul(a, b), static_cast<u64>(static_cast<u128>(a) * b % qv));
    ASSERT_EQ(q.add(a, b), static_cast<u64>((static_cast<u128>(a) + b) % qv));
    ASSERT_EQ(q.sub(a, b), static_cast<u64>((static_cast<u128>(a) + qv - b) % qv));
    const ShoupOperand w(b, q);
    ASSERT_EQ(mul_shoup(x, w, qv), static_cast<u64>(static_cast<u128>(x) * b % qv));
    ASSERT_LT(mul_shoup_lazy(x, w, qv), 2 * qv);
  }
  // Extremes.
  const u128 max128 = ~u128{0};
  EXPECT_EQ(q.reduce(max128), static_cast<u64>(max128 % qv));
  EXPECT_EQ(q.reduce(~u64{0}), ~u64{0} % qv);
  EXPECT_EQ(q.mul(qv - 1, qv - 1), 1u);
}

TEST_P(ModulusTest, InverseAndPow) {
  const Modulus q(GetParam());
  for (u64 a : {u64{2}, u64{3}, u64{12345}, q.value() - 1}) {
    EXPECT_EQ(q.mul(a, q.inv(a)), 1u);
  }
  EXPECT_EQ(q.pow(5, 0), 1u);
  EXPECT_EQ(q.pow(q.value() - 1, 2), 1u);
}

INSTANTIATE_TEST_SUITE_P(Primes, ModulusTest,
                         ::testing::Values(u64{65537}, u64{1032193}, u64{0xffffee001}, u64{0x7fffffd8001},
                                           u64{0xfffffffc001}, u64{1152921504606830593ull} /* 60-bit */,
                                           u64{2305843009213554689ull} /* 61-bit */),
                         [](const auto& info) { return "q" + std::to_string(info.param); });

TEST(Modulus, RejectsOutOfRange) {
  EXPECT_THROW(Modulus(1), std::invalid_argument);
  EXPECT_THROW(Modulus(u64{1} << 61), std::invalid_argument);
  EXPECT_THROW(Modulus(6).inv(4), std::domain_error);
}

}  // namespace
}  // namespace hecnn::math
