// BFV ciphertext x ciphertext multiplication in RNS (Halevi-Polyakov-Shoup).
//
// 1. Extend each input polynomial from base Q to Q u P exactly (centered).
// 2. Tensor in NTT form over Q u P: d0 = a0 b0, d1 = a0 b1 + a1 b0, d2 = a1 b1.
// 3. For each d: z = round(t d / Q) mod P, from the CRT form of d over Q u P:
//      t d / Q ≡ sum_i y_i (omega_ij + theta_i) + d_Pj [t Q^-1]_{p_j}   (mod p_j)
//    with y_i = [d_i (QP / q_i)^-1]_{q_i} and t P / q_i = omega_i + theta_i;
//    the fractional sum is rounded once per coefficient in 128-bit fixed point.
// 4. Convert z exactly from P back to Q (|z| < P / 2 because P > 4 t N Q).
// No big integers; errors of the fixed-point rounding only add noise of ±1.
#include <stdexcept>
#include <vector>

#include "fhe/bfv/evaluator.h"
#include "fhe/bfv/multiply_ifma.h"
#include "math/vec_ops.h"
#include "math/parallel.h"
#include "math/scratch.h"

namespace hecnn::bfv {

using math::u128;

namespace {

struct Workspace {
  std::size_t n, k, kp;
  u64* data;
  u64* poly(std::size_t i) { return data + i * (k + kp) * n; }
};
struct InputsTag;
struct TensorTag;
struct ZTag;

void ntt_all(const rlwe::Context& ctx, const LevelTables& L, Workspace& w, std::size_t polys, bool forward) {
  const std::size_t tot = w.k + w.kp;
  math::parallel_for(polys * tot, [&](std::size_t task) {
    const std::size_t p = task / tot, r = task % tot;
    u64* res = w.poly(p) + r * w.n;
    const math::NttTables& tab = r < w.k ? ctx.ntt(r) : L.aux_ntt[r - w.k];
    if (forward) {
      math::ntt_forward(res, tab);
    } else {
      math::ntt_inverse(res, tab);
    }
  });
}

const math::Modulus& modulus_of(const rlwe::Context& ctx, const LevelTables& L, std::size_t r, std::size_t k) {
  return r < k ? ctx.key_base()[r] : L.aux[r - k];
}

// d (over Q u P, coefficient form) -> z = round(t d / Q) mod P, written to z (kp x n).
void scale_round(const LevelTables& L, const u64* d, u64* z, std::size_t n, std::size_t k, std::size_t kp,
                 const rlwe::Context& ctx) {
  constexpr std::size_t kBlock = 256;
  const std::size_t blocks = (n + kBlock - 1) / kBlock;
  math::parallel_for(blocks, [&](std::size_t b) {
    const std::size_t c0 = b * kBlock, len = std::min(kBlock, n - c0);
    if (L.ifma) {
      detail::scale_round_ifma(L, ctx, d, z, n, c0, c0 + len);
      return;
    }
    std::vector<u64> y(k * kBlock), r(kBlock);
    for (std::size_t i = 0; i < k; ++i) {
      const u64 q = ctx.key_base()[i].value();
      const auto w = L.mul_y[i];
      for (std::size_t c = 0; c < len; ++c) y[i * kBlock + c] = math::mul_shoup(d[i * n + c0 + c], w, q);
    }
    for (std::size_t c = 0; c < len; ++c) {
      u128 frac = 0;
      for (std::size_t i = 0; i < k; ++i) {
        const u64 yi = y[i * kBlock + c];
        frac += static_cast<u128>(yi) * L.mul_theta[i].hi + math::mul_hi(yi, L.mul_theta[i].lo);
      }
      r[c] = static_cast<u64>((frac + (u128{1} << 63)) >> 64);
    }
    for (std::size_t j = 0; j < kp; ++j) {
      const auto& pj = L.aux[j];
      const u64* omega = L.mul_omega.data() + j * k;
      const u64* dp = d + (k + j) * n + c0;
      const auto tq = L.mul_t_over_q[j];
      u64* out = z + j * n + c0;
      for (std::size_t c = 0; c < len; ++c) {
        u128 acc = r[c];
        for (std::size_t i = 0; i < k; ++i) acc += static_cast<u128>(y[i * kBlock + c]) * omega[i];
        acc += math::mul_shoup(dp[c], tq, pj.value());
        out[c] = pj.reduce(acc);
      }
    }
  });
}

}  // namespace

void Evaluator::multiply_inplace(Ciphertext& a, const Ciphertext& b) const {
  check_pair(a, b, "multiply");
  if (a.size != 2 || b.size != 2) {
    throw std::invalid_argument("multiply expects size-2 ciphertexts (relinearize first), got sizes " +
                                std::to_string(a.size) + " and " + std::to_string(b.size));
  }
  const auto& ctx = tables_->context();
  const std::size_t n = ctx.n(), k = a.num_primes;
  const LevelTables& L = tables_->level(k);
  const std::size_t kp = L.aux.size(), tot = k + kp;
  const bool same = &a == &b;
  const std::size_t inputs = same ? 2 : 4;

  // 1. Extend inputs to Q u P: polys 0,1 = a; 2,3 = b.
  Workspace in{n, k, kp, math::scratch<InputsTag, u64>(inputs * tot * n)};
  math::parallel_for(inputs, [&](std::size_t p) {
    const Ciphertext& src = p < 2 ? a : b;
    const u64* s = src.poly(p % 2);
    std::copy(s, s + k * n, in.poly(p));
    L.q_to_aux->exact(s, in.poly(p) + k * n, n);
  });
  ntt_all(ctx, L, in, inputs, true);

  // 2. Tensor product.
  Workspace d{n, k, kp, math::scratch<TensorTag, u64>(3 * tot * n)};
  const std::size_t b0 = same ? 0 : 2, b1 = same ? 1 : 3;
  math::parallel_for(tot, [&](std::size_t r) {
    const auto& m = modulus_of(ctx, L, r, k);
    const u64* x0 = in.poly(0) + r * n;
    const u64* x1 = in.poly(1) + r * n;
    const u64* y0 = in.poly(b0) + r * n;
    const u64* y1 = in.poly(b1) + r * n;
    u64* d0 = d.poly(0) + r * n;
    u64* d1 = d.poly(1) + r * n;
    u64* d2 = d.poly(2) + r * n;
    if (L.ifma) {
      math::detail::tensor_mod_ifma(x0, x1, y0, y1, d0, d1, d2, n, m.value(), m.bits(), L.barrett52[r]);
      return;
    }
    for (std::size_t i = 0; i < n; ++i) {
      d0[i] = m.mul(x0[i], y0[i]);
      d1[i] = m.reduce(static_cast<u128>(x0[i]) * y1[i] + static_cast<u128>(x1[i]) * y0[i]);
      d2[i] = m.mul(x1[i], y1[i]);
    }
  });
  ntt_all(ctx, L, d, 3, false);

  // 3-4. Scale by t/Q with rounding (into P), then back to Q.
  a.resize(3);  // reuses a's storage; every word is overwritten below
  u64* z = math::scratch<ZTag, u64>(kp * n);
  for (std::size_t p = 0; p < 3; ++p) {
    scale_round(L, d.poly(p), z, n, k, kp, ctx);
    L.aux_to_q->exact(z, a.poly(p), n);
  }
}

}  // namespace hecnn::bfv
