#include "math/vec_ops.h"

#include <gtest/gtest.h>

#include <random>

#include "math/ntt.h"
#include "math/primes.h"

namespace hecnn::math {
namespace {

class VecOps : public ::testing::TestWithParam<int> {};

TEST_P(VecOps, MatchScalarArithmetic) {
  const int bits = GetParam();
  const Modulus q(ntt_primes(bits, 1024, 1)[0]);
  const std::size_t n = 1024;
  std::mt19937_64 rng(bits);
  std::vector<u64> a(n), b(n), acc(n), out(n);
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = rng() % q.value();
    b[i] = rng() % q.value();
    acc[i] = rng() % q.value();
  }
  a[0] = b[0] = q.value() - 1;  // extremes
  a[1] = 0;
  mul_mod_vec(a.data(), b.data(), out.data(), n, q);
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], q.mul(a[i], b[i])) << i;
  out = acc;
  mul_add_mod_vec(a.data(), b.data(), out.data(), n, q);
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], q.add(acc[i], q.mul(a[i], b[i]))) << i;
  add_mod_vec(a.data(), b.data(), out.data(), n, q);
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], q.add(a[i], b[i])) << i;
  sub_mod_vec(a.data(), b.data(), out.data(), n, q);
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], q.sub(a[i], b[i])) << i;
}

INSTANTIATE_TEST_SUITE_P(Bits, VecOps, ::testing::Values(20, 27, 30, 31, 36, 44, 49, 50, 55, 60),
                         [](const auto& info) { return "bits" + std::to_string(info.param); });

// The AVX2 product kernel (q < 2^31) itself, also on hosts where IFMA is preferred.
TEST(VecOpsAvx2, ProductsMatchScalarArithmetic) {
  if (!cpu_has_avx2()) GTEST_SKIP() << "no AVX2 on this CPU (or HECNN_DISABLE_AVX2)";
  for (int bits : {2, 17, 20, 27, 30, 31}) {
    const Modulus q(bits == 2 ? 3 : ntt_primes(bits, 1024, 1)[0]);
    const std::size_t n = 1024;
    std::mt19937_64 rng(bits * 11);
    std::vector<u64> a(n), b(n), acc(n), out(n);
    for (std::size_t i = 0; i < n; ++i) {
      a[i] = rng() % q.value();
      b[i] = rng() % q.value();
      acc[i] = rng() % q.value();
    }
    a[0] = b[0] = a[2] = q.value() - 1;
    a[1] = 0;
    detail::mul_mod_avx2(a.data(), b.data(), out.data(), n, q.value(), q.bits(), false);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], q.mul(a[i], b[i])) << "bits " << bits << " i " << i;
    out = acc;
    detail::mul_mod_avx2(a.data(), b.data(), out.data(), n, q.value(), q.bits(), true);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], q.add(acc[i], q.mul(a[i], b[i]))) << "bits " << bits << " i " << i;
  }
}

}  // namespace
}  // namespace hecnn::math
