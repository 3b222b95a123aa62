#include "fhe/bgv/evaluator.h"

#include "math/vec_ops.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "fhe/rlwe/galois.h"
#include "fhe/rlwe/keyswitch.h"
#include "fhe/rlwe/linear_combination.h"
#include "fhe/rlwe/poly_ops.h"
#include "math/parallel.h"
#include "math/scratch.h"
#include "math/vec_ops.h"

namespace hecnn::bgv {

namespace {
// Every polynomial of a times c.
void scale_all(const rlwe::Context& ctx, Ciphertext& a, std::int64_t c) {
  for (std::size_t p = 0; p < a.size; ++p) rlwe::mul_scalar_poly(ctx, a.poly(p), c, a.num_primes);
}
}  // namespace

std::pair<std::int64_t, std::int64_t> small_ratio(u64 r, const math::Modulus& tm) {
  const u64 t = tm.value();
  r = tm.reduce(r);
  if (r == 0) throw std::invalid_argument("BGV: correction factor ratio is 0 mod t");
  const auto bound = static_cast<u64>(std::sqrt(static_cast<double>(t)));
  // r_i ≡ s_i r (mod t) along the extended Euclidean algorithm on (t, r).
  std::int64_t s0 = 0, s1 = 1;
  u64 r0 = t, r1 = r;
  while (r1 > bound) {
    const u64 q = r0 / r1;
    const u64 r2 = r0 - q * r1;
    const std::int64_t s2 = s0 - static_cast<std::int64_t>(q) * s1;
    r0 = r1; r1 = r2; s0 = s1; s1 = s2;
  }
  std::int64_t e1 = static_cast<std::int64_t>(r1), e2 = s1;
  if (e2 < 0) { e1 = -e1; e2 = -e2; }
  return {e1, e2};
}

Evaluator::Evaluator(BgvTablesPtr tables) : tables_(std::move(tables)) {}

void Evaluator::check(const Ciphertext& a, const char* op) const {
  const auto& ctx = tables_->context();
  ctx.check_data_level(a.num_primes, op);
  if (a.n != ctx.n() || !a.ntt_form || a.size < 2 || a.data.size() != a.n * a.num_primes * a.size) {
    throw std::invalid_argument(std::string(op) + ": ciphertext does not match the BGV parameters (N = " + std::to_string(a.n) +
                                ", size " + std::to_string(a.size) + (a.ntt_form ? ")" : ", coefficient form)"));
  }
  if (a.correction_factor == 0 || a.correction_factor >= ctx.plain_modulus().value()) {
    throw std::invalid_argument(std::string(op) + ": BGV correction factor " + std::to_string(a.correction_factor) +
                                " is not in 1..t-1");
  }
  ctx.check_parms_id(a, op);
}

void Evaluator::check_pair(const Ciphertext& a, const Ciphertext& b, const char* op) const {
  check(a, op);
  check(b, op);
  if (a.num_primes != b.num_primes) {
    throw std::invalid_argument(std::string(op) + ": operands are at different levels (" + std::to_string(a.num_primes) +
                                " and " + std::to_string(b.num_primes) + " primes); mod-switch the higher one down");
  }
}

void Evaluator::balance_correction_factors(Ciphertext& a, Ciphertext& b) const {
  check_pair(a, b, "balance_correction_factors");
  if (a.correction_factor == b.correction_factor) return;
  const auto& ctx = tables_->context();
  const auto& tm = ctx.plain_modulus();
  const auto [ea, eb] = small_ratio(tm.mul(b.correction_factor, tm.inv(a.correction_factor)), tm);
  scale_all(ctx, a, ea);
  scale_all(ctx, b, eb);
  const u64 cf = tm.mul(a.correction_factor, math::reduce_signed(ea, tm));
  a.correction_factor = cf;
  b.correction_factor = cf;
}

void Evaluator::add_or_sub(Ciphertext& a, const Ciphertext& b, bool subtract, const char* op) const {
  check_pair(a, b, op);
  const auto& ctx = tables_->context();
  const Ciphertext* rhs = &b;
  Ciphertext balanced;
  if (a.correction_factor != b.correction_factor) {
    balanced = b;
    balance_correction_factors(a, balanced);
    rhs = &balanced;
  }
  if (rhs->size > a.size) a.resize(rhs->size);
  for (std::size_t c = 0; c < rhs->size; ++c) {
    if (subtract) {
      rlwe::sub_poly(ctx, a.poly(c), rhs->poly(c), a.poly(c), a.num_primes);
    } else {
      rlwe::add_poly(ctx, a.poly(c), rhs->poly(c), a.poly(c), a.num_primes);
    }
  }
}

void Evaluator::add_inplace(Ciphertext& a, const Ciphertext& b) const { add_or_sub(a, b, false, "add"); }
void Evaluator::sub_inplace(Ciphertext& a, const Ciphertext& b) const { add_or_sub(a, b, true, "sub"); }

void Evaluator::negate_inplace(Ciphertext& a) const {
  check(a, "negate");
  for (std::size_t c = 0; c < a.size; ++c) rlwe::negate_poly(tables_->context(), a.poly(c), a.poly(c), a.num_primes);
}

void Evaluator::add_plain_impl(Ciphertext& a, const Plaintext& p, bool subtract, const char* op) const {
  check(a, op);
  const auto& ctx = tables_->context();
  u64* m = math::scratch<struct BgvAddPlainTag, u64>(ctx.n() * a.num_primes);
  lift_plain_ntt(ctx, p, a.correction_factor, a.num_primes, m);  // the message as cf m
  if (subtract) {
    rlwe::sub_poly(ctx, a.poly(0), m, a.poly(0), a.num_primes);
  } else {
    rlwe::add_poly(ctx, a.poly(0), m, a.poly(0), a.num_primes);
  }
}

void Evaluator::add_plain_inplace(Ciphertext& a, const Plaintext& p) const { add_plain_impl(a, p, false, "add_plain"); }
void Evaluator::sub_plain_inplace(Ciphertext& a, const Plaintext& p) const { add_plain_impl(a, p, true, "sub_plain"); }

PlainNtt Evaluator::to_ntt(const Plaintext& p, std::size_t k) const {
  const auto& ctx = tables_->context();
  ctx.check_data_level(k, "BGV to_ntt");
  PlainNtt out;
  out.num_primes = k;
  out.data.resize(ctx.n() * k);
  lift_plain_ntt(ctx, p, 1, k, out.data.data());
  return out;
}

void Evaluator::multiply_plain_ntt_inplace(Ciphertext& a, const PlainNtt& p) const {
  check(a, "multiply_plain");
  const auto& ctx = tables_->context();
  if (p.num_primes != a.num_primes || p.data.size() != ctx.n() * p.num_primes) {
    throw std::invalid_argument("multiply_plain: plaintext is at " + std::to_string(p.num_primes) + " primes, ciphertext at " +
                                std::to_string(a.num_primes));
  }
  for (std::size_t c = 0; c < a.size; ++c) rlwe::mul_poly(ctx, a.poly(c), p.data.data(), a.poly(c), a.num_primes);
}

void Evaluator::multiply_plain_inplace(Ciphertext& a, const Plaintext& p) const {
  check(a, "multiply_plain");
  multiply_plain_ntt_inplace(a, to_ntt(p, a.num_primes));
}

void Evaluator::multiply_scalar_inplace(Ciphertext& a, std::int64_t c) const {
  check(a, "multiply_scalar");
  scale_all(tables_->context(), a, c);
}

void Evaluator::add_scalar_inplace(Ciphertext& a, std::int64_t c) const {
  check(a, "add_scalar");
  const auto& ctx = tables_->context();
  const auto& tm = ctx.plain_modulus();
  // The constant polynomial cf c: every NTT value of it is cf c.
  const u64 v = tm.mul(math::reduce_signed(c, tm), a.correction_factor);
  const u64 t = tm.value();
  const std::size_t n = ctx.n();
  math::parallel_for(a.num_primes, [&](std::size_t j) {
    const auto& qj = ctx.key_base()[j];
    const u64 w = v > t / 2 ? qj.neg(qj.reduce(t - v)) : qj.reduce(v);
    u64* r = a.residue(0, j);
    for (std::size_t i = 0; i < n; ++i) r[i] = qj.add(r[i], w);
  });
}

Ciphertext Evaluator::dot_scalar(const std::vector<const Ciphertext*>& cts, const std::vector<std::int64_t>& weights) const {
  if (cts.size() != weights.size() || cts.empty()) throw std::invalid_argument("dot_scalar: need as many weights as ciphertexts");
  for (const Ciphertext* c : cts) {
    if (!c) throw std::invalid_argument("dot_scalar: null ciphertext");
    check(*c, "dot_scalar");
  }
  std::vector<std::vector<rlwe::ScalarTerm>> rows(1);
  for (std::size_t i = 0; i < cts.size(); ++i) rows[0].push_back({cts[i], weights[i]});
  return std::move(rlwe::linear_combinations(tables_->context(), cts[0]->num_primes, true, rows)[0]);
}

void Evaluator::multiply_inplace(Ciphertext& a, const Ciphertext& b) const {
  check_pair(a, b, "multiply");
  const auto& ctx = tables_->context();
  const std::size_t n = ctx.n(), k = a.num_primes, sa = a.size, sb = b.size, so = sa + sb - 1;
  Ciphertext out(n, k, so, true);
  ctx.stamp(out);
  out.correction_factor = ctx.plain_modulus().mul(a.correction_factor, b.correction_factor);
  // out_m = sum_{i + j = m} a_i b_j, prime by prime (NTT form: slot-wise products).
  math::parallel_for(k, [&](std::size_t r) {
    const auto& q = ctx.key_base()[r];
    if (sa == 2 && sb == 2) {  // one pass, no accumulation
      if (&a == &b) {
        math::square_tensor_mod_vec(a.residue(0, r), a.residue(1, r), out.residue(0, r), out.residue(1, r), out.residue(2, r), n, q);
      } else {
        math::tensor_mod_vec(a.residue(0, r), a.residue(1, r), b.residue(0, r), b.residue(1, r), out.residue(0, r), out.residue(1, r),
                             out.residue(2, r), n, q);
      }
      return;
    }
    for (std::size_t i = 0; i < sa; ++i)
      for (std::size_t j = 0; j < sb; ++j) math::mul_add_mod_vec(a.residue(i, r), b.residue(j, r), out.residue(i + j, r), n, q);
  });
  a = std::move(out);
}

void Evaluator::square_inplace(Ciphertext& a) const { multiply_inplace(a, a); }  // reads both before it writes a

void Evaluator::relinearize_inplace(Ciphertext& a, const rlwe::RelinKeys& rk) const {
  check(a, "relinearize");
  rlwe::relinearize_inplace(tables_->context(), a, rk);
}

void Evaluator::rotate_rows_inplace(Ciphertext& a, int step, const rlwe::GaloisKeys& gk) const {
  check(a, "rotate_rows");
  rlwe::rotate_inplace(tables_->context(), a, step, gk);
}

void Evaluator::rotate_columns_inplace(Ciphertext& a, const rlwe::GaloisKeys& gk) const {
  check(a, "rotate_columns");
  const auto& ctx = tables_->context();
  rlwe::apply_galois_inplace(ctx, a, rlwe::galois_elt_conjugate(ctx.n()), gk);
}

std::vector<Ciphertext> Evaluator::rotate_rows_hoisted(const Ciphertext& a, const std::vector<int>& steps,
                                                       const rlwe::GaloisKeys& gk) const {
  check(a, "rotate_rows_hoisted");
  const auto& ctx = tables_->context();
  std::vector<u64> elts;
  for (int s : steps) elts.push_back(s == 0 ? 1 : rlwe::galois_elt_from_step(s, ctx.n()));
  return rlwe::apply_galois_hoisted(ctx, a, elts, gk);
}

void Evaluator::mod_switch_to_next_inplace(Ciphertext& a) const {
  check(a, "mod_switch_to_next");
  if (a.num_primes == 1) throw std::invalid_argument("mod_switch_to_next: ciphertext is already at the lowest level");
  const auto& ctx = tables_->context();
  const std::size_t n = ctx.n(), k = a.num_primes;
  Ciphertext out(n, k - 1, a.size, true);
  ctx.stamp(out);
  out.correction_factor = ctx.plain_modulus().mul(a.correction_factor, ctx.inv_last_mod_t(k));
  for (std::size_t c = 0; c < a.size; ++c) {
    rlwe::divide_and_round_by_last(ctx, a.poly(c), k, true);  // BGV: exact, keeps the message mod t
    std::copy(a.poly(c), a.poly(c) + n * (k - 1), out.poly(c));
  }
  a = std::move(out);
}

void Evaluator::mod_switch_to_inplace(Ciphertext& a, std::size_t num_primes) const {
  check(a, "mod_switch_to");
  if (num_primes < 1 || num_primes > a.num_primes) {
    throw std::invalid_argument("mod_switch_to: cannot switch from " + std::to_string(a.num_primes) + " to " +
                                std::to_string(num_primes) + " primes");
  }
  while (a.num_primes > num_primes) mod_switch_to_next_inplace(a);
}

}  // namespace hecnn::bgv
