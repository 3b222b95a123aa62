// AVX2 negacyclic NTT for primes below 2^31 (same convention and outputs as the scalar
// kernels), for CPUs without AVX-512 IFMA; CKKS scales of 20-31 bits and BFV's small
// CRT primes are such primes.
//
// 32-bit Shoup multiplication in 64-bit lanes: for y < 2^32 and w < q < 2^31 with
// wq = floor(w 2^32 / q), qhat = (y wq) >> 32 and r = y w - qhat q lies in [0, 2q); the
// three products are _mm256_mul_epu32 (32 x 32 -> 64 bits, exact). Lanes hold values
// below 4q < 2^33 as the scalar kernels do; a multiplied operand is first brought below
// 2q < 2^32. Stages with butterfly distance t >= 4 run four butterflies per
// instruction; t = 2 and 1 run the scalar butterfly. Compiled with target attributes;
// called only when the CPU has AVX2.
#include <immintrin.h>

#include "math/ntt.h"

#define HECNN_AVX2 __attribute__((target("avx2")))

namespace hecnn::math::detail {

namespace {

// x < 2m (values below 2^62): x - m when x >= m.
HECNN_AVX2 inline __m256i reduce_once(__m256i x, __m256i m, __m256i m_minus_1) {
  const __m256i ge = _mm256_cmpgt_epi64(x, m_minus_1);
  return _mm256_sub_epi64(x, _mm256_and_si256(ge, m));
}

// y w mod q in [0, 2q) for y < 2^32.
HECNN_AVX2 inline __m256i mul_shoup_lazy(__m256i y, __m256i w, __m256i wq, __m256i q) {
  const __m256i qhat = _mm256_srli_epi64(_mm256_mul_epu32(y, wq), 32);
  return _mm256_sub_epi64(_mm256_mul_epu32(y, w), _mm256_mul_epu32(qhat, q));
}

HECNN_AVX2 inline __m256i load(const u64* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
HECNN_AVX2 inline void store(u64* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
HECNN_AVX2 inline __m256i set1(u64 v) { return _mm256_set1_epi64x(static_cast<long long>(v)); }

}  // namespace

HECNN_AVX2 void ntt_forward_avx2(u64* a, const NttTables& tab) {
  const u64 qv = tab.modulus().value();
  const std::size_t n = tab.n();
  const ShoupOperand* roots = tab.root_powers().data();
  const u64* w32 = tab.avx2_roots_quot().data();
  const __m256i q = set1(qv), q1 = set1(qv - 1), two_q = set1(2 * qv), two_q1 = set1(2 * qv - 1);
  std::size_t t = n;
  for (std::size_t m = 1; m < n; m <<= 1) {
    t >>= 1;
    if (t >= 4) {
      for (std::size_t i = 0; i < m; ++i) {
        const __m256i w = set1(roots[m + i].operand), wq = set1(w32[m + i]);
        u64* x = a + 2 * i * t;
        u64* y = x + t;
        for (std::size_t j = 0; j < t; j += 4) {
          const __m256i u = reduce_once(load(x + j), two_q, two_q1);
          const __m256i v = mul_shoup_lazy(reduce_once(load(y + j), two_q, two_q1), w, wq, q);
          store(x + j, _mm256_add_epi64(u, v));
          store(y + j, _mm256_sub_epi64(_mm256_add_epi64(u, two_q), v));
        }
      }
    } else {
      ntt_forward_stage_scalar(a, tab, m, t);
    }
  }
  for (std::size_t i = 0; i < n; i += 4) store(a + i, reduce_once(reduce_once(load(a + i), two_q, two_q1), q, q1));
}

HECNN_AVX2 void ntt_inverse_avx2(u64* a, const NttTables& tab) {
  const u64 qv = tab.modulus().value();
  const std::size_t n = tab.n();
  const ShoupOperand* roots = tab.inv_root_powers().data();
  const u64* w32 = tab.avx2_inv_roots_quot().data();
  const __m256i q = set1(qv), q1 = set1(qv - 1), two_q = set1(2 * qv), two_q1 = set1(2 * qv - 1);
  std::size_t t = 1;
  for (std::size_t m = n >> 1; m >= 1; m >>= 1) {
    if (t >= 4) {
      for (std::size_t i = 0; i < m; ++i) {
        const __m256i w = set1(roots[m + i].operand), wq = set1(w32[m + i]);
        u64* x = a + 2 * i * t;
        u64* y = x + t;
        for (std::size_t j = 0; j < t; j += 4) {
          const __m256i u = load(x + j), v = load(y + j);
          store(x + j, reduce_once(_mm256_add_epi64(u, v), two_q, two_q1));
          const __m256i d = reduce_once(_mm256_sub_epi64(_mm256_add_epi64(u, two_q), v), two_q, two_q1);
          store(y + j, mul_shoup_lazy(d, w, wq, q));
        }
      }
    } else {
      ntt_inverse_stage_scalar(a, tab, m, t);
    }
    t <<= 1;
  }
  const __m256i inv_n = set1(tab.inv_n().operand), inv_nq = set1(tab.avx2_inv_n_quot());
  for (std::size_t i = 0; i < n; i += 4) store(a + i, reduce_once(mul_shoup_lazy(load(a + i), inv_n, inv_nq, q), q, q1));
}

}  // namespace hecnn::math::detail
