// AVX-512 IFMA negacyclic NTT (same convention and outputs as the scalar kernels).
//
// 52-bit Shoup multiplication: for x < 2^52 and w < q < 2^50 with
// wq = floor(w 2^52 / q), qhat = hi52(x wq) and r = lo52(x w - qhat q) lies in
// [0, 2q). Harvey's lazy butterflies keep values below 4q < 2^52. Stages with
// butterfly distance t >= 8 work on contiguous vectors, two stages per pass where both
// distances allow it (radix 4: four vectors in registers, half the memory passes);
// t = 4, 2, 1 regroup two vectors with permutes so that one register holds the X and one
// the Y operands.
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

// One short stage (distance t, stage index m) on a 16-element block held in (va, vb).
template <bool Forward>
HECNN_IFMA inline void short_stage_regs(__m512i& va, __m512i& vb, const Pattern& p, std::size_t base, std::size_t m, std::size_t t,
                                        const u64* w, const u64* wq, const Consts& c) {
  __m512i x = _mm512_permutex2var_epi64(va, p.take_x, vb);
  __m512i y = _mm512_permutex2var_epi64(va, p.take_y, vb);
  const std::size_t g = base / (2 * t);
  const __m512i ww = _mm512_permutexvar_epi64(p.widx, _mm512_loadu_si512(w + m + g));
  const __m512i wwq = _mm512_permutexvar_epi64(p.widx, _mm512_loadu_si512(wq + m + g));
  if constexpr (Forward) {
    ct_butterfly(x, y, ww, wwq, c);
  } else {
    gs_butterfly(x, y, ww, wwq, c);
  }
  va = _mm512_permutex2var_epi64(x, p.put_a, y);
  vb = _mm512_permutex2var_epi64(x, p.put_b, y);
}

// The three short stages (t = 4, 2, 1) of each 16-element block at once, in registers:
// forward t = 4, 2, 1 then the final reduction to [0, q); inverse t = 1, 2, 4. The stage
// index of t = 4 is n / 8; those of t = 2 and t = 1 are n / 4 and n / 2.
template <bool Forward>
HECNN_IFMA inline void short_stages(u64* a, std::size_t n, const u64* w, const u64* wq, const Consts& c) {
  const std::size_t m4 = n / 8;
  const Pattern p4 = pattern(4), p2 = pattern(2), p1 = pattern(1);
  for (std::size_t base = 0; base < n; base += 16) {
    __m512i va = _mm512_loadu_si512(a + base);
    __m512i vb = _mm512_loadu_si512(a + base + 8);
    if constexpr (Forward) {
      short_stage_regs<true>(va, vb, p4, base, m4, 4, w, wq, c);
      short_stage_regs<true>(va, vb, p2, base, 2 * m4, 2, w, wq, c);
      short_stage_regs<true>(va, vb, p1, base, 4 * m4, 1, w, wq, c);
      va = reduce_once(reduce_once(va, c.two_q), c.q);
      vb = reduce_once(reduce_once(vb, c.two_q), c.q);
    } else {
      short_stage_regs<false>(va, vb, p1, base, 4 * m4, 1, w, wq, c);
      short_stage_regs<false>(va, vb, p2, base, 2 * m4, 2, w, wq, c);
      short_stage_regs<false>(va, vb, p4, base, m4, 4, w, wq, c);
    }
    _mm512_storeu_si512(a + base, va);
    _mm512_storeu_si512(a + base + 8, vb);
  }
}

}  // namespace

HECNN_IFMA void ntt_forward_ifma(u64* a, const NttTables& tab) {
  const std::size_t n = tab.n();
  const u64 q = tab.modulus().value();
  const Consts c = consts(q);
  const u64* w = tab.ifma_roots().data();
  const u64* wq = tab.ifma_roots_quot().data();
  std::size_t m = 1;
  while (m < n) {
    const std::size_t t = n / (2 * m);  // butterfly distance of stage m
    if (t >= 16) {
      // Two stages per pass (radix 4): stage m pairs (e0, e2), (e1, e3) of each 2t block,
      // stage 2m then (e0, e1) and (e2, e3); half the passes over memory.
      const std::size_t h = t / 2;
      for (std::size_t i = 0; i < m; ++i) {
        const __m512i w1 = ifma::set1(w[m + i]), w1q = ifma::set1(wq[m + i]);
        const __m512i w2 = ifma::set1(w[2 * m + 2 * i]), w2q = ifma::set1(wq[2 * m + 2 * i]);
        const __m512i w3 = ifma::set1(w[2 * m + 2 * i + 1]), w3q = ifma::set1(wq[2 * m + 2 * i + 1]);
        u64* e = a + 2 * i * t;
        for (std::size_t j = 0; j < h; j += 8) {
          __m512i e0 = _mm512_loadu_si512(e + j), e1 = _mm512_loadu_si512(e + h + j);
          __m512i e2 = _mm512_loadu_si512(e + t + j), e3 = _mm512_loadu_si512(e + t + h + j);
          ct_butterfly(e0, e2, w1, w1q, c);
          ct_butterfly(e1, e3, w1, w1q, c);
          ct_butterfly(e0, e1, w2, w2q, c);
          ct_butterfly(e2, e3, w3, w3q, c);
          _mm512_storeu_si512(e + j, e0);
          _mm512_storeu_si512(e + h + j, e1);
          _mm512_storeu_si512(e + t + j, e2);
          _mm512_storeu_si512(e + t + h + j, e3);
        }
      }
      m <<= 2;
    } else if (t >= 8) {
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
      m <<= 1;
    } else {
      // t == 4: the three short stages and the final reduction in one pass.
      short_stages<true>(a, n, w, wq, c);
      return;
    }
  }
}

HECNN_IFMA void ntt_inverse_ifma(u64* a, const NttTables& tab) {
  const std::size_t n = tab.n();
  const u64 q = tab.modulus().value();
  const Consts c = consts(q);
  const u64* w = tab.ifma_inv_roots().data();
  const u64* wq = tab.ifma_inv_roots_quot().data();
  // 1/N is folded into the last stage: its sums are multiplied by 1/N, its differences by
  // w / N (one product, as before), then reduced to [0, q).
  const u64 inv_n = tab.inv_n().operand;
  const __m512i vn = ifma::set1(inv_n), vnq = ifma::set1(ifma::shoup_quotient52(inv_n, q));
  const Modulus& mq = tab.modulus();
  const u64 w_last = mq.mul(w[1], inv_n);
  const __m512i wl = ifma::set1(w_last), wlq = ifma::set1(ifma::shoup_quotient52(w_last, q));
  // The three short stages (t = 1, 2, 4) in one pass, then t >= 8.
  short_stages<false>(a, n, w, wq, c);
  std::size_t m = n >> 4, t = 8;
  while (m >= 1) {
    if (m >= 2) {
      // Two stages per pass (radix 4): stage m pairs (e0, e1), (e2, e3) of each 4t block,
      // stage m / 2 then (e0, e2) and (e1, e3).
      const bool last = m == 2;
      for (std::size_t g = 0; g < m / 2; ++g) {
        const __m512i w1 = ifma::set1(w[m + 2 * g]), w1q = ifma::set1(wq[m + 2 * g]);
        const __m512i w2 = ifma::set1(w[m + 2 * g + 1]), w2q = ifma::set1(wq[m + 2 * g + 1]);
        const __m512i w3 = last ? wl : ifma::set1(w[m / 2 + g]), w3q = last ? wlq : ifma::set1(wq[m / 2 + g]);
        u64* e = a + 4 * g * t;
        for (std::size_t j = 0; j < t; j += 8) {
          __m512i e0 = _mm512_loadu_si512(e + j), e1 = _mm512_loadu_si512(e + t + j);
          __m512i e2 = _mm512_loadu_si512(e + 2 * t + j), e3 = _mm512_loadu_si512(e + 3 * t + j);
          gs_butterfly(e0, e1, w1, w1q, c);
          gs_butterfly(e2, e3, w2, w2q, c);
          gs_butterfly(e0, e2, w3, w3q, c);
          gs_butterfly(e1, e3, w3, w3q, c);
          if (last) {
            e0 = ifma::mul_shoup(e0, vn, vnq, c.q, c.neg_q);
            e1 = ifma::mul_shoup(e1, vn, vnq, c.q, c.neg_q);
            e2 = reduce_once(e2, c.q);
            e3 = reduce_once(e3, c.q);
          }
          _mm512_storeu_si512(e + j, e0);
          _mm512_storeu_si512(e + t + j, e1);
          _mm512_storeu_si512(e + 2 * t + j, e2);
          _mm512_storeu_si512(e + 3 * t + j, e3);
        }
      }
      m >>= 2;
      t <<= 2;
      continue;
    }
    // The last stage alone (m == 1), with 1/N folded in.
    u64* x = a;
    u64* y = x + t;
    for (std::size_t j = 0; j < t; j += 8) {
      __m512i vx = _mm512_loadu_si512(x + j);
      __m512i vy = _mm512_loadu_si512(y + j);
      gs_butterfly(vx, vy, wl, wlq, c);
      _mm512_storeu_si512(x + j, ifma::mul_shoup(vx, vn, vnq, c.q, c.neg_q));
      _mm512_storeu_si512(y + j, reduce_once(vy, c.q));
    }
    m >>= 1;
    t <<= 1;
  }
}

}  // namespace hecnn::math::detail
