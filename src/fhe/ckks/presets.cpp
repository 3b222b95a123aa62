#include "fhe/ckks/presets.h"

#include <cmath>

#include "math/primes.h"

namespace hecnn::ckks {

rlwe::ParamsLiteral ckks_literal(std::size_t n, const std::vector<int>& bit_sizes, rlwe::Security security) {
  return rlwe::ParamsLiteral{rlwe::Scheme::ckks, n, math::create_coeff_modulus(n, bit_sizes), 0, security};
}

rlwe::ParamsLiteral preset_n8192_q200() { return ckks_literal(8192, {60, 40, 40, 60}); }
rlwe::ParamsLiteral preset_n8192_q218() { return ckks_literal(8192, {43, 43, 44, 44, 44}); }
rlwe::ParamsLiteral preset_n16384_q400() { return ckks_literal(16384, {60, 40, 40, 40, 40, 40, 40, 40, 60}); }

double default_scale(const rlwe::Context& ctx) {
  const std::size_t k = ctx.max_data_primes();
  const int bits = ctx.key_base()[k - 1].bits();
  return std::ldexp(1.0, k >= 2 ? bits : bits / 2);
}

double log2_modulus(const rlwe::Context& ctx, std::size_t num_primes) {
  double s = 0;
  for (std::size_t i = 0; i < num_primes; ++i) s += std::log2(static_cast<double>(ctx.key_base()[i].value()));
  return s;
}

}  // namespace hecnn::ckks
