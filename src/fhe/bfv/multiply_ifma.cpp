// AVX-512 IFMA kernels for the two coefficient-wise steps of BFV multiplication
// (multiply.cpp): the tensor product and the scaling by t/Q. Taken when every
// prime of Q and of the auxiliary base P is below 2^50 (LevelTables::ifma).
//
// Tensor: x y mod m for x, y < m < 2^50 by Barrett in 52-bit limbs: with
// L = bits(m), c = floor(x y / 2^(L-1)) < 2^51 and mu = floor(2^(L+51) / m),
// qhat = floor(c mu / 2^52) undershoots the quotient by at most 2, so
// x y - qhat m lies in [0, 3m) < 2^52 and two conditional subtractions finish.
// Scale: as the portable scale_round, with 52-bit Shoup multiplies and the
// fractions theta_i in two 52-bit words (error below 2^-90 per term).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include "fhe/bfv/multiply_ifma.h"

#define HECNN_IFMA __attribute__((target("avx512f,avx512ifma")))

namespace hecnn::bfv::detail {

namespace {

constexpr u64 kMask52 = (u64{1} << 52) - 1;

HECNN_IFMA inline __m512i set1(u64 v) { return _mm512_set1_epi64(static_cast<long long>(v)); }
HECNN_IFMA inline __m512i reduce_once(__m512i v, __m512i m) { return _mm512_min_epu64(v, _mm512_sub_epi64(v, m)); }

// x w mod m in [0, m) for x < 2^52, w < m < 2^50, wq = floor(w 2^52 / m).
HECNN_IFMA inline __m512i shoup52(__m512i x, __m512i w, __m512i wq, __m512i m, __m512i neg_m) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i qhat = _mm512_madd52hi_epu64(zero, x, wq);
  __m512i r = _mm512_madd52lo_epu64(zero, x, w);
  r = _mm512_and_si512(_mm512_madd52lo_epu64(r, qhat, neg_m), set1(kMask52));
  return reduce_once(r, m);
}

// x y mod m in [0, m) for x, y < m < 2^50.
HECNN_IFMA inline __m512i mulmod52(__m512i x, __m512i y, __m512i m, __m512i neg_m, __m512i mu, int bits) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i lo = _mm512_madd52lo_epu64(zero, x, y);
  const __m512i hi = _mm512_madd52hi_epu64(zero, x, y);
  const __m512i c = _mm512_or_si512(_mm512_srlv_epi64(lo, set1(static_cast<u64>(bits - 1))),
                                    _mm512_and_si512(_mm512_sllv_epi64(hi, set1(static_cast<u64>(53 - bits))),
                                                     set1(kMask52)));
  const __m512i qhat = _mm512_madd52hi_epu64(zero, c, mu);
  __m512i r = _mm512_and_si512(_mm512_madd52lo_epu64(lo, qhat, neg_m), set1(kMask52));
  return reduce_once(reduce_once(r, m), m);
}

}  // namespace

HECNN_IFMA void tensor_ifma(const u64* x0, const u64* x1, const u64* y0, const u64* y1, u64* d0, u64* d1, u64* d2,
                            std::size_t n, u64 modulus, int bits, u64 mu) {
  const __m512i m = set1(modulus), neg_m = set1((u64{1} << 52) - modulus), vmu = set1(mu);
  for (std::size_t i = 0; i < n; i += 8) {
    const __m512i a0 = _mm512_loadu_si512(x0 + i), a1 = _mm512_loadu_si512(x1 + i);
    const __m512i b0 = _mm512_loadu_si512(y0 + i), b1 = _mm512_loadu_si512(y1 + i);
    _mm512_storeu_si512(d0 + i, mulmod52(a0, b0, m, neg_m, vmu, bits));
    const __m512i cross = _mm512_add_epi64(mulmod52(a0, b1, m, neg_m, vmu, bits), mulmod52(a1, b0, m, neg_m, vmu, bits));
    _mm512_storeu_si512(d1 + i, reduce_once(cross, m));
    _mm512_storeu_si512(d2 + i, mulmod52(a1, b1, m, neg_m, vmu, bits));
  }
}

HECNN_IFMA void scale_round_ifma(const LevelTables& L, const rlwe::Context& ctx, const u64* d, u64* z, std::size_t n,
                                 std::size_t c0, std::size_t c1) {
  const std::size_t k = L.k, kp = L.aux.size();
  const __m512i zero = _mm512_setzero_si512();
  for (std::size_t c = c0; c < c1; c += 8) {
    __m512i y[16];
    __m512i sum_hi = zero, sum_lo = zero;
    for (std::size_t i = 0; i < k; ++i) {
      const u64 q = ctx.key_base()[i].value();
      y[i] = shoup52(_mm512_loadu_si512(d + i * n + c), set1(L.mul_y[i].operand), set1(L.mul_y_q52[i]), set1(q),
                     set1((u64{1} << 52) - q));
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
        acc = _mm512_add_epi64(acc, shoup52(y[i], set1(L.mul_omega[j * k + i]), set1(L.mul_omega_q52[j * k + i]), p, neg_p));
        acc = reduce_once(acc, p);
      }
      const __m512i dp = _mm512_loadu_si512(d + (k + j) * n + c);
      acc = _mm512_add_epi64(acc, shoup52(dp, set1(L.mul_t_over_q[j].operand), set1(L.mul_t_over_q_q52[j]), p, neg_p));
      _mm512_storeu_si512(z + j * n + c, reduce_once(acc, p));
    }
  }
}

}  // namespace hecnn::bfv::detail
