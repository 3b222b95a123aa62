// AVX-512 IFMA element-wise kernels for q < 2^50 (see vec_ops.h).
// x y mod q by Barrett in 52-bit limbs: with L = bits(q), c = floor(x y / 2^(L-1))
// < 2^51 and mu = floor(2^(L+51) / q), qhat = floor(c mu / 2^52) is at most 2 below
// the true quotient, so x y - qhat q lies in [0, 3q) and two conditional
// subtractions finish.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include "math/vec_ops.h"

#define HECNN_IFMA __attribute__((target("avx512f,avx512ifma")))

namespace hecnn::math::detail {

HECNN_IFMA void mul_mod_ifma(const u64* a, const u64* b, u64* out, std::size_t n, u64 q, int bits, u64 mu,
                             bool accumulate) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i vq = _mm512_set1_epi64(static_cast<long long>(q));
  const __m512i neg_q = _mm512_set1_epi64(static_cast<long long>((u64{1} << 52) - q));
  const __m512i vmu = _mm512_set1_epi64(static_cast<long long>(mu));
  const __m512i mask = _mm512_set1_epi64(static_cast<long long>((u64{1} << 52) - 1));
  const __m512i sh_lo = _mm512_set1_epi64(bits - 1), sh_hi = _mm512_set1_epi64(53 - bits);
  for (std::size_t i = 0; i < n; i += 8) {
    const __m512i x = _mm512_loadu_si512(a + i), y = _mm512_loadu_si512(b + i);
    const __m512i lo = _mm512_madd52lo_epu64(zero, x, y);
    const __m512i hi = _mm512_madd52hi_epu64(zero, x, y);
    const __m512i c = _mm512_or_si512(_mm512_srlv_epi64(lo, sh_lo), _mm512_and_si512(_mm512_sllv_epi64(hi, sh_hi), mask));
    const __m512i qhat = _mm512_madd52hi_epu64(zero, c, vmu);
    __m512i r = _mm512_and_si512(_mm512_madd52lo_epu64(lo, qhat, neg_q), mask);
    r = _mm512_min_epu64(r, _mm512_sub_epi64(r, vq));
    r = _mm512_min_epu64(r, _mm512_sub_epi64(r, vq));
    if (accumulate) {
      r = _mm512_add_epi64(r, _mm512_loadu_si512(out + i));
      r = _mm512_min_epu64(r, _mm512_sub_epi64(r, vq));
    }
    _mm512_storeu_si512(out + i, r);
  }
}

HECNN_IFMA void add_sub_mod_ifma(const u64* a, const u64* b, u64* out, std::size_t n, u64 q, bool subtract) {
  const __m512i vq = _mm512_set1_epi64(static_cast<long long>(q));
  for (std::size_t i = 0; i < n; i += 8) {
    const __m512i x = _mm512_loadu_si512(a + i), y = _mm512_loadu_si512(b + i);
    __m512i r = subtract ? _mm512_sub_epi64(_mm512_add_epi64(x, vq), y) : _mm512_add_epi64(x, y);
    _mm512_storeu_si512(out + i, _mm512_min_epu64(r, _mm512_sub_epi64(r, vq)));
  }
}

}  // namespace hecnn::math::detail
