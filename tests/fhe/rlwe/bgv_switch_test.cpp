// The division by the last prime: the IFMA kernels (bgv_switch_ifma.h) give the scalar
// path's words (BgvDelta; the rounding's reduction) on random residues, for every prime of
// the chain, with t and q_last of the sizes the compiler picks (20 to 49 bits).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "fhe/rlwe/bgv_switch_ifma.h"
#include "fhe/rlwe/poly_ops.h"
#include "math/ntt.h"
#include "math/primes.h"

namespace hecnn::rlwe {
namespace {

struct SwitchCase {
  std::size_t n;
  int t_bits;
};

class BgvSwitchKernels : public ::testing::TestWithParam<SwitchCase> {};

TEST_P(BgvSwitchKernels, IfmaEqualsScalar) {
  if (!math::cpu_has_ifma()) GTEST_SKIP() << "no AVX-512 IFMA on this CPU";
  const auto [n, t_bits] = GetParam();
  // A 128-bit chain like SEAL's defaults: 3 x 36, 5 x 43 or 9 x 48 bits.
  const int bits = n == 4096 ? 36 : n == 8192 ? 43 : 48;
  const auto primes = math::ntt_primes(bits, n, n == 4096 ? 3 : n == 8192 ? 5 : 9);
  const u64 t = math::ntt_primes(t_bits, n, 1, primes)[0];
  const auto ctx = Context::create(ParamsLiteral{Scheme::bgv, n, primes, t, Security::tc128});
  std::mt19937_64 rng(std::uint64_t(n) * 131 + std::uint64_t(t_bits));
  for (std::size_t k = 2; k < primes.size(); ++k) {
    const auto& ql = ctx->key_base()[k - 1];
    std::vector<u64> x(n), kk(n), delta(n), ref(n);
    for (auto& v : x) v = rng() % ql.value();
    x[0] = 0;
    x[1] = ql.value() >> 1;        // the centring boundary
    x[2] = (ql.value() >> 1) + 1;
    x[3] = ql.value() - 1;
    std::vector<std::int64_t> cbuf(n), kbuf(n);
    const BgvDelta scalar(*ctx, x.data(), ql, ctx->inv_last_mod_t(k), cbuf.data(), kbuf.data());
    detail::bgv_delta_k_ifma(x.data(), kk.data(), n, ql.value(), t, ctx->inv_last_mod_t(k));
    for (std::size_t i = 0; i < n; ++i)
      ASSERT_EQ(kk[i], u64(kbuf[i] < 0 ? kbuf[i] + std::int64_t(t) : kbuf[i])) << "k, coefficient " << i << ", " << k << " primes";
    for (std::size_t j = 0; j + 1 < k; ++j) {
      const auto& qj = ctx->key_base()[j];
      scalar.mod(qj, ref.data());
      detail::bgv_delta_mod_ifma(x.data(), kk.data(), delta.data(), n, ql.value(), t, qj.value());
      ASSERT_EQ(delta, ref) << "delta mod prime " << j << ", " << k << " primes";
      std::vector<u64> a(n), b(n);
      for (auto& v : a) v = rng() % qj.value();
      b = a;
      detail::bgv_sub_scale_ifma(a.data(), delta.data(), n, qj.value(), ctx->inv_last(k, j).operand);
      for (std::size_t i = 0; i < n; ++i)
        ASSERT_EQ(a[i], qj.mul(qj.sub(b[i], ref[i]), ctx->inv_last(k, j).operand)) << "prime " << j << ", coefficient " << i;
    }
  }
}

// The rounded division's kernel (CKKS rescale): (x mod q + add) mod q for every prime.
TEST_P(BgvSwitchKernels, ReduceAddEqualsScalar) {
  if (!math::cpu_has_ifma()) GTEST_SKIP() << "no AVX-512 IFMA on this CPU";
  const auto [n, t_bits] = GetParam();
  std::mt19937_64 rng(std::uint64_t(n) + std::uint64_t(t_bits) * 7);
  const auto primes = math::ntt_primes(std::min(t_bits + 3, 50), n, 3);  // below 2^50, as the kernels require
  for (u64 qv : primes) {
    const math::Modulus q(qv);
    std::vector<u64> x(n), out(n);
    for (auto& v : x) v = rng() % (u64{1} << 50);
    x[0] = (u64{1} << 50) - 1;
    x[1] = 0;
    for (u64 add : {u64{0}, qv - 1, rng() % qv}) {
      detail::reduce_add_ifma(x.data(), out.data(), n, qv, add);
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], q.add(q.reduce(x[i]), add)) << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Chains, BgvSwitchKernels,
                         ::testing::Values(SwitchCase{4096, 20}, SwitchCase{8192, 20}, SwitchCase{8192, 33}, SwitchCase{16384, 47},
                                           SwitchCase{16384, 30}),
                         [](const auto& info) {
                           std::string name = "N";  // (appended: GCC 12 warns on "N" + to_string(...))
                           name += std::to_string(info.param.n);
                           name += "_t";
                           name += std::to_string(info.param.t_bits);
                           return name;
                         });

}  // namespace
}  // namespace hecnn::rlwe
