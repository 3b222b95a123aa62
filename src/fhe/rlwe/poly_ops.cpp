#include "fhe/rlwe/poly_ops.h"

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

BgvDelta::BgvDelta(const Context& ctx, const u64* x_last, const math::Modulus& ql, u64 ql_inv_t, std::int64_t* c_buf,
                   std::int64_t* k_buf)
    : n_(ctx.n()), ql_(ql.value()), c_(c_buf), k_(k_buf) {
  const auto& t = ctx.plain_modulus();
  const u64 half_q = ql.value() >> 1, half_t = t.value() >> 1;
  const auto tv = static_cast<std::int64_t>(t.value());
  for (std::size_t i = 0; i < n_; ++i) {
    const u64 x = x_last[i];
    const bool neg = x > half_q;
    const u64 mag = neg ? ql.value() - x : x;  // |c|
    c_buf[i] = neg ? -static_cast<std::int64_t>(mag) : static_cast<std::int64_t>(mag);
    const u64 c_mod_t = neg ? t.neg(t.reduce(mag)) : t.reduce(mag);
    const u64 kk = t.mul(t.neg(c_mod_t), ql_inv_t);
    k_buf[i] = kk > half_t ? static_cast<std::int64_t>(kk) - tv : static_cast<std::int64_t>(kk);
  }
}

void BgvDelta::mod(const math::Modulus& r, u64* out) const {
  const u64 ql_r = r.reduce(ql_);
  for (std::size_t i = 0; i < n_; ++i) out[i] = r.add(math::reduce_signed(c_[i], r), r.mul(math::reduce_signed(k_[i], r), ql_r));
}

namespace {
// BGV's divide_and_round_by_last: a_j <- (a_j - delta) q_last^-1 for j < k - 1.
void divide_by_last_bgv(const Context& ctx, u64* a, std::size_t k, bool ntt_form) {
  const std::size_t n = ctx.n(), last = k - 1;
  u64* a_last = a + last * n;
  if (ntt_form) math::ntt_inverse(a_last, ctx.ntt(last));
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
  math::parallel_for(last, [&](std::size_t j) {
    const auto& qj = ctx.key_base()[j];
    const u64 q = qj.value();
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
