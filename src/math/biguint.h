// Minimal multi-precision unsigned integers (little-endian 64-bit limbs).
// Used off the hot path only: CRT composition for tests, noise measurement,
// and precomputing RNS constants.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "math/modulus.h"

namespace hecnn::math {

class BigUInt {
 public:
  BigUInt() = default;
  explicit BigUInt(u64 v) { if (v) limbs_.push_back(v); }

  bool is_zero() const { return limbs_.empty(); }
  int bit_count() const;
  const std::vector<u64>& limbs() const { return limbs_; }

  BigUInt& mul(u64 m);
  BigUInt& add(const BigUInt& o);
  // *this -= o; requires *this >= o.
  BigUInt& sub(const BigUInt& o);
  // Divides in place by d; returns the remainder.
  u64 divmod(u64 d);
  u64 mod(u64 d) const;
  double to_double() const;
  int compare(const BigUInt& o) const;
  bool operator<(const BigUInt& o) const { return compare(o) < 0; }
  bool operator==(const BigUInt& o) const { return compare(o) == 0; }
  std::string to_string() const;

 private:
  void trim() { while (!limbs_.empty() && limbs_.back() == 0) limbs_.pop_back(); }
  std::vector<u64> limbs_;
};

BigUInt product(const std::vector<Modulus>& moduli);

}  // namespace hecnn::math
