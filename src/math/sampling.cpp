#include "math/sampling.h"

#include <bit>

namespace hecnn::math {

void sample_uniform(Prng& prng, const RnsBase& base, std::size_t n, u64* out) {
  std::vector<u64> buf(n);
  for (std::size_t j = 0; j < base.size(); ++j) {
    const u64 q = base[j].value();
    // Largest multiple of q that fits, so x mod q is unbiased for x < bound.
    const u64 bound = ~u64{0} - (~u64{0} % q);
    prng.fill(buf.data(), n * sizeof(u64));
    u64* dst = out + j * n;
    for (std::size_t i = 0; i < n; ++i) {
      u64 x = buf[i];
      while (x >= bound) x = prng.next_u64();
      dst[i] = x % q;
    }
  }
}

SecretVector<std::int8_t> sample_ternary(Prng& prng, std::size_t n) {
  SecretVector<std::int8_t> out(n);
  SecretVector<std::uint8_t> buf(n);
  prng.fill(buf.data(), n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint8_t b = buf[i];
    while (b >= 255) prng.fill(&b, 1);  // 255 = 3 * 85: unbiased mod 3
    out[i] = static_cast<std::int8_t>(b % 3) - 1;
  }
  // (buf and its copies in b are released wiped; out's storage is the caller's.)
  return out;
}

SecretVector<std::int8_t> sample_cbd(Prng& prng, std::size_t n) {
  SecretVector<std::int8_t> out(n);
  SecretVector<std::uint64_t> buf(n);
  prng.fill(buf.data(), n * sizeof(std::uint64_t));
  constexpr std::uint64_t mask21 = (std::uint64_t{1} << 21) - 1;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t x = buf[i];
    out[i] = static_cast<std::int8_t>(std::popcount(x & mask21) - std::popcount((x >> 21) & mask21));
  }
  return out;
}

void small_to_rns(const std::int8_t* values, std::size_t n, const RnsBase& base, u64* out) {
  for (std::size_t j = 0; j < base.size(); ++j) {
    const u64 q = base[j].value();
    u64* dst = out + j * n;
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t v = values[i];
      dst[i] = v < 0 ? q - static_cast<u64>(-v) : static_cast<u64>(v);
    }
  }
}

}  // namespace hecnn::math
