// BFV scalar operations: multiply / add by an integer constant, and lazily
// reduced dot products of ciphertexts with integer weights.
#include <stdexcept>
#include <string>

#include "fhe/bfv/encryptor.h"
#include "fhe/bfv/evaluator.h"
#include "fhe/rlwe/linear_combination.h"
#include "fhe/rlwe/poly_ops.h"
#include "math/parallel.h"

namespace hecnn::bfv {

using math::u128;

namespace {
void check_scalar(const rlwe::Context& ctx, std::int64_t c, const char* op) {
  const auto half = static_cast<std::int64_t>(ctx.plain_modulus().value() / 2);
  if (c > half || c < -half) {
    throw std::invalid_argument(std::string(op) + ": scalar " + std::to_string(c) + " outside (-t/2, t/2], t = " +
                                std::to_string(ctx.plain_modulus().value()));
  }
}
}  // namespace

void Evaluator::multiply_scalar_inplace(Ciphertext& a, std::int64_t c) const {
  check(a, "multiply_scalar");
  const auto& ctx = tables_->context();
  check_scalar(ctx, c, "multiply_scalar");
  for (std::size_t p = 0; p < a.size; ++p) rlwe::mul_scalar_poly(ctx, a.poly(p), c, a.num_primes);
}

void Evaluator::add_scalar_inplace(Ciphertext& a, std::int64_t c) const {
  check(a, "add_scalar");
  const auto& ctx = tables_->context();
  check_scalar(ctx, c, "add_scalar");
  const auto& L = tables_->level(a.num_primes);
  const u64 t = ctx.plain_modulus().value();
  const u64 m = math::from_signed(c, ctx.plain_modulus());
  // round(Q m / t) added to the constant coefficient of c0.
  const u64 fix = static_cast<u64>((static_cast<u128>(m) * L.q_mod_t + (t + 1) / 2) / t);
  for (std::size_t j = 0; j < a.num_primes; ++j) {
    const auto& qj = ctx.key_base()[j];
    u64* c0 = a.residue(0, j);
    c0[0] = qj.add(c0[0], qj.add(qj.mul(m, L.delta[j]), qj.reduce(fix)));
  }
}

Ciphertext Evaluator::dot_scalar(const std::vector<const Ciphertext*>& cts, const std::vector<std::int64_t>& weights) const {
  if (cts.empty() || cts.size() != weights.size()) {
    throw std::invalid_argument("dot_scalar: need as many weights as ciphertexts (got " + std::to_string(cts.size()) +
                                " and " + std::to_string(weights.size()) + ")");
  }
  const auto& ctx = tables_->context();
  const Ciphertext& first = *cts[0];
  for (std::size_t i = 0; i < cts.size(); ++i) {
    check(*cts[i], "dot_scalar");
    check_scalar(ctx, weights[i], "dot_scalar");
    if (cts[i]->num_primes != first.num_primes || cts[i]->size != first.size) {
      throw std::invalid_argument("dot_scalar: ciphertext " + std::to_string(i) + " differs in level or size from the first");
    }
  }
  std::vector<std::vector<rlwe::ScalarTerm>> row(1);
  for (std::size_t i = 0; i < cts.size(); ++i) row[0].push_back({cts[i], weights[i]});
  auto out = rlwe::linear_combinations(ctx, first.num_primes, false, row);
  return std::move(out[0]);
}

}  // namespace hecnn::bfv
