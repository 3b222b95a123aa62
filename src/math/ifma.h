// Shared AVX-512 IFMA building blocks (8 lanes of 52-bit multiplies) for the vector
// kernels in ntt_ifma.cpp, rns_ifma.cpp, vec_ops_ifma.cpp and bfv/multiply_ifma.cpp.
// Include only from files whose callers check cpu_has_ifma(); every function carries
// the target attribute, so the rest of the build stays at the baseline ISA.
//
// Contracts (q a modulus below 2^50):
//   mul_shoup_lazy(x, w, wq, neg_q)  x w mod q in [0, 2q) for x < 2^52, w < q,
//                                    wq = shoup_quotient52(w, q), neg_q = 2^52 - q
//   mul_barrett(x, y, ...)           x y mod q in [0, q) for x, y < q; with L = bits(q),
//                                    c = floor(x y / 2^(L-1)) < 2^51 and mu = floor(2^(L+51) / q),
//                                    qhat = floor(c mu / 2^52) is at most 2 below the quotient,
//                                    so two conditional subtractions finish
#pragma once

// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized through _mm512_undefined_epi32.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include "math/ifma_constants.h"

#define HECNN_IFMA __attribute__((target("avx512f,avx512dq,avx512ifma")))

namespace hecnn::math::ifma {

inline constexpr u64 kMask52 = (u64{1} << 52) - 1;

HECNN_IFMA inline __m512i set1(u64 v) { return _mm512_set1_epi64(static_cast<long long>(v)); }

// v - m if v >= m else v (unsigned; v < 2m).
HECNN_IFMA inline __m512i reduce_once(__m512i v, __m512i m) { return _mm512_min_epu64(v, _mm512_sub_epi64(v, m)); }

HECNN_IFMA inline __m512i mul_shoup_lazy(__m512i x, __m512i w, __m512i wq, __m512i neg_q) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i qhat = _mm512_madd52hi_epu64(zero, x, wq);
  const __m512i r = _mm512_madd52lo_epu64(_mm512_madd52lo_epu64(zero, x, w), qhat, neg_q);
  return _mm512_and_si512(r, set1(kMask52));
}

HECNN_IFMA inline __m512i mul_shoup(__m512i x, __m512i w, __m512i wq, __m512i q, __m512i neg_q) {
  return reduce_once(mul_shoup_lazy(x, w, wq, neg_q), q);
}

// Per-modulus constants of mul_barrett.
struct Barrett52 {
  __m512i q, neg_q, mu, shift_lo, shift_hi;
};

HECNN_IFMA inline Barrett52 barrett52(u64 q, int bits, u64 mu) {
  return {set1(q), set1((u64{1} << 52) - q), set1(mu), set1(static_cast<u64>(bits - 1)),
          set1(static_cast<u64>(53 - bits))};
}

HECNN_IFMA inline __m512i mul_barrett(__m512i x, __m512i y, const Barrett52& b) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i lo = _mm512_madd52lo_epu64(zero, x, y);
  const __m512i hi = _mm512_madd52hi_epu64(zero, x, y);
  const __m512i c = _mm512_or_si512(_mm512_srlv_epi64(lo, b.shift_lo),
                                    _mm512_and_si512(_mm512_sllv_epi64(hi, b.shift_hi), set1(kMask52)));
  const __m512i qhat = _mm512_madd52hi_epu64(zero, c, b.mu);
  const __m512i r = _mm512_and_si512(_mm512_madd52lo_epu64(lo, qhat, b.neg_q), set1(kMask52));
  return reduce_once(reduce_once(r, b.q), b.q);
}

}  // namespace hecnn::math::ifma
