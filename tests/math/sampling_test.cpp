#include "math/sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "math/primes.h"

namespace hecnn::math {
namespace {

TEST(Prng, DeterministicForTestsIsReproducibleAndSystemPrngIsNot) {
  DeterministicPrngForTests a(5), b(5), c(6);
  EXPECT_EQ(a.next_u64(), b.next_u64());
  EXPECT_NE(a.next_u64(), c.next_u64());
  SystemPrng s1, s2;
  EXPECT_NE(s1.next_u64(), s2.next_u64());
}

TEST(ChaCha20, Rfc8439BlockKeystream) {
  // RFC 8439 §2.3.2 uses nonce 000000090000004a00000000 and counter 1; our stream
  // uses a 64-bit counter and a 64-bit nonce, so check the all-zero key/nonce
  // vector instead (RFC 8439 A.1 test vector #1, counter 0).
  ChaCha20Stream s(std::array<std::uint8_t, 32>{}, 0);
  std::uint8_t out[16];
  s.fill(out, 16);
  const std::uint8_t expect[16] = {0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90,
                                   0x40, 0x5d, 0x6a, 0xe5, 0x53, 0x86, 0xbd, 0x28};
  EXPECT_EQ(0, std::memcmp(out, expect, 16));
}

TEST(Sampling, TernaryAndCbdMoments) {
  DeterministicPrngForTests prng(9);
  const std::size_t n = 1 << 16;
  const auto t = sample_ternary(prng, n);
  const auto e = sample_cbd(prng, n);
  double mt = 0, vt = 0, me = 0, ve = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_GE(t[i], -1);
    ASSERT_LE(t[i], 1);
    ASSERT_LE(std::abs(e[i]), 21);
    mt += t[i];
    vt += t[i] * t[i];
    me += e[i];
    ve += e[i] * e[i];
  }
  EXPECT_NEAR(mt / n, 0.0, 0.02);
  EXPECT_NEAR(vt / n, 2.0 / 3.0, 0.02);
  EXPECT_NEAR(me / n, 0.0, 0.05);
  EXPECT_NEAR(ve / n, 10.5, 0.3);
}

TEST(Sampling, UniformIsReducedAndSpread) {
  DeterministicPrngForTests prng(3);
  const RnsBase base(ntt_primes(40, 1024, 2));
  std::vector<u64> out(2 * 1024);
  sample_uniform(prng, base, 1024, out.data());
  for (std::size_t j = 0; j < 2; ++j) {
    double mean = 0;
    for (std::size_t i = 0; i < 1024; ++i) {
      ASSERT_LT(out[j * 1024 + i], base[j].value());
      mean += static_cast<double>(out[j * 1024 + i]) / static_cast<double>(base[j].value());
    }
    EXPECT_NEAR(mean / 1024, 0.5, 0.05);
  }
}

}  // namespace
}  // namespace hecnn::math
