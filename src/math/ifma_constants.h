// Scalar precomputation for the IFMA kernels (ifma.h), usable from portable code.
#pragma once

#include "math/modulus.h"

namespace hecnn::math::ifma {

// floor(w 2^52 / q): the 52-bit Shoup quotient of a fixed multiplicand w < q.
inline u64 shoup_quotient52(u64 w, u64 q) { return static_cast<u64>((static_cast<u128>(w) << 52) / q); }
// floor(2^(bits(q) + 51) / q): the factor of the 52-bit Barrett reduction.
inline u64 barrett_factor52(const Modulus& q) {
  return static_cast<u64>((u128{1} << (q.bits() + 51)) / q.value());
}

}  // namespace hecnn::math::ifma
