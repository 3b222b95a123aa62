#include "fhe/bfv/level_tables.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "math/ifma_constants.h"
#include "math/primes.h"

namespace hecnn::bfv {

using math::u128;

Fraction128 Fraction128::of(u64 x, u64 d) {
  const u128 a = static_cast<u128>(x) << 64;
  Fraction128 f;
  f.hi = static_cast<u64>(a / d);
  const u128 rem = a % d;
  f.lo = static_cast<u64>((rem << 64) / d);
  return f;
}

namespace {

LevelTables build(const rlwe::Context& ctx, std::size_t k) {
  const auto& base = ctx.base(k);
  const auto& tm = ctx.plain_modulus();
  const u64 t = tm.value();
  LevelTables L;
  L.k = k;
  L.q_mod_t = base.product().mod(t);
  for (std::size_t i = 0; i < k; ++i) {
    const auto& qi = base[i];
    // floor(Q/t) = (Q - (Q mod t)) / t  ≡ -(Q mod t) * t^-1  (mod q_i), as q_i | Q.
    L.delta.push_back(qi.mul(qi.reduce(qi.neg(qi.reduce(L.q_mod_t))), qi.inv(qi.reduce(t))));
    L.dec_omega.push_back(tm.reduce(t / qi.value()));
    L.dec_theta.push_back(Fraction128::of(t % qi.value(), qi.value()));
  }

  // Auxiliary base: NTT primes outside the chain, enough bits for P > 4 t N Q. With
  // AVX-512 IFMA, 50-bit primes take the vector NTT (one more prime, far cheaper NTTs).
  const int need_bits = base.product().bit_count() + tm.bits() + ctx.log_n() + 3;
  const int aux_bits = math::cpu_has_ifma() ? 50 : 60;
  const std::size_t kp = static_cast<std::size_t>((need_bits + aux_bits - 2) / (aux_bits - 1));
  std::vector<u64> exclude(ctx.literal().coeff_modulus);
  exclude.push_back(t);
  auto aux = math::ntt_primes(aux_bits, ctx.n(), kp, exclude);
  L.aux = math::RnsBase(aux);
  if (L.aux.product().bit_count() < need_bits) throw std::logic_error("BFV: auxiliary base too small");
  for (std::size_t j = 0; j < kp; ++j) L.aux_ntt.emplace_back(ctx.n(), L.aux[j]);
  L.q_to_aux = std::make_unique<math::BaseConverter>(base, L.aux);
  L.aux_to_q = std::make_unique<math::BaseConverter>(L.aux, base);

  for (std::size_t i = 0; i < k; ++i) {
    const auto& qi = base[i];
    const u64 p_mod = L.aux.product().mod(qi.value());
    const u64 y = qi.mul(qi.inv(p_mod), base.inv_punctured(i).operand);
    L.mul_y.emplace_back(y, qi);
    const u64 rho = qi.mul(qi.reduce(t), p_mod);  // t P mod q_i
    L.mul_theta.push_back(Fraction128::of(rho, qi.value()));
  }
  L.mul_omega.resize(kp * k);
  for (std::size_t j = 0; j < kp; ++j) {
    const auto& pj = L.aux[j];
    for (std::size_t i = 0; i < k; ++i) {
      // floor(tP / q_i) = (tP - rho_i) / q_i ≡ -rho_i q_i^-1 (mod p_j), as p_j | P.
      const u64 rho = base[i].mul(base[i].reduce(t), L.aux.product().mod(base[i].value()));
      L.mul_omega[j * k + i] = pj.mul(pj.neg(pj.reduce(rho)), pj.inv(pj.reduce(base[i].value())));
    }
    const u64 q_mod_p = base.product().mod(pj.value());
    L.mul_t_over_q.emplace_back(pj.mul(pj.reduce(t), pj.inv(q_mod_p)), pj);
  }

  bool small = k <= 16;
  for (std::size_t i = 0; i < k; ++i) small &= base[i].bits() <= 50;
  for (std::size_t j = 0; j < kp; ++j) small &= L.aux[j].bits() <= 50;
  L.ifma = small && math::cpu_has_ifma();
  if (L.ifma) {
    const auto quot52 = math::ifma::shoup_quotient52;
    for (std::size_t i = 0; i < k; ++i) {
      L.mul_y_q52.push_back(quot52(L.mul_y[i].operand, base[i].value()));
      // theta * 2^104 = hi * 2^52 + lo, from the 128-bit fraction theta * 2^128.
      const u128 f = (static_cast<u128>(L.mul_theta[i].hi) << 64) | L.mul_theta[i].lo;
      L.mul_theta52_hi.push_back(static_cast<u64>(f >> 76));
      L.mul_theta52_lo.push_back(static_cast<u64>(f >> 24) & ((u64{1} << 52) - 1));
    }
    for (std::size_t j = 0; j < kp; ++j) {
      for (std::size_t i = 0; i < k; ++i) L.mul_omega_q52.push_back(quot52(L.mul_omega[j * k + i], L.aux[j].value()));
      L.mul_t_over_q_q52.push_back(quot52(L.mul_t_over_q[j].operand, L.aux[j].value()));
    }
    for (std::size_t i = 0; i < k; ++i) L.barrett52.push_back(math::ifma::barrett_factor52(base[i]));
    for (std::size_t j = 0; j < kp; ++j) L.barrett52.push_back(math::ifma::barrett_factor52(L.aux[j]));
  }
  return L;
}

}  // namespace

BfvTables::BfvTables(rlwe::ContextPtr ctx) : ctx_(std::move(ctx)) {
  if (ctx_->scheme() != rlwe::Scheme::bfv) throw std::invalid_argument("BFV objects need BFV parameters");
  for (std::size_t k = 1; k <= ctx_->max_data_primes(); ++k) levels_.push_back(build(*ctx_, k));
}

const LevelTables& BfvTables::level(std::size_t num_primes) const {
  ctx_->check_data_level(num_primes, "BFV ciphertext");
  return levels_[num_primes - 1];
}

BfvTablesPtr make_tables(rlwe::ContextPtr ctx) { return std::make_shared<const BfvTables>(std::move(ctx)); }

}  // namespace hecnn::bfv
