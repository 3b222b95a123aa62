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

// The tensor products, out of place and in place (d0 = x0, d1 = x1), against scalar arithmetic.
TEST_P(VecOps, TensorProductsMatchScalarArithmetic) {
  const int bits = GetParam();
  const Modulus q(ntt_primes(bits, 1024, 1)[0]);
  const std::size_t n = 1024;
  std::mt19937_64 rng(bits * 7 + 1);
  std::vector<u64> x0(n), x1(n), y0(n), y1(n);
  for (std::size_t i = 0; i < n; ++i) {
    x0[i] = rng() % q.value();
    x1[i] = rng() % q.value();
    y0[i] = rng() % q.value();
    y1[i] = rng() % q.value();
  }
  x0[0] = x1[0] = y0[0] = y1[0] = q.value() - 1;
  x0[1] = 0;
  for (bool in_place : {false, true}) {
    std::vector<u64> d0(n), d1(n), d2(n), s0(n), s1(n), s2(n);
    if (in_place) {
      d0 = x0;
      d1 = x1;
      s0 = x0;
      s1 = x1;
    }
    tensor_mod_vec(in_place ? d0.data() : x0.data(), in_place ? d1.data() : x1.data(), y0.data(), y1.data(), d0.data(), d1.data(),
                   d2.data(), n, q);
    square_tensor_mod_vec(in_place ? s0.data() : x0.data(), in_place ? s1.data() : x1.data(), s0.data(), s1.data(), s2.data(), n, q);
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(d0[i], q.mul(x0[i], y0[i])) << i << (in_place ? " in place" : "");
      ASSERT_EQ(d1[i], q.add(q.mul(x0[i], y1[i]), q.mul(x1[i], y0[i]))) << i;
      ASSERT_EQ(d2[i], q.mul(x1[i], y1[i])) << i;
      ASSERT_EQ(s0[i], q.mul(x0[i], x0[i])) << i;
      ASSERT_EQ(s1[i], q.add(q.mul(x0[i], x1[i]), q.mul(x0[i], x1[i]))) << i;
      ASSERT_EQ(s2[i], q.mul(x1[i], x1[i])) << i;
    }
  }
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
