// 64-bit modular arithmetic for word-sized primes (up to 61 bits).
//
// Modulus holds a value q with its Barrett constant floor(2^128 / q); all
// reductions are branch-light and constant-time in their operands' values.
// ShoupOperand precomputes floor(w * 2^64 / q) for a fixed multiplicand w so that
// x * w mod q costs one high multiply, one low multiply and one conditional
// subtraction (Harvey / Shoup). "Lazy" variants return values in [0, 2q).
#pragma once

#include <cstdint>
#include <string>

namespace hecnn::math {

using u64 = std::uint64_t;
using u128 = unsigned __int128;

inline u64 mul_hi(u64 a, u64 b) { return static_cast<u64>((static_cast<u128>(a) * b) >> 64); }

class Modulus {
 public:
  Modulus() = default;
  // Throws std::invalid_argument if q < 2 or q >= 2^61.
  explicit Modulus(u64 q);

  u64 value() const { return q_; }
  int bits() const { return bits_; }
  // floor(2^128 / q) as (hi, lo) words.
  u64 barrett_hi() const { return ratio_hi_; }
  u64 barrett_lo() const { return ratio_lo_; }

  // x mod q for any 64-bit x.
  u64 reduce(u64 x) const {
    u64 quot = mul_hi(x, ratio_hi_);
    u64 r = x - quot * q_;
    return r >= q_ ? r - q_ : r;
  }
  // x mod q for any 128-bit x.
  u64 reduce(u128 x) const {
    u64 lo = static_cast<u64>(x), hi = static_cast<u64>(x >> 64);
    // quotient estimate = floor(x * ratio / 2^128), computed from the high words.
    u64 carry = mul_hi(lo, ratio_lo_);
    u128 t = static_cast<u128>(lo) * ratio_hi_;
    u128 u = static_cast<u128>(hi) * ratio_lo_;
    u128 mid = static_cast<u128>(carry) + static_cast<u64>(t) + static_cast<u64>(u);
    u64 quot = hi * ratio_hi_ + static_cast<u64>(t >> 64) + static_cast<u64>(u >> 64) +
               static_cast<u64>(mid >> 64);
    u64 r = lo - quot * q_;
    return r >= q_ ? r - q_ : r;
  }
  u64 add(u64 a, u64 b) const {
    u64 s = a + b;
    return s >= q_ ? s - q_ : s;
  }
  u64 sub(u64 a, u64 b) const { return a >= b ? a - b : a + q_ - b; }
  u64 neg(u64 a) const { return a == 0 ? 0 : q_ - a; }
  u64 mul(u64 a, u64 b) const { return reduce(static_cast<u128>(a) * b); }
  u64 pow(u64 base, u64 exp) const;
  // Multiplicative inverse; throws std::domain_error if gcd(a, q) != 1.
  u64 inv(u64 a) const;

  bool operator==(const Modulus& o) const { return q_ == o.q_; }

 private:
  u64 q_ = 0;
  int bits_ = 0;
  u64 ratio_hi_ = 0, ratio_lo_ = 0;
};

// A fixed multiplicand w < q with its Shoup quotient floor(w * 2^64 / q).
struct ShoupOperand {
  u64 operand = 0;
  u64 quotient = 0;
  ShoupOperand() = default;
  ShoupOperand(u64 w, const Modulus& q)
      : operand(w), quotient(static_cast<u64>((static_cast<u128>(w) << 64) / q.value())) {}
};

// x * w mod q in [0, 2q) for any 64-bit x.
inline u64 mul_shoup_lazy(u64 x, const ShoupOperand& w, u64 q) {
  u64 quot = mul_hi(x, w.quotient);
  return x * w.operand - quot * q;
}
// x * w mod q in [0, q).
inline u64 mul_shoup(u64 x, const ShoupOperand& w, u64 q) {
  u64 r = mul_shoup_lazy(x, w, q);
  return r >= q ? r - q : r;
}

// Signed value v (|v| < q) as a residue mod q.
inline u64 from_signed(int64_t v, const Modulus& q) {
  return v < 0 ? q.value() - static_cast<u64>(-v) : static_cast<u64>(v);
}

// Any signed 64-bit value v mod q, in [0, q) (INT64_MIN included).
inline u64 reduce_signed(int64_t v, const Modulus& q) {
  if (v >= 0) return q.reduce(static_cast<u64>(v));
  const u64 r = q.reduce(u64{0} - static_cast<u64>(v));
  return r ? q.value() - r : 0;
}

}  // namespace hecnn::math
