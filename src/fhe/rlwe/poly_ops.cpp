#include "fhe/rlwe/poly_ops.h"

#include "fhe/rlwe/bgv_switch_ifma.h"

#include <vector>

#include "math/parallel.h"
#include "math/scratch.h"
#include "math/vec_ops.h"

namespace hecnn::rlwe {

void ntt_forward_poly(const Context& ctx, u64* poly, std::size_t k) {
  const std::size_t n = ctx.n();
  math::parallel_for(k, [&](std::size_t j) { math::ntt_forward(poly + j * n, ctx.ntt(j)); });
}

void ntt_inverse_poly(const Context& ctx, u64* poly, std::size_t k) {
  const std::size_t n = ctx.n();
  math::parallel_for(k, [&](std::size_t j) { math::ntt_inverse(poly + j * n, ctx.ntt(j)); });
}

void add_poly(const Context& ctx, const u64* a, const u64* b, u64* out, std::size_t k) {
  const std::size_t n = ctx.n();
  for (std::size_t j = 0; j < k; ++j) math::add_mod_vec(a + j * n, b + j * n, out + j * n, n, ctx.key_base()[j]);
}

void sub_poly(const Context& ctx, const u64* a, const u64* b, u64* out, std::size_t k) {
  const std::size_t n = ctx.n();
  for (std::size_t j = 0; j < k; ++j) math::sub_mod_vec(a + j * n, b + j * n, out + j * n, n, ctx.key_base()[j]);
}

void negate_poly(const Context& ctx, const u64* a, u64* out, std::size_t k) {
  const std::size_t n = ctx.n();
  for (std::size_t j = 0; j < k; ++j) {
    const u64 q = ctx.key_base()[j].value();
    for (std::size_t i = j * n; i < (j + 1) * n; ++i) out[i] = a[i] == 0 ? 0 : q - a[i];
  }
}

void mul_poly(const Context& ctx, const u64* a, const u64* b, u64* out, std::size_t k) {
  const std::size_t n = ctx.n();
  math::parallel_for(k, [&](std::size_t j) {
    math::mul_mod_vec(a + j * n, b + j * n, out + j * n, n, ctx.key_base()[j]);
  });
}

void mul_add_poly(const Context& ctx, const u64* a, const u64* b, u64* out, std::size_t k) {
  const std::size_t n = ctx.n();
  math::parallel_for(k, [&](std::size_t j) {
    math::mul_add_mod_vec(a + j * n, b + j * n, out + j * n, n, ctx.key_base()[j]);
  });
}

void mul_scalar_poly(const Context& ctx, u64* a, std::int64_t c, std::size_t k) {
  const std::size_t n = ctx.n();
  math::parallel_for(k, [&](std::size_t j) {
    const auto& qj = ctx.key_base()[j];
    const math::ShoupOperand w(math::reduce_signed(c, qj), qj);
    u64* r = a + j * n;
    for (std::size_t i = 0; i < n; ++i) r[i] = math::mul_shoup(r[i], w, qj.value());
  });
}

namespace {
// Branch-free helpers (the signs are random: branches would mispredict half the time).
inline u64 neg_mask(std::int64_t v) { return static_cast<u64>(v >> 63); }               // all ones if v < 0
inline u64 abs_u(std::int64_t v) { const u64 m = neg_mask(v); return (static_cast<u64>(v) ^ m) - m; }
inline u64 negate_if(u64 a, u64 q, u64 mask) { return a + ((q - 2 * a) & mask); }     // a or q - a, in [0, q]
inline u64 sub_if_ge(u64 v, u64 q) { return v - (q & (u64{0} - static_cast<u64>(v >= q))); }
}  // namespace

BgvDelta::BgvDelta(const Context& ctx, const u64* x_last, const math::Modulus& ql, u64 ql_inv_t, std::int64_t* c_buf,
                   std::int64_t* k_buf)
    : n_(ctx.n()), ql_(ql.value()), c_(c_buf), k_(k_buf) {
  const auto& t = ctx.plain_modulus();
  const u64 q = ql.value(), half_q = q >> 1, tv = t.value(), half_t = tv >> 1;
  const math::ShoupOperand one(1, t), inv(ql_inv_t, t);
  for (std::size_t i = 0; i < n_; ++i) {
    const u64 x = x_last[i];
    const u64 neg = u64{0} - static_cast<u64>(x > half_q);
    const std::int64_t c = static_cast<std::int64_t>(x - (q & neg));  // centred: x or x - q
    c_buf[i] = c;
    const u64 c_mod_t = sub_if_ge(negate_if(math::mul_shoup(abs_u(c), one, tv), tv, neg), tv);
    const u64 kk = math::mul_shoup(sub_if_ge(tv - c_mod_t, tv), inv, tv);  // -c q_l^-1 mod t
    k_buf[i] = static_cast<std::int64_t>(kk) - static_cast<std::int64_t>(tv & (u64{0} - static_cast<u64>(kk > half_t)));
  }
}

void BgvDelta::mod(const math::Modulus& r, u64* out) const {
  // delta = c + k q_l with |c| < q_l / 2 and |k| <= t / 2: both parts by Shoup products
  // (x * 1 reduces any 64-bit x), no 128-bit reduction, no branches.
  const u64 q = r.value();
  const math::ShoupOperand one(1, r), ql_r(r.reduce(ql_), r);
  for (std::size_t i = 0; i < n_; ++i) {
    const std::int64_t c = c_[i], k = k_[i];
    const u64 a = negate_if(math::mul_shoup(abs_u(c), one, q), q, neg_mask(c));
    const u64 b = negate_if(math::mul_shoup(abs_u(k), ql_r, q), q, neg_mask(k));
    out[i] = sub_if_ge(sub_if_ge(a + b, q), q);
  }
}

namespace {
// BGV's divide_and_round_by_last: a_j <- (a_j - delta) q_last^-1 for j < k - 1.
void divide_by_last_bgv(const Context& ctx, u64* a, std::size_t k, bool ntt_form) {
  const std::size_t n = ctx.n(), last = k - 1;
  u64* a_last = a + last * n;
  if (ntt_form) math::ntt_inverse(a_last, ctx.ntt(last));
  const u64 t = ctx.plain_modulus().value(), ql = ctx.key_base()[last].value();
  bool vector = n % 8 == 0 && ctx.plain_modulus().bits() <= 50 && ctx.key_base()[last].bits() <= 50 && math::cpu_has_ifma();
  for (std::size_t j = 0; j < last; ++j) vector = vector && ctx.key_base()[j].bits() <= 50;
  if (vector) {
    u64* kk = math::scratch<struct BgvDivKVecTag, u64>(n);
    detail::bgv_delta_k_ifma(a_last, kk, n, ql, t, ctx.inv_last_mod_t(k));
    math::parallel_for(last, [&](std::size_t j) {
      const auto& qj = ctx.key_base()[j];
      u64* tmp = math::scratch<struct BgvDivTmpTag, u64>(n);
      detail::bgv_delta_mod_ifma(a_last, kk, tmp, n, ql, t, qj.value());
      if (ntt_form) math::ntt_forward(tmp, ctx.ntt(j));
      detail::bgv_sub_scale_ifma(a + j * n, tmp, n, qj.value(), ctx.inv_last(k, j).operand);
    });
    return;
  }
  const BgvDelta delta(ctx, a_last, ctx.key_base()[last], ctx.inv_last_mod_t(k),
                       math::scratch<struct BgvDivCTag, std::int64_t>(n), math::scratch<struct BgvDivKTag, std::int64_t>(n));
  math::parallel_for(last, [&](std::size_t j) {
    const auto& qj = ctx.key_base()[j];
    const u64 q = qj.value();
    const math::ShoupOperand inv = ctx.inv_last(k, j);
    u64* tmp = math::scratch<struct BgvDivTmpTag, u64>(n);
    delta.mod(qj, tmp);
    if (ntt_form) math::ntt_forward(tmp, ctx.ntt(j));
    u64* aj = a + j * n;
    for (std::size_t i = 0; i < n; ++i) aj[i] = math::mul_shoup(aj[i] + q - tmp[i], inv, q);
  });
}
}  // namespace

void divide_and_round_by_last(const Context& ctx, u64* a, std::size_t k, bool ntt_form) {
  if (ctx.scheme() == Scheme::bgv) {
    divide_by_last_bgv(ctx, a, k, ntt_form);
    return;
  }
  const std::size_t n = ctx.n();
  const std::size_t last = k - 1;
  const auto& ql = ctx.key_base()[last];
  u64* a_last = a + last * n;
  if (ntt_form) math::ntt_inverse(a_last, ctx.ntt(last));
  // Adding floor(q_last / 2) turns the floor of the exact division into rounding.
  const u64 half = ql.value() >> 1;
  for (std::size_t i = 0; i < n; ++i) a_last[i] = ql.add(a_last[i], half);
  // NTT form with q_last below 2^50: each prime below 2^50 takes the IFMA kernels
  // (bgv_switch_ifma.h; the same words), the others the scalar loop below.
  const bool vector = ntt_form && n % 8 == 0 && ql.bits() <= 50 && math::cpu_has_ifma();
  math::parallel_for(last, [&](std::size_t j) {
    const auto& qj = ctx.key_base()[j];
    const u64 q = qj.value();
    if (vector && qj.bits() <= 50) {
      u64* tmp = math::scratch<struct DivRoundVecTag, u64>(n);
      detail::reduce_add_ifma(a_last, tmp, n, q, (q - qj.reduce(half)) % q);
      math::ntt_forward(tmp, ctx.ntt(j));
      detail::bgv_sub_scale_ifma(a + j * n, tmp, n, q, ctx.inv_last(k, j).operand);
      return;
    }
    // (a_j - (a_last - half)) * q_last^-1, with a_last - half reduced mod q_j: add
    // q - (half mod q) instead of subtracting, and let the Shoup product absorb
    // values below 4q (a_j < q, reduce(a_last) < q, q - half_mod <= q).
    const u64 q_minus_half = q - qj.reduce(half);
    const math::ShoupOperand inv = ctx.inv_last(k, j);
    u64* aj = a + j * n;
    if (ntt_form) {
      u64* tmp = math::scratch<struct DivRoundTag, u64>(n);
      for (std::size_t i = 0; i < n; ++i) {
        const u64 v = qj.reduce(a_last[i]) + q_minus_half;
        tmp[i] = v >= q ? v - q : v;
      }
      math::ntt_forward(tmp, ctx.ntt(j));
      for (std::size_t i = 0; i < n; ++i) aj[i] = math::mul_shoup(aj[i] + q - tmp[i], inv, q);
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        const u64 v = qj.reduce(a_last[i]) + q_minus_half;  // < 2q
        aj[i] = math::mul_shoup(aj[i] + 2 * q - v, inv, q);
      }
    }
  });
}

}  // namespace hecnn::rlwe
