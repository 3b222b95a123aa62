// Sampling of RLWE polynomials into RNS form (prime-major layout, N per prime).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "math/prng.h"
#include "math/rns.h"
#include "math/secure.h"

namespace hecnn::math {

// Uniform residues mod each prime of `base` (rejection sampling, no bias).
void sample_uniform(Prng& prng, const RnsBase& base, std::size_t n, u64* out);
// Uniform ternary {-1, 0, 1} (each with probability 1/3). Secret (keys, masks):
// the storage is wiped when released, as is every internal buffer.
SecretVector<std::int8_t> sample_ternary(Prng& prng, std::size_t n);
// Centered binomial with 21 + 21 coins: variance 10.5 (sigma ~ 3.24, SEAL's
// default error distribution), values in [-21, 21]. Secret, wiped like sample_ternary.
SecretVector<std::int8_t> sample_cbd(Prng& prng, std::size_t n);
// Writes small signed values into every residue of an RNS polynomial.
void small_to_rns(const std::int8_t* values, std::size_t n, const RnsBase& base, u64* out);

}  // namespace hecnn::math
