// AVX2 element-wise products for q < 2^31 (see vec_ops.h), for CPUs without AVX-512 IFMA.
//
// Barrett in 64-bit lanes with 32 x 32 -> 64-bit multiplies (_mm256_mul_epu32): for
// x, y < q, L = bits(q) <= 31, p = x y < 2^(2L), c = p >> (L - 1) < 2^(L+1) <= 2^32 and
// mu = floor(2^(2L) / q) < 2^(L+1), qhat = (c mu) >> (L + 1) is at most 2 below
// floor(p / q), so p - qhat q < 3q and two conditional subtractions finish.
#include <immintrin.h>

#include "math/vec_ops.h"

#define HECNN_AVX2 __attribute__((target("avx2")))

namespace hecnn::math::detail {

namespace {

HECNN_AVX2 inline __m256i set1(u64 v) { return _mm256_set1_epi64x(static_cast<long long>(v)); }

// x < 2m (below 2^62): x - m when x >= m.
HECNN_AVX2 inline __m256i reduce_once(__m256i x, __m256i m, __m256i m_minus_1) {
  return _mm256_sub_epi64(x, _mm256_and_si256(_mm256_cmpgt_epi64(x, m_minus_1), m));
}

}  // namespace

HECNN_AVX2 void mul_mod_avx2(const u64* a, const u64* b, u64* out, std::size_t n, u64 q, int bits, bool accumulate) {
  const u64 mu = static_cast<u64>((static_cast<unsigned __int128>(1) << (2 * bits)) / q);
  const __m256i vq = set1(q), vq1 = set1(q - 1), vmu = set1(mu);
  const __m128i lo = _mm_cvtsi64_si128(bits - 1), hi = _mm_cvtsi64_si128(bits + 1);
  for (std::size_t i = 0; i < n; i += 4) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i));
    const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i));
    const __m256i p = _mm256_mul_epu32(x, y);
    const __m256i qhat = _mm256_srl_epi64(_mm256_mul_epu32(_mm256_srl_epi64(p, lo), vmu), hi);
    __m256i r = _mm256_sub_epi64(p, _mm256_mul_epu32(qhat, vq));
    r = reduce_once(reduce_once(r, vq, vq1), vq, vq1);
    if (accumulate) r = reduce_once(_mm256_add_epi64(r, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(out + i))), vq, vq1);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), r);
  }
}

}  // namespace hecnn::math::detail
