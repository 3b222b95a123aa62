// Noise measurement (tests, noise budgets): the size of a phase polynomial.
#pragma once

#include <cstddef>

#include "fhe/rlwe/params.h"

namespace hecnn::rlwe {

// The largest bit length over the N coefficients of [multiplier * x]_Q, centered in
// (-Q/2, Q/2], where x has k residues (coefficient form) over the first k primes and Q is
// their product. BFV's invariant noise uses multiplier t, BGV's phase 1.
// Cost: O(N k^2) word operations (multi-word CRT composition; off the hot path).
int max_centered_bits(const Context& ctx, const u64* x, std::size_t k, u64 multiplier);

}  // namespace hecnn::rlwe
