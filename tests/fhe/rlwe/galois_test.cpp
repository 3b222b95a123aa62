#include "fhe/rlwe/galois.h"

#include <gtest/gtest.h>

#include <random>

#include "math/ntt.h"
#include "math/primes.h"

namespace hecnn::rlwe {
namespace {

TEST(Galois, ElementsFollowSeal) {
  EXPECT_EQ(galois_elt_from_step(1, 8192), 3u);
  EXPECT_EQ(galois_elt_from_step(2, 8192), 9u);
  // Right rotation by 1 = left rotation by N/2 - 1: 3^(N/2 - 1) mod 2N.
  u64 g = 1;
  for (int i = 0; i < 4095; ++i) g = g * 3 % 16384;
  EXPECT_EQ(galois_elt_from_step(-1, 8192), g);
  EXPECT_EQ(galois_elt_conjugate(8192), 16383u);
  EXPECT_THROW(galois_elt_from_step(0, 8192), std::invalid_argument);
  EXPECT_THROW(galois_elt_from_step(4096, 8192), std::invalid_argument);
  EXPECT_THROW(check_galois_elt(4, 8192), std::invalid_argument);
}

TEST(Galois, NttPermutationMatchesCoefficientAutomorphism) {
  const std::size_t n = 1024;
  const math::Modulus q(math::ntt_primes(50, n, 1)[0]);
  const math::NttTables tab(n, q);
  std::mt19937_64 rng(1);
  std::vector<u64> a(n);
  for (auto& x : a) x = rng() % q.value();
  for (u64 g : {u64{3}, u64{9}, u64{2 * n - 1}, galois_elt_from_step(-5, n)}) {
    std::vector<u64> coeff(n), via_ntt(n), a_ntt = a;
    apply_galois_coeff(a.data(), g, q, n, coeff.data());
    math::ntt_forward(a_ntt.data(), tab);
    apply_galois_ntt(a_ntt.data(), galois_ntt_permutation(g, n), n, via_ntt.data());
    math::ntt_inverse(via_ntt.data(), tab);
    EXPECT_EQ(via_ntt, coeff) << "g = " << g;
  }
}

TEST(Galois, CoefficientAutomorphismOnMonomial) {
  // X -> X^3 maps X^(N-1) to X^(3N-3) = X^(2N) X^(N-3) = +X^(N-3), and X^(N/2) to X^(3N/2) = -X^(N/2).
  const std::size_t n = 1024;
  const math::Modulus q(12289);
  std::vector<u64> a(n, 0), out(n);
  a[n - 1] = 5;
  apply_galois_coeff(a.data(), 3, q, n, out.data());
  EXPECT_EQ(out[n - 3], 5u);
  std::fill(a.begin(), a.end(), 0);
  a[n / 2] = 5;
  apply_galois_coeff(a.data(), 3, q, n, out.data());
  EXPECT_EQ(out[n / 2], 12289u - 5);
}

}  // namespace
}  // namespace hecnn::rlwe
