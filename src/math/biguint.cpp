#include "math/biguint.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

namespace hecnn::math {

int BigUInt::bit_count() const {
  if (limbs_.empty()) return 0;
  return static_cast<int>(64 * (limbs_.size() - 1)) + 64 - std::countl_zero(limbs_.back());
}

BigUInt& BigUInt::mul(u64 m) {
  u64 carry = 0;
  for (auto& l : limbs_) {
    u128 p = static_cast<u128>(l) * m + carry;
    l = static_cast<u64>(p);
    carry = static_cast<u64>(p >> 64);
  }
  if (carry) limbs_.push_back(carry);
  trim();
  return *this;
}

BigUInt& BigUInt::add(const BigUInt& o) {
  if (limbs_.size() < o.limbs_.size()) limbs_.resize(o.limbs_.size(), 0);
  u64 carry = 0;
  for (std::size_t i = 0; i < limbs_.size(); ++i) {
    u128 s = static_cast<u128>(limbs_[i]) + (i < o.limbs_.size() ? o.limbs_[i] : 0) + carry;
    limbs_[i] = static_cast<u64>(s);
    carry = static_cast<u64>(s >> 64);
  }
  if (carry) limbs_.push_back(carry);
  return *this;
}

BigUInt& BigUInt::sub(const BigUInt& o) {
  if (compare(o) < 0) throw std::underflow_error("BigUInt::sub would go negative");
  u64 borrow = 0;
  for (std::size_t i = 0; i < limbs_.size(); ++i) {
    const u64 rhs = i < o.limbs_.size() ? o.limbs_[i] : 0;
    const u64 a = limbs_[i];
    const u64 d = a - rhs - borrow;
    borrow = (a < rhs || (a == rhs && borrow)) ? 1 : 0;
    limbs_[i] = d;
  }
  trim();
  return *this;
}

u64 BigUInt::divmod(u64 d) {
  if (d == 0) throw std::domain_error("BigUInt division by zero");
  u128 rem = 0;
  for (std::size_t i = limbs_.size(); i-- > 0;) {
    u128 cur = (rem << 64) | limbs_[i];
    limbs_[i] = static_cast<u64>(cur / d);
    rem = cur % d;
  }
  trim();
  return static_cast<u64>(rem);
}

u64 BigUInt::mod(u64 d) const {
  BigUInt copy = *this;
  return copy.divmod(d);
}

double BigUInt::to_double() const {
  double r = 0;
  for (std::size_t i = limbs_.size(); i-- > 0;) r = r * 18446744073709551616.0 + static_cast<double>(limbs_[i]);
  return r;
}

int BigUInt::compare(const BigUInt& o) const {
  if (limbs_.size() != o.limbs_.size()) return limbs_.size() < o.limbs_.size() ? -1 : 1;
  for (std::size_t i = limbs_.size(); i-- > 0;) {
    if (limbs_[i] != o.limbs_[i]) return limbs_[i] < o.limbs_[i] ? -1 : 1;
  }
  return 0;
}

std::string BigUInt::to_string() const {
  if (is_zero()) return "0";
  BigUInt copy = *this;
  std::string s;
  while (!copy.is_zero()) s.push_back(static_cast<char>('0' + copy.divmod(10)));
  std::reverse(s.begin(), s.end());
  return s;
}

BigUInt product(const std::vector<Modulus>& moduli) {
  BigUInt p(1);
  for (const auto& m : moduli) p.mul(m.value());
  return p;
}

}  // namespace hecnn::math
