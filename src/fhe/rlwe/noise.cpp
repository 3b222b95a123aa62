#include "fhe/rlwe/noise.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "math/biguint.h"

namespace hecnn::rlwe {

using math::u128;

namespace {

// Fixed-size little-endian multi-word arithmetic for the noise measurement (no
// allocation per coefficient). kMaxLimbs covers 64 primes of 61 bits plus carries.
constexpr std::size_t kMaxLimbs = 64;

// acc += a * y over `len` limbs (acc has len + 1 limbs).
void mul_add_limbs(u64* acc, const u64* a, std::size_t len, u64 y) {
  u64 carry = 0;
  for (std::size_t i = 0; i < len; ++i) {
    const u128 t = static_cast<u128>(a[i]) * y + acc[i] + carry;
    acc[i] = static_cast<u64>(t);
    carry = static_cast<u64>(t >> 64);
  }
  for (std::size_t i = len; carry != 0 && i <= len; ++i) {
    const u128 t = static_cast<u128>(acc[i]) + carry;
    acc[i] = static_cast<u64>(t);
    carry = static_cast<u64>(t >> 64);
  }
}

int compare_limbs(const u64* a, const u64* b, std::size_t len) {
  for (std::size_t i = len; i-- > 0;) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

// a -= b (a >= b).
void sub_limbs(u64* a, const u64* b, std::size_t len) {
  u64 borrow = 0;
  for (std::size_t i = 0; i < len; ++i) {
    const u64 bi = b[i];
    const u64 d = a[i] - bi - borrow;
    borrow = (a[i] < bi || (a[i] == bi && borrow)) ? 1 : 0;
    a[i] = d;
  }
}

int bit_length(const u64* a, std::size_t len) {
  for (std::size_t i = len; i-- > 0;) {
    if (a[i] != 0) return static_cast<int>(64 * i) + 64 - __builtin_clzll(a[i]);
  }
  return 0;
}

}  // namespace

int max_centered_bits(const Context& ctx, const u64* x, std::size_t k, u64 multiplier) {
  const std::size_t n = ctx.n();
  const auto& base = ctx.base(k);
  const u64 t = multiplier;
  const std::size_t len = base.product().limbs().size() + 1;  // one limb of headroom
  if (len + 1 > kMaxLimbs) throw std::logic_error("noise budget: modulus too large");
  u64 q[kMaxLimbs] = {}, half[kMaxLimbs] = {};
  std::vector<u64> punctured(k * len, 0);
  std::copy(base.product().limbs().begin(), base.product().limbs().end(), q);
  math::BigUInt h = base.product();
  h.divmod(2);
  std::copy(h.limbs().begin(), h.limbs().end(), half);
  for (std::size_t i = 0; i < k; ++i) {
    const auto& l = base.punctured(i).limbs();
    std::copy(l.begin(), l.end(), punctured.begin() + static_cast<std::ptrdiff_t>(i * len));
  }
  int max_bits = 0;
  u64 acc[kMaxLimbs];
  for (std::size_t c = 0; c < n; ++c) {
    std::fill(acc, acc + len + 1, 0);
    for (std::size_t i = 0; i < k; ++i) {
      const auto& qi = base[i];
      const u64 v = qi.mul(x[i * n + c], qi.reduce(t));
      const u64 y = math::mul_shoup(v, base.inv_punctured(i), qi.value());
      mul_add_limbs(acc, punctured.data() + i * len, len, y);
    }
    while (compare_limbs(acc, q, len) >= 0) sub_limbs(acc, q, len);  // acc < k Q before
    if (compare_limbs(acc, half, len) > 0) {                          // centered: |v| = Q - v
      u64 neg[kMaxLimbs];
      std::copy(q, q + len, neg);
      sub_limbs(neg, acc, len);
      std::copy(neg, neg + len, acc);
    }
    max_bits = std::max(max_bits, bit_length(acc, len));
  }
  return max_bits;
}

}  // namespace hecnn::rlwe
