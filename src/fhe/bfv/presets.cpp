#include "fhe/bfv/presets.h"

#include <stdexcept>
#include <string>

#include "math/primes.h"

namespace hecnn::bfv {

std::vector<rlwe::u64> bfv_default_primes(std::size_t n) {
  // SEAL builds BFVDefault from these bit sizes with CoeffModulus::Create.
  switch (n) {
    case 4096: return math::create_coeff_modulus(n, {36, 36, 37});
    case 8192: return math::create_coeff_modulus(n, {43, 43, 44, 44, 44});
    case 16384: return math::create_coeff_modulus(n, {48, 48, 48, 49, 49, 49, 49, 49, 49});
    default: throw std::invalid_argument("no BFV default primes for N = " + std::to_string(n) + " (4096, 8192, 16384)");
  }
}

rlwe::u64 batching_plain_modulus(std::size_t n, int bits) { return math::ntt_primes(bits, n, 1)[0]; }

rlwe::ParamsLiteral preset_default(std::size_t n, rlwe::u64 t) {
  return rlwe::ParamsLiteral{rlwe::Scheme::bfv, n, bfv_default_primes(n), t, rlwe::Security::tc128};
}
rlwe::ParamsLiteral preset_n4096_q109(rlwe::u64 t) { return preset_default(4096, t); }
rlwe::ParamsLiteral preset_n8192_q218(rlwe::u64 t) { return preset_default(8192, t); }
rlwe::ParamsLiteral preset_n16384_q438(rlwe::u64 t) { return preset_default(16384, t); }

}  // namespace hecnn::bfv
