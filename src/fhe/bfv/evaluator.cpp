#include "fhe/bfv/evaluator.h"

#include <stdexcept>
#include <string>

#include "fhe/bfv/encryptor.h"
#include "fhe/rlwe/galois.h"
#include "fhe/rlwe/keyswitch.h"
#include "fhe/rlwe/poly_ops.h"
#include "math/parallel.h"
#include "math/vec_ops.h"

namespace hecnn::bfv {

Evaluator::Evaluator(BfvTablesPtr tables) : tables_(std::move(tables)) {}

void Evaluator::check(const Ciphertext& a, const char* op) const {
  const auto& ctx = tables_->context();
  ctx.check_data_level(a.num_primes, op);
  if (a.n != ctx.n() || a.ntt_form || a.size < 2 || a.data.size() != a.n * a.num_primes * a.size) {
    throw std::invalid_argument(std::string(op) + ": ciphertext does not match the BFV parameters (N = " +
                                std::to_string(a.n) + ", size " + std::to_string(a.size) +
                                (a.ntt_form ? ", NTT form)" : ")"));
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

void Evaluator::add_inplace(Ciphertext& a, const Ciphertext& b) const {
  check_pair(a, b, "add");
  const auto& ctx = tables_->context();
  if (b.size > a.size) a.resize(b.size);
  for (std::size_t c = 0; c < b.size; ++c) rlwe::add_poly(ctx, a.poly(c), b.poly(c), a.poly(c), a.num_primes);
}

void Evaluator::sub_inplace(Ciphertext& a, const Ciphertext& b) const {
  check_pair(a, b, "sub");
  const auto& ctx = tables_->context();
  if (b.size > a.size) a.resize(b.size);
  for (std::size_t c = 0; c < b.size; ++c) rlwe::sub_poly(ctx, a.poly(c), b.poly(c), a.poly(c), a.num_primes);
}

void Evaluator::negate_inplace(Ciphertext& a) const {
  check(a, "negate");
  for (std::size_t c = 0; c < a.size; ++c) rlwe::negate_poly(tables_->context(), a.poly(c), a.poly(c), a.num_primes);
}

void Evaluator::add_plain_inplace(Ciphertext& a, const Plaintext& p) const {
  check(a, "add_plain");
  check_plaintext(tables_->context(), p);
  add_scaled_plain(*tables_, p, a);
}

void Evaluator::sub_plain_inplace(Ciphertext& a, const Plaintext& p) const {
  check(a, "sub_plain");
  check_plaintext(tables_->context(), p);
  add_scaled_plain(*tables_, p, a, true);
}

void Evaluator::multiply_plain_inplace(Ciphertext& a, const Plaintext& p) const {
  check(a, "multiply_plain");
  const auto& ctx = tables_->context();
  check_plaintext(ctx, p);
  const std::size_t n = ctx.n(), k = a.num_primes;
  const u64 t = ctx.plain_modulus().value();
  // Lift the plaintext with centered coefficients into every prime, NTT it.
  std::vector<u64> m(n * k);
  math::parallel_for(k, [&](std::size_t j) {
    const auto& qj = ctx.key_base()[j];
    u64* dst = m.data() + j * n;
    for (std::size_t i = 0; i < n; ++i) {
      const u64 v = p.coeffs[i];
      dst[i] = v > t / 2 ? qj.value() - (t - v) : v;
    }
    math::ntt_forward(dst, ctx.ntt(j));
  });
  math::parallel_for(a.size * k, [&](std::size_t task) {
    const std::size_t c = task / k, j = task % k;
    const auto& qj = ctx.key_base()[j];
    u64* r = a.residue(c, j);
    const u64* mj = m.data() + j * n;
    math::ntt_forward(r, ctx.ntt(j));
    math::mul_mod_vec(r, mj, r, n, qj);
    math::ntt_inverse(r, ctx.ntt(j));
  });
}

void Evaluator::square_inplace(Ciphertext& a) const { multiply_inplace(a, a); }

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

void Evaluator::mod_switch_to_next_inplace(Ciphertext& a) const {
  check(a, "mod_switch_to_next");
  if (a.num_primes == 1) throw std::invalid_argument("mod_switch_to_next: ciphertext is already at the lowest level");
  const auto& ctx = tables_->context();
  const std::size_t n = ctx.n(), k = a.num_primes;
  Ciphertext out(n, k - 1, a.size, false);
  ctx.stamp(out);
  for (std::size_t c = 0; c < a.size; ++c) {
    rlwe::divide_and_round_by_last(ctx, a.poly(c), k, false);
    std::copy(a.poly(c), a.poly(c) + n * (k - 1), out.poly(c));
  }
  a = std::move(out);
}

}  // namespace hecnn::bfv
