#include "fhe/rlwe/bgv_switch_ifma.h"

#include "math/ifma.h"

namespace hecnn::rlwe::detail {

namespace {
using math::ifma::set1;
// a - b mod q for a, b in [0, q).
HECNN_IFMA inline __m512i sub_mod(__m512i a, __m512i b, __m512i q) {
  const __m512i r = _mm512_sub_epi64(a, b);
  return _mm512_min_epu64(r, _mm512_add_epi64(r, q));
}
// x * 1 mod q in [0, q) for x < 2^52: a Shoup product by one.
struct ReduceBy {
  __m512i q, neg_q, one, one_q;
  HECNN_IFMA explicit ReduceBy(u64 m)
      : q(set1(m)), neg_q(set1((u64{1} << 52) - m)), one(set1(1)), one_q(set1(math::ifma::shoup_quotient52(1, m))) {}
  HECNN_IFMA __m512i operator()(__m512i x) const { return math::ifma::mul_shoup(x, one, one_q, q, neg_q); }
};
}  // namespace

HECNN_IFMA void bgv_delta_k_ifma(const u64* x, u64* k, std::size_t n, u64 q_last, u64 t, u64 q_last_inv_t) {
  const ReduceBy rt(t);
  const __m512i half_q = set1(q_last >> 1), ql_t = set1(q_last % t), zero = _mm512_setzero_si512();
  const __m512i inv = set1(q_last_inv_t), inv_q = set1(math::ifma::shoup_quotient52(q_last_inv_t, t));
  for (std::size_t i = 0; i < n; i += 8) {
    const __m512i v = _mm512_loadu_si512(x + i);
    const __mmask8 neg = _mm512_cmpgt_epu64_mask(v, half_q);  // c = x - q_last
    const __m512i c_t = sub_mod(rt(v), _mm512_maskz_mov_epi64(neg, ql_t), rt.q);
    const __m512i negc = sub_mod(zero, c_t, rt.q);
    _mm512_storeu_si512(k + i, math::ifma::mul_shoup(negc, inv, inv_q, rt.q, rt.neg_q));
  }
}

HECNN_IFMA void bgv_delta_mod_ifma(const u64* x, const u64* k, u64* delta, std::size_t n, u64 q_last, u64 t, u64 q) {
  const ReduceBy rq(q);
  const u64 ql_q = q_last % q;
  const __m512i half_q = set1(q_last >> 1), half_t = set1(t >> 1), ql = set1(ql_q);
  const __m512i ql_quot = set1(math::ifma::shoup_quotient52(ql_q, q));
  const __m512i t_ql = set1(static_cast<u64>((static_cast<unsigned __int128>(t % q) * ql_q) % q));
  for (std::size_t i = 0; i < n; i += 8) {
    const __m512i v = _mm512_loadu_si512(x + i), kk = _mm512_loadu_si512(k + i);
    // c mod q (c = x, or x - q_last above half) + k q_last mod q (k = kk, or kk - t above half).
    const __m512i c = sub_mod(rq(v), _mm512_maskz_mov_epi64(_mm512_cmpgt_epu64_mask(v, half_q), ql), rq.q);
    const __m512i kq = sub_mod(math::ifma::mul_shoup(kk, ql, ql_quot, rq.q, rq.neg_q),
                               _mm512_maskz_mov_epi64(_mm512_cmpgt_epu64_mask(kk, half_t), t_ql), rq.q);
    _mm512_storeu_si512(delta + i, math::ifma::reduce_once(_mm512_add_epi64(c, kq), rq.q));
  }
}

HECNN_IFMA void bgv_sub_scale_ifma(u64* a, const u64* d, std::size_t n, u64 q, u64 q_last_inv_q) {
  const __m512i vq = set1(q), neg_q = set1((u64{1} << 52) - q), w = set1(q_last_inv_q);
  const __m512i wq = set1(math::ifma::shoup_quotient52(q_last_inv_q, q));
  for (std::size_t i = 0; i < n; i += 8) {
    const __m512i diff = _mm512_sub_epi64(_mm512_add_epi64(_mm512_loadu_si512(a + i), vq), _mm512_loadu_si512(d + i));  // < 2q
    _mm512_storeu_si512(a + i, math::ifma::mul_shoup(diff, w, wq, vq, neg_q));
  }
}

HECNN_IFMA void reduce_add_ifma(const u64* x, u64* out, std::size_t n, u64 q, u64 add) {
  const ReduceBy rq(q);
  const __m512i va = set1(add);
  for (std::size_t i = 0; i < n; i += 8)
    _mm512_storeu_si512(out + i, math::ifma::reduce_once(_mm512_add_epi64(rq(_mm512_loadu_si512(x + i)), va), rq.q));
}

}  // namespace hecnn::rlwe::detail
