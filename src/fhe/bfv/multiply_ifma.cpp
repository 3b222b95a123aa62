// AVX-512 IFMA kernel for the scaling step of BFV multiplication (multiply.cpp; the
// tensor product is math::detail::tensor_mod_ifma). Taken when every prime of Q and of
// the auxiliary base P is below 2^50 (LevelTables::ifma).
// Scale: as the portable scale_round, with 52-bit Shoup multiplies and the
// fractions theta_i in two 52-bit words (error below 2^-90 per term).
#include "fhe/bfv/multiply_ifma.h"
#include "math/ifma.h"

namespace hecnn::bfv::detail {

using math::ifma::reduce_once;
using math::ifma::set1;

HECNN_IFMA void scale_round_ifma(const LevelTables& L, const rlwe::Context& ctx, const u64* d, u64* z, std::size_t n,
                                 std::size_t c0, std::size_t c1) {
  const std::size_t k = L.k, kp = L.aux.size();
  const __m512i zero = _mm512_setzero_si512();
  for (std::size_t c = c0; c < c1; c += 8) {
    __m512i y[16];
    __m512i sum_hi = zero, sum_lo = zero;
    for (std::size_t i = 0; i < k; ++i) {
      const u64 q = ctx.key_base()[i].value();
      y[i] = math::ifma::mul_shoup(_mm512_loadu_si512(d + i * n + c), set1(L.mul_y[i].operand),
                                   set1(L.mul_y_q52[i]), set1(q), set1((u64{1} << 52) - q));
      // y theta 2^104 = y th_hi 2^52 + y th_lo: accumulate in units of 2^-52.
      sum_hi = _mm512_madd52hi_epu64(sum_hi, y[i], set1(L.mul_theta52_hi[i]));
      sum_lo = _mm512_madd52lo_epu64(sum_lo, y[i], set1(L.mul_theta52_hi[i]));
      sum_lo = _mm512_madd52hi_epu64(sum_lo, y[i], set1(L.mul_theta52_lo[i]));
    }
    // round(sum theta_i y_i) = sum_hi + floor((sum_lo + 2^51) / 2^52)
    const __m512i r = _mm512_add_epi64(sum_hi, _mm512_srli_epi64(_mm512_add_epi64(sum_lo, set1(u64{1} << 51)), 52));
    for (std::size_t j = 0; j < kp; ++j) {
      const u64 pv = L.aux[j].value();
      const __m512i p = set1(pv), neg_p = set1((u64{1} << 52) - pv);
      __m512i acc = reduce_once(r, p);  // r <= k + 1 < p
      for (std::size_t i = 0; i < k; ++i) {
        acc = _mm512_add_epi64(
            acc, math::ifma::mul_shoup(y[i], set1(L.mul_omega[j * k + i]), set1(L.mul_omega_q52[j * k + i]), p, neg_p));
        acc = reduce_once(acc, p);
      }
      const __m512i dp = _mm512_loadu_si512(d + (k + j) * n + c);
      acc = _mm512_add_epi64(
          acc, math::ifma::mul_shoup(dp, set1(L.mul_t_over_q[j].operand), set1(L.mul_t_over_q_q52[j]), p, neg_p));
      _mm512_storeu_si512(z + j * n + c, reduce_once(acc, p));
    }
  }
}

}  // namespace hecnn::bfv::detail
