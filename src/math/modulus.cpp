#include "math/modulus.h"

#include <bit>
#include <stdexcept>

namespace hecnn::math {

Modulus::Modulus(u64 q) : q_(q) {
  if (q < 2 || q >= (u64{1} << 61)) {
    throw std::invalid_argument("modulus " + std::to_string(q) + " out of range [2, 2^61)");
  }
  bits_ = 64 - std::countl_zero(q);
  // floor(2^128 / q): divide (2^128 - 1) and fix up (q is never a power of two > 1 here
  // except q = 2^k, for which (2^128-1)/q is exact minus one).
  u128 max = ~u128{0};
  u128 ratio = max / q;
  if (max % q == q - 1) ratio += 1;  // 2^128 is divisible by q
  ratio_hi_ = static_cast<u64>(ratio >> 64);
  ratio_lo_ = static_cast<u64>(ratio);
}

u64 Modulus::pow(u64 base, u64 exp) const {
  u64 result = 1 % q_;
  base = reduce(base);
  while (exp) {
    if (exp & 1) result = mul(result, base);
    base = mul(base, base);
    exp >>= 1;
  }
  return result;
}

u64 Modulus::inv(u64 a) const {
  // Extended Euclid on signed 128-bit to avoid overflow.
  __int128 t = 0, new_t = 1, r = q_, new_r = reduce(a);
  while (new_r != 0) {
    __int128 quot = r / new_r;
    __int128 tmp = t - quot * new_t;
    t = new_t;
    new_t = tmp;
    tmp = r - quot * new_r;
    r = new_r;
    new_r = tmp;
  }
  if (r != 1) throw std::domain_error(std::to_string(a) + " is not invertible mod " + std::to_string(q_));
  if (t < 0) t += q_;
  return static_cast<u64>(t);
}

}  // namespace hecnn::math
