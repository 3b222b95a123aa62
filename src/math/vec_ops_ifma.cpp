// AVX-512 IFMA element-wise kernels for q < 2^50 (see vec_ops.h; arithmetic in ifma.h).
#include "math/ifma.h"
#include "math/vec_ops.h"

namespace hecnn::math::detail {

HECNN_IFMA void mul_mod_ifma(const u64* a, const u64* b, u64* out, std::size_t n, u64 q, int bits, u64 mu,
                             bool accumulate) {
  const ifma::Barrett52 bq = ifma::barrett52(q, bits, mu);
  for (std::size_t i = 0; i < n; i += 8) {
    __m512i r = ifma::mul_barrett(_mm512_loadu_si512(a + i), _mm512_loadu_si512(b + i), bq);
    if (accumulate) r = ifma::reduce_once(_mm512_add_epi64(r, _mm512_loadu_si512(out + i)), bq.q);
    _mm512_storeu_si512(out + i, r);
  }
}

HECNN_IFMA void add_sub_mod_ifma(const u64* a, const u64* b, u64* out, std::size_t n, u64 q, bool subtract) {
  const __m512i vq = ifma::set1(q);
  for (std::size_t i = 0; i < n; i += 8) {
    const __m512i x = _mm512_loadu_si512(a + i), y = _mm512_loadu_si512(b + i);
    const __m512i r = subtract ? _mm512_sub_epi64(_mm512_add_epi64(x, vq), y) : _mm512_add_epi64(x, y);
    _mm512_storeu_si512(out + i, ifma::reduce_once(r, vq));
  }
}

HECNN_IFMA void tensor_mod_ifma(const u64* x0, const u64* x1, const u64* y0, const u64* y1, u64* d0, u64* d1, u64* d2,
                                std::size_t n, u64 q, int bits, u64 mu) {
  const ifma::Barrett52 bq = ifma::barrett52(q, bits, mu);
  if (!y0) {  // square
    for (std::size_t i = 0; i < n; i += 8) {
      const __m512i a0 = _mm512_loadu_si512(x0 + i), a1 = _mm512_loadu_si512(x1 + i);
      const __m512i cross = ifma::mul_barrett(a0, a1, bq);
      _mm512_storeu_si512(d0 + i, ifma::mul_barrett(a0, a0, bq));
      _mm512_storeu_si512(d1 + i, ifma::reduce_once(_mm512_add_epi64(cross, cross), bq.q));
      _mm512_storeu_si512(d2 + i, ifma::mul_barrett(a1, a1, bq));
    }
    return;
  }
  for (std::size_t i = 0; i < n; i += 8) {
    const __m512i a0 = _mm512_loadu_si512(x0 + i), a1 = _mm512_loadu_si512(x1 + i);
    const __m512i b0 = _mm512_loadu_si512(y0 + i), b1 = _mm512_loadu_si512(y1 + i);
    const __m512i cross = _mm512_add_epi64(ifma::mul_barrett(a0, b1, bq), ifma::mul_barrett(a1, b0, bq));
    _mm512_storeu_si512(d0 + i, ifma::mul_barrett(a0, b0, bq));
    _mm512_storeu_si512(d1 + i, ifma::reduce_once(cross, bq.q));
    _mm512_storeu_si512(d2 + i, ifma::mul_barrett(a1, b1, bq));
  }
}

}  // namespace hecnn::math::detail
