#include "math/ntt.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "math/primes.h"

namespace hecnn::math {
namespace {

struct NttCase {
  std::size_t n;
  int bits;
};

class NttTest : public ::testing::TestWithParam<NttCase> {};

std::vector<u64> random_poly(std::size_t n, u64 q, std::mt19937_64& rng) {
  std::vector<u64> a(n);
  for (auto& x : a) x = rng() % q;
  return a;
}

TEST_P(NttTest, RoundTrip) {
  const auto [n, bits] = GetParam();
  const Modulus q(ntt_primes(bits, n, 1)[0]);
  const NttTables tab(n, q);
  std::mt19937_64 rng(n * 100 + bits);
  auto a = random_poly(n, q.value(), rng);
  auto b = a;
  ntt_forward(b.data(), tab);
  for (u64 v : b) ASSERT_LT(v, q.value());
  ntt_inverse(b.data(), tab);
  EXPECT_EQ(a, b);
}

TEST_P(NttTest, ForwardIsEvaluationAtBitReversedOddPowers) {
  // SEAL convention: ntt(a)[j] = a(psi^(2 bitrev(j) + 1)).
  const auto [n, bits] = GetParam();
  const Modulus q(ntt_primes(bits, n, 1)[0]);
  const NttTables tab(n, q);
  std::mt19937_64 rng(7);
  auto a = random_poly(n, q.value(), rng);
  auto b = a;
  ntt_forward(b.data(), tab);
  for (std::size_t j : {std::size_t{0}, std::size_t{1}, n / 3, n - 1}) {
    const u64 x = q.pow(tab.root(), 2 * bit_reverse(j, tab.log_n()) + 1);
    u64 acc = 0;  // Horner
    for (std::size_t i = n; i-- > 0;) acc = q.add(q.mul(acc, x), a[i]);
    EXPECT_EQ(b[j], acc) << "slot " << j;
  }
}

TEST_P(NttTest, ProductMatchesSchoolbook) {
  const auto [n, bits] = GetParam();
  if (n > 4096) GTEST_SKIP() << "schoolbook is O(N^2); covered at smaller N";
  const Modulus q(ntt_primes(bits, n, 1)[0]);
  const NttTables tab(n, q);
  std::mt19937_64 rng(n + bits);
  auto a = random_poly(n, q.value(), rng), b = random_poly(n, q.value(), rng);
  const auto expect = negacyclic_multiply_schoolbook(a, b, q);
  ntt_forward(a.data(), tab);
  ntt_forward(b.data(), tab);
  for (std::size_t i = 0; i < n; ++i) a[i] = q.mul(a[i], b[i]);
  ntt_inverse(a.data(), tab);
  EXPECT_EQ(a, expect);
}

TEST(Ntt, KnownAnswerSmall) {
  // N = 4, q = 17, psi = smallest primitive 8th root of unity mod 17 = 2.
  const Modulus q(17);
  const NttTables tab(4, q);
  EXPECT_EQ(tab.root(), 2u);
  std::vector<u64> a = {1, 2, 3, 4};
  ntt_forward(a.data(), tab);
  // a(x) = 1 + 2x + 3x^2 + 4x^3 at psi^1, psi^5, psi^3, psi^7 (bitrev order 0,2,1,3 -> 2j+1 = 1,5,3,7).
  auto eval = [&](u64 x) { return (1 + 2 * x + 3 * x * x + 4 * x * x * x) % 17; };
  EXPECT_EQ(a, (std::vector<u64>{eval(2), eval(32 % 17), eval(8), eval(128 % 17)}));
}

INSTANTIATE_TEST_SUITE_P(Sizes, NttTest,
                         ::testing::Values(NttCase{1024, 27}, NttCase{1024, 60}, NttCase{4096, 36},
                                           NttCase{4096, 60}, NttCase{8192, 44}, NttCase{16384, 50},
                                           NttCase{32768, 60}),
                         [](const auto& info) {
                           return "N" + std::to_string(info.param.n) + "_bits" + std::to_string(info.param.bits);
                         });

TEST(Ntt, RejectsBadSizes) {
  EXPECT_THROW(NttTables(1000, Modulus(12289)), std::invalid_argument);
  EXPECT_THROW(NttTables(8192, Modulus(12289)), std::invalid_argument);
}

}  // namespace
}  // namespace hecnn::math

namespace hecnn::math {
namespace {

// The AVX-512 IFMA kernels must agree word for word with the portable ones.
class NttIfma : public ::testing::TestWithParam<NttCase> {};

TEST_P(NttIfma, MatchesScalarKernels) {
  const auto [n, bits] = GetParam();
  const Modulus q(ntt_primes(bits, n, 1)[0]);
  const NttTables tab(n, q);
  if (!tab.use_ifma()) {
    // CI exports HECNN_EXPECT_IFMA=1 on hosts whose CPU has IFMA: there the kernels must be in use.
    if (std::getenv("HECNN_EXPECT_IFMA") && !std::getenv("HECNN_DISABLE_AVX512") && !cpu_has_ifma())
      FAIL() << "the CPU reports AVX-512 IFMA (HECNN_EXPECT_IFMA) but hecnn does not detect it";
    GTEST_SKIP() << "no AVX-512 IFMA on this CPU (or q too large); scalar path in use";
  }
  std::mt19937_64 rng(n + bits);
  std::vector<u64> a(n);
  for (auto& x : a) x = rng() % q.value();
  auto s = a, v = a;
  detail::ntt_forward_scalar(s.data(), tab);
  detail::ntt_forward_ifma(v.data(), tab);
  ASSERT_EQ(s, v);
  // Inputs up to 2q are allowed for the inverse.
  for (std::size_t i = 0; i < n; i += 3) s[i] += q.value();
  v = s;
  detail::ntt_inverse_scalar(s.data(), tab);
  detail::ntt_inverse_ifma(v.data(), tab);
  ASSERT_EQ(s, v);
  detail::ntt_forward_ifma(v.data(), tab);
  detail::ntt_inverse_ifma(v.data(), tab);
  ASSERT_EQ(s, v);
}

INSTANTIATE_TEST_SUITE_P(Sizes, NttIfma,
                         ::testing::Values(NttCase{16, 30}, NttCase{32, 40}, NttCase{64, 40}, NttCase{128, 44}, NttCase{1024, 27},
                                           NttCase{2048, 44}, NttCase{4096, 36},
                                           NttCase{8192, 44}, NttCase{16384, 49}, NttCase{32768, 50}),
                         [](const auto& info) {
                           return "N" + std::to_string(info.param.n) + "_bits" + std::to_string(info.param.bits);
                         });

}  // namespace
}  // namespace hecnn::math

namespace hecnn::math {
namespace {

// The AVX2 kernels (primes below 2^31) must agree word for word with the portable ones,
// on the whole input range (forward: below 4q, inverse: below 2q).
class NttAvx2 : public ::testing::TestWithParam<NttCase> {};

TEST_P(NttAvx2, MatchesScalarKernels) {
  const auto [n, bits] = GetParam();
  if (!cpu_has_avx2()) GTEST_SKIP() << "no AVX2 on this CPU (or HECNN_DISABLE_AVX2)";
  const Modulus q(ntt_primes(bits, n, 1)[0]);
  const NttTables tab(n, q);
  EXPECT_EQ(tab.use_avx2(), !tab.use_ifma());
  std::mt19937_64 rng(n * 7 + bits);
  std::vector<u64> a(n);
  for (auto& x : a) x = rng() % (4 * q.value());
  a[0] = 4 * q.value() - 1;
  auto s = a, v = a;
  detail::ntt_forward_scalar(s.data(), tab);
  detail::ntt_forward_avx2(v.data(), tab);
  ASSERT_EQ(s, v);
  for (auto& x : s) x = rng() % (2 * q.value());
  s[1] = 2 * q.value() - 1;
  v = s;
  detail::ntt_inverse_scalar(s.data(), tab);
  detail::ntt_inverse_avx2(v.data(), tab);
  ASSERT_EQ(s, v);
  // Round trip.
  auto r = v;
  detail::ntt_forward_avx2(r.data(), tab);
  detail::ntt_inverse_avx2(r.data(), tab);
  ASSERT_EQ(r, v);
}

INSTANTIATE_TEST_SUITE_P(Sizes, NttAvx2,
                         ::testing::Values(NttCase{8, 20}, NttCase{16, 30}, NttCase{1024, 27}, NttCase{4096, 31},
                                           NttCase{8192, 31}, NttCase{16384, 28}, NttCase{32768, 31}),
                         [](const auto& info) {
                           return "N" + std::to_string(info.param.n) + "_bits" + std::to_string(info.param.bits);
                         });

}  // namespace
}  // namespace hecnn::math
