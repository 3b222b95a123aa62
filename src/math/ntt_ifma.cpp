// AVX-512 IFMA negacyclic NTT (same convention and outputs as the scalar kernels).
//
// 52-bit Shoup multiplication: for x < 2^52 and w < q < 2^50 with
// wq = floor(w 2^52 / q), qhat = hi52(x wq) and r = lo52(x w - qhat q) lies in
// [0, 2q). Harvey's lazy butterflies keep values below 4q < 2^52. Stages with
// butterfly distance t >= 8 work on contiguous vectors; t = 4, 2, 1 regroup two
// vectors with permutes so that one register holds the X and one the Y operands.
// Compiled with target attributes; called only when the CPU has AVX-512 IFMA.
#include "math/ifma.h"
#include "math/ntt.h"

namespace hecnn::math::detail {

namespace {

using ifma::reduce_once;

struct Consts {
  __m512i q, two_q, neg_q, mask52;
};

HECNN_IFMA inline Consts consts(u64 q) {
  return {ifma::set1(q), ifma::set1(2 * q), ifma::set1((u64{1} << 52) - q), ifma::set1(ifma::kMask52)};
}

// Forward (Cooley-Tukey) butterfly on vectors: X, Y < 4q.
HECNN_IFMA inline void ct_butterfly(__m512i& x, __m512i& y, __m512i w, __m512i wq, const Consts& c) {
  x = reduce_once(x, c.two_q);
  const __m512i t = ifma::mul_shoup_lazy(y, w, wq, c.neg_q);
  y = _mm512_add_epi64(_mm512_sub_epi64(x, t), c.two_q);
  x = _mm512_add_epi64(x, t);
}

// Inverse (Gentleman-Sande) butterfly on vectors: X, Y < 2q.
HECNN_IFMA inline void gs_butterfly(__m512i& x, __m512i& y, __m512i w, __m512i wq, const Consts& c) {
  const __m512i t = _mm512_add_epi64(_mm512_sub_epi64(x, y), c.two_q);
  x = reduce_once(_mm512_add_epi64(x, y), c.two_q);
  y = ifma::mul_shoup_lazy(t, w, wq, c.neg_q);
}

// Lane patterns for the short stages (two vectors A = a[0..7], B = a[8..15]).
struct Pattern {
  __m512i take_x, take_y;      // (A, B) -> X, Y
  __m512i put_a, put_b;        // (X', Y') -> A', B'
  __m512i widx;                // twiddle lanes from 8 consecutive table entries
  std::size_t groups;          // butterfly groups per 16 elements
};

HECNN_IFMA inline Pattern pattern(std::size_t t) {
  if (t == 4) {
    return {_mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11), _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15),
            _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11), _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15),
            _mm512_setr_epi64(0, 0, 0, 0, 1, 1, 1, 1), 2};
  }
  if (t == 2) {
    return {_mm512_setr_epi64(0, 1, 4, 5, 8, 9, 12, 13), _mm512_setr_epi64(2, 3, 6, 7, 10, 11, 14, 15),
            _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15),
            _mm512_setr_epi64(0, 0, 1, 1, 2, 2, 3, 3), 4};
  }
  return {_mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15),
          _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15),
          _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7), 8};
}

template <bool Forward>
HECNN_IFMA inline void short_stage(u64* a, std::size_t n, std::size_t m, std::size_t t, const u64* w, const u64* wq,
                                   const Consts& c) {
  const Pattern p = pattern(t);
  for (std::size_t base = 0, g = 0; base < n; base += 16, g += p.groups) {
    __m512i va = _mm512_loadu_si512(a + base);
    __m512i vb = _mm512_loadu_si512(a + base + 8);
    __m512i x = _mm512_permutex2var_epi64(va, p.take_x, vb);
    __m512i y = _mm512_permutex2var_epi64(va, p.take_y, vb);
    const __m512i ww = _mm512_permutexvar_epi64(p.widx, _mm512_loadu_si512(w + m + g));
    const __m512i wwq = _mm512_permutexvar_epi64(p.widx, _mm512_loadu_si512(wq + m + g));
    if constexpr (Forward) {
      ct_butterfly(x, y, ww, wwq, c);
    } else {
      gs_butterfly(x, y, ww, wwq, c);
    }
    _mm512_storeu_si512(a + base, _mm512_permutex2var_epi64(x, p.put_a, y));
    _mm512_storeu_si512(a + base + 8, _mm512_permutex2var_epi64(x, p.put_b, y));
  }
}

}  // namespace

HECNN_IFMA void ntt_forward_ifma(u64* a, const NttTables& tab) {
  const std::size_t n = tab.n();
  const u64 q = tab.modulus().value();
  const Consts c = consts(q);
  const u64* w = tab.ifma_roots().data();
  const u64* wq = tab.ifma_roots_quot().data();
  std::size_t t = n;
  for (std::size_t m = 1; m < n; m <<= 1) {
    t >>= 1;
    if (t >= 8) {
      for (std::size_t i = 0; i < m; ++i) {
        const __m512i vw = _mm512_set1_epi64(static_cast<long long>(w[m + i]));
        const __m512i vwq = _mm512_set1_epi64(static_cast<long long>(wq[m + i]));
        u64* x = a + 2 * i * t;
        u64* y = x + t;
        for (std::size_t j = 0; j < t; j += 8) {
          __m512i vx = _mm512_loadu_si512(x + j);
          __m512i vy = _mm512_loadu_si512(y + j);
          ct_butterfly(vx, vy, vw, vwq, c);
          _mm512_storeu_si512(x + j, vx);
          _mm512_storeu_si512(y + j, vy);
        }
      }
    } else {
      short_stage<true>(a, n, m, t, w, wq, c);
    }
  }
  for (std::size_t i = 0; i < n; i += 8) {
    __m512i v = _mm512_loadu_si512(a + i);
    v = reduce_once(reduce_once(v, c.two_q), c.q);
    _mm512_storeu_si512(a + i, v);
  }
}

HECNN_IFMA void ntt_inverse_ifma(u64* a, const NttTables& tab) {
  const std::size_t n = tab.n();
  const u64 q = tab.modulus().value();
  const Consts c = consts(q);
  const u64* w = tab.ifma_inv_roots().data();
  const u64* wq = tab.ifma_inv_roots_quot().data();
  std::size_t t = 1;
  for (std::size_t m = n >> 1; m >= 1; m >>= 1, t <<= 1) {
    if (t < 8) {
      short_stage<false>(a, n, m, t, w, wq, c);
      continue;
    }
    for (std::size_t i = 0; i < m; ++i) {
      const __m512i vw = _mm512_set1_epi64(static_cast<long long>(w[m + i]));
      const __m512i vwq = _mm512_set1_epi64(static_cast<long long>(wq[m + i]));
      u64* x = a + 2 * i * t;
      u64* y = x + t;
      for (std::size_t j = 0; j < t; j += 8) {
        __m512i vx = _mm512_loadu_si512(x + j);
        __m512i vy = _mm512_loadu_si512(y + j);
        gs_butterfly(vx, vy, vw, vwq, c);
        _mm512_storeu_si512(x + j, vx);
        _mm512_storeu_si512(y + j, vy);
      }
    }
  }
  // Multiply by 1/N and reduce fully.
  const u64 inv_n = tab.inv_n().operand;
  const __m512i vw = _mm512_set1_epi64(static_cast<long long>(inv_n));
  const __m512i vwq = ifma::set1(ifma::shoup_quotient52(inv_n, q));
  for (std::size_t i = 0; i < n; i += 8) {
    __m512i v = _mm512_loadu_si512(a + i);
    v = ifma::mul_shoup_lazy(v, vw, vwq, c.neg_q);
    _mm512_storeu_si512(a + i, reduce_once(v, c.q));
  }
}

}  // namespace hecnn::math::detail
