#include "math/rns.h"

#include <gtest/gtest.h>

#include <random>

#include "math/primes.h"

namespace hecnn::math {
namespace {

TEST(RnsBase, ComposeInvertsDecompose) {
  const RnsBase base(ntt_primes(60, 4096, 4));
  std::mt19937_64 rng(1);
  for (int it = 0; it < 200; ++it) {
    BigUInt x;
    for (int l = 0; l < 3; ++l) {  // x < 2^187 < Q
      x.mul(u64{1} << 32).mul(u64{1} << 32);
      x.add(BigUInt(rng() >> 5));
    }
    std::vector<u64> r;
    for (std::size_t i = 0; i < base.size(); ++i) r.push_back(x.mod(base[i].value()));
    EXPECT_EQ(base.compose(r.data()), x);
  }
}

TEST(RnsBase, RejectsNonCoprime) { EXPECT_THROW(RnsBase(std::vector<u64>{15, 21}), std::invalid_argument); }

TEST(BaseConverter, ExactConversionOfCenteredValues) {
  const RnsBase q(ntt_primes(50, 4096, 3)), p(ntt_primes(60, 4096, 2));
  const BaseConverter conv(q, p);
  const std::size_t n = 256;
  std::mt19937_64 rng(2);
  std::vector<u64> in(q.size() * n), out(p.size() * n), fast_out(p.size() * n);
  std::vector<std::int64_t> values(n);
  for (std::size_t c = 0; c < n; ++c) {
    values[c] = static_cast<std::int64_t>(rng() >> 2) * ((c & 1) ? -1 : 1);
    for (std::size_t i = 0; i < q.size(); ++i) in[i * n + c] = from_signed(values[c] % static_cast<std::int64_t>(q[i].value()), q[i]);
  }
  conv.exact(in.data(), out.data(), n);
  conv.fast(in.data(), fast_out.data(), n);
  for (std::size_t c = 0; c < n; ++c) {
    for (std::size_t j = 0; j < p.size(); ++j) {
      const auto pj = static_cast<std::int64_t>(p[j].value());
      EXPECT_EQ(out[j * n + c], from_signed(values[c] % pj, p[j]));
      // Fast conversion is off by a multiple a*Q, 0 <= a < |Q|.
      bool ok = false;
      for (u64 a = 0; a < q.size() && !ok; ++a) {
        const u64 qa = p[j].mul(q.product().mod(p[j].value()), a);
        ok = fast_out[j * n + c] == p[j].add(out[j * n + c], qa) ||
             fast_out[j * n + c] == p[j].add(out[j * n + c], p[j].add(qa, q.product().mod(p[j].value())));
      }
      EXPECT_TRUE(ok);
    }
  }
}

}  // namespace
}  // namespace hecnn::math

namespace hecnn::math {
namespace {

// The IFMA path (taken for moduli < 2^50 on CPUs that have it) must equal the
// portable path word for word; both are checked against exact CRT arithmetic above.
class BaseConverterSizes : public ::testing::TestWithParam<std::pair<int, int>> {};

TEST_P(BaseConverterSizes, ExactMatchesBigIntegerReference) {
  const auto [kq, kp] = GetParam();
  const RnsBase q(ntt_primes(44, 8192, static_cast<std::size_t>(kq))), p(ntt_primes(50, 8192, static_cast<std::size_t>(kp)));
  const BaseConverter to_p(q, p), to_q(p, q);
  const std::size_t n = 1024;
  std::mt19937_64 rng(5);
  std::vector<u64> in(q.size() * n), out(p.size() * n), back(q.size() * n);
  for (std::size_t i = 0; i < q.size(); ++i)
    for (std::size_t c = 0; c < n; ++c) in[i * n + c] = rng() % q[i].value();
  to_p.exact(in.data(), out.data(), n);
  to_q.exact(out.data(), back.data(), n);
  EXPECT_EQ(back, in);  // Q < P: centered x survives the round trip
  for (std::size_t c = 0; c < n; c += 37) {
    // out must be the centered representative of x = CRT(in) reduced mod p_j.
    BigUInt x = q.compose(in.data() + c, n);
    BigUInt half = q.product();
    half.divmod(2);
    const bool negative = half < x;
    for (std::size_t j = 0; j < p.size(); ++j) {
      const u64 pj = p[j].value();
      u64 expect = x.mod(pj);
      if (negative) expect = p[j].sub(expect, q.product().mod(pj));
      ASSERT_EQ(out[j * n + c], expect) << "coefficient " << c << " prime " << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Bases, BaseConverterSizes,
                         ::testing::Values(std::pair{1, 2}, std::pair{4, 5}, std::pair{7, 8}, std::pair{9, 10},
                                           std::pair{15, 16}),
                         [](const auto& info) {
                           return "Q" + std::to_string(info.param.first) + "_P" + std::to_string(info.param.second);
                         });

}  // namespace
}  // namespace hecnn::math
