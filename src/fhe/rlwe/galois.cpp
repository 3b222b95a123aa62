#include "fhe/rlwe/galois.h"

#include <bit>
#include <map>
#include <memory>
#include <mutex>
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
  u64 exp = step > 0 ? static_cast<u64>(step) : static_cast<u64>(half + step);
  u64 g = 1, base = 3;  // 3^exp mod 2N by squaring (2N <= 2^17, products fit)
  for (; exp != 0; exp >>= 1, base = base * base % m) {
    if (exp & 1) g = g * base % m;
  }
  return g;
}

std::vector<u64> rotation_galois_elts(int step, std::size_t n, const std::function<bool(u64)>& available) {
  const long half = static_cast<long>(n / 2);
  const long s = ((static_cast<long>(step) % half) + half) % half;
  if (s == 0) return {};
  const u64 direct = galois_elt_from_step(static_cast<int>(s), n);
  if (available(direct)) return {direct};
  std::vector<u64> elts;
  long rest = s;
  for (int j = 0; rest != 0; ++j, rest >>= 1) {
    if ((rest & 1) == 0) continue;
    const long digit = 2 - (rest & 3);  // +1 or -1 (non-adjacent form)
    rest -= digit;
    const long sub_step = digit << j;
    if (sub_step % half == 0) continue;  // rotating by N/2 is the identity
    const u64 g = galois_elt_from_step(static_cast<int>(sub_step), n);
    if (!available(g)) {
      throw std::invalid_argument("rotation by step " + std::to_string(step) + ": Galois keys lack element " +
                                  std::to_string(direct) + " and the element " + std::to_string(g) +
                                  " of its power-of-two part " + std::to_string(sub_step) +
                                  "; generate keys for this step or for powers of two");
    }
    elts.push_back(g);
  }
  return elts;
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

const std::vector<std::uint32_t>& galois_ntt_permutation_cached(u64 g, std::size_t n) {
  static std::mutex mutex;
  static std::map<std::pair<u64, std::size_t>, std::unique_ptr<const std::vector<std::uint32_t>>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[{g, n}];
  if (!slot) slot = std::make_unique<const std::vector<std::uint32_t>>(galois_ntt_permutation(g, n));
  return *slot;
}

void apply_galois_ntt(const u64* in, const std::vector<std::uint32_t>& perm, std::size_t n, u64* out) {
  for (std::size_t j = 0; j < n; ++j) out[j] = in[perm[j]];
}

}  // namespace hecnn::rlwe
