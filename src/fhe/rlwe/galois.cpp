#include "fhe/rlwe/galois.h"

#include <bit>
#include <stdexcept>
#include <string>

#include "math/ntt.h"

namespace hecnn::rlwe {

u64 galois_elt_from_step(int step, std::size_t n) {
  const long half = static_cast<long>(n / 2);
  if (step == 0 || step >= half || step <= -half) {
    throw std::invalid_argument("rotation step " + std::to_string(step) + " must be non-zero with |step| < N/2 = " +
                                std::to_string(half));
  }
  const u64 m = 2 * n;
  const u64 exp = step > 0 ? static_cast<u64>(step) : static_cast<u64>(half + step);
  u64 g = 1;
  for (u64 i = 0; i < exp; ++i) g = (g * 3) % m;
  return g;
}

void check_galois_elt(u64 g, std::size_t n) {
  if ((g & 1) == 0 || g >= 2 * n) {
    throw std::invalid_argument("Galois element " + std::to_string(g) + " is not odd and below 2N = " +
                                std::to_string(2 * n));
  }
}

void apply_galois_coeff(const u64* in, u64 g, const math::Modulus& q, std::size_t n, u64* out) {
  const u64 mask = 2 * n - 1;
  u64 idx = 0;
  for (std::size_t i = 0; i < n; ++i, idx = (idx + g) & mask) {
    if (idx < n) {
      out[idx] = in[i];
    } else {
      out[idx - n] = q.neg(in[i]);
    }
  }
}

std::vector<std::uint32_t> galois_ntt_permutation(u64 g, std::size_t n) {
  check_galois_elt(g, n);
  const int log_n = std::countr_zero(n);
  const u64 mask = 2 * n - 1;
  std::vector<std::uint32_t> perm(n);
  for (std::size_t j = 0; j < n; ++j) {
    // Slot j holds the evaluation at psi^e, e = 2 bitrev(j) + 1; the automorphism reads psi^(e g).
    const u64 e = 2 * math::bit_reverse(j, log_n) + 1;
    const u64 eg = (e * g) & mask;
    perm[j] = static_cast<std::uint32_t>(math::bit_reverse((eg - 1) >> 1, log_n));
  }
  return perm;
}

void apply_galois_ntt(const u64* in, const std::vector<std::uint32_t>& perm, std::size_t n, u64* out) {
  for (std::size_t j = 0; j < n; ++j) out[j] = in[perm[j]];
}

}  // namespace hecnn::rlwe
