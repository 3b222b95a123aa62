#include "math/primes.h"

#include <gtest/gtest.h>

#include "math/modulus.h"

namespace hecnn::math {
namespace {

TEST(Primes, IsPrimeKnownValues) {
  EXPECT_FALSE(is_prime(0));
  EXPECT_FALSE(is_prime(1));
  EXPECT_TRUE(is_prime(2));
  EXPECT_TRUE(is_prime(65537));
  EXPECT_FALSE(is_prime(65537ull * 65539ull));
  EXPECT_TRUE(is_prime(0xffffffffffffffc5ull));   // largest 64-bit prime
  EXPECT_FALSE(is_prime(3215031751ull));          // strong pseudoprime to bases 2,3,5,7
  EXPECT_FALSE(is_prime(3825123056546413051ull)); // strong pseudoprime to bases up to 23
}

TEST(Primes, MatchesSealPlainModulusBatching) {
  // PlainModulus::Batching(8192, 20) == 1032193 (SEAL's documented example).
  EXPECT_EQ(ntt_primes(20, 8192, 1)[0], 1032193u);
}

TEST(Primes, MatchesSealBfvDefault8192) {
  // CoeffModulus::BFVDefault(8192) is CoeffModulus::Create(8192, {43, 43, 44, 44, 44}).
  const std::vector<u64> expect = {0x7fffffd8001, 0x7fffffc8001, 0xfffffffc001, 0xffffff6c001, 0xfffffebc001};
  EXPECT_EQ(create_coeff_modulus(8192, {43, 43, 44, 44, 44}), expect);
}

TEST(Primes, GeneratedPrimesAreNttFriendly) {
  for (std::size_t n : {1024u, 4096u, 32768u}) {
    for (int bits : {24, 30, 40, 50, 60}) {
      for (u64 p : ntt_primes(bits, n, 3)) {
        EXPECT_TRUE(is_prime(p));
        EXPECT_EQ(p % (2 * n), 1u);
        EXPECT_EQ(Modulus(p).bits(), bits);
      }
    }
  }
}

TEST(Primes, MinimalPrimitiveRootMatchesBruteForce) {
  // Brute force over every residue: the first x with x^N = -1 (hence order 2N).
  for (auto [two_n, q] : {std::pair<u64, u64>{2048, 12289}, {64, 7681}, {4096, 40961}}) {
    const Modulus m(q);
    u64 expect = 0;
    for (u64 x = 2; x < q && !expect; ++x) {
      if (m.pow(x, two_n / 2) == q - 1) expect = x;
    }
    EXPECT_EQ(minimal_primitive_root(two_n, q), expect) << "q=" << q;
  }
  const u64 q = 0x7fffffd8001;
  EXPECT_EQ(Modulus(q).pow(minimal_primitive_root(16384, q), 8192), q - 1);
}

TEST(Primes, RejectsBadRequests) {
  EXPECT_THROW(ntt_primes(62, 4096, 1), std::invalid_argument);
  EXPECT_THROW(ntt_primes(30, 3000, 1), std::invalid_argument);
  EXPECT_THROW(ntt_primes(14, 4096, 5), std::runtime_error);
}

}  // namespace
}  // namespace hecnn::math
