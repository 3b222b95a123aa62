#include "math/primes.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>

#include "math/modulus.h"

namespace hecnn::math {

namespace {
u64 powmod(u64 b, u64 e, u64 m) {
  u128 r = 1 % m, x = b % m;
  while (e) {
    if (e & 1) r = (r * x) % m;
    x = (x * x) % m;
    e >>= 1;
  }
  return static_cast<u64>(r);
}
bool is_pow2(std::size_t n) { return n >= 1 && (n & (n - 1)) == 0; }
}  // namespace

bool is_prime(u64 n) {
  if (n < 2) return false;
  for (u64 p : {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}) {
    if (n % p == 0) return n == p;
  }
  u64 d = n - 1;
  int s = 0;
  while ((d & 1) == 0) {
    d >>= 1;
    ++s;
  }
  // These bases are a deterministic witness set for all n < 2^64.
  for (u64 a : {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}) {
    u64 x = powmod(a, d, n);
    if (x == 1 || x == n - 1) continue;
    bool composite = true;
    for (int r = 1; r < s; ++r) {
      x = static_cast<u64>((static_cast<u128>(x) * x) % n);
      if (x == n - 1) {
        composite = false;
        break;
      }
    }
    if (composite) return false;
  }
  return true;
}

std::vector<u64> ntt_primes(int bit_size, std::size_t n, std::size_t count,
                            const std::vector<u64>& exclude) {
  if (bit_size < 2 || bit_size > 61) {
    throw std::invalid_argument("prime bit size " + std::to_string(bit_size) + " outside [2, 61]");
  }
  if (!is_pow2(n)) throw std::invalid_argument("N = " + std::to_string(n) + " is not a power of two");
  const u64 step = 2 * static_cast<u64>(n);
  const u64 lower = u64{1} << (bit_size - 1);
  // Largest value < 2^bit_size that is ≡ 1 mod 2N.
  u64 p = ((u64{1} << bit_size) - 1) / step * step + 1;
  if (p >= (u64{1} << bit_size)) p -= step;
  std::vector<u64> out;
  while (out.size() < count && p > lower) {
    if (is_prime(p) && std::find(exclude.begin(), exclude.end(), p) == exclude.end()) out.push_back(p);
    if (p < step) break;
    p -= step;
  }
  if (out.size() < count) {
    throw std::runtime_error("not enough " + std::to_string(bit_size) + "-bit primes ≡ 1 mod " +
                             std::to_string(step) + " (asked for " + std::to_string(count) + ")");
  }
  return out;
}

std::vector<u64> create_coeff_modulus(std::size_t n, const std::vector<int>& bit_sizes) {
  std::map<int, std::size_t> per_size;
  for (int b : bit_sizes) per_size[b]++;
  std::map<int, std::vector<u64>> pool;
  for (auto [b, c] : per_size) pool[b] = ntt_primes(b, n, c);
  std::vector<u64> out;
  std::map<int, std::size_t> used;
  for (int b : bit_sizes) out.push_back(pool[b][used[b]++]);
  return out;
}

u64 minimal_primitive_root(u64 two_n, u64 q) {
  if ((q - 1) % two_n != 0) {
    throw std::invalid_argument(std::to_string(q) + " is not ≡ 1 mod " + std::to_string(two_n));
  }
  Modulus mod(q);
  // Any x^((q-1)/2N) is a 2N-th root; it is primitive iff its N-th power is -1.
  const u64 cofactor = (q - 1) / two_n;
  u64 root = 0;
  for (u64 x = 2; x < q; ++x) {
    u64 g = mod.pow(x, cofactor);
    if (mod.pow(g, two_n / 2) == q - 1) {
      root = g;
      break;
    }
  }
  if (root == 0) throw std::runtime_error("no primitive root found");
  // The primitive 2N-th roots are root^k for odd k; pick the smallest.
  const u64 gen_sq = mod.mul(root, root);
  u64 best = root, cur = root;
  for (u64 i = 0; i < two_n / 2; ++i) {
    cur = mod.mul(cur, gen_sq);
    best = std::min(best, cur);
  }
  return best;
}

}  // namespace hecnn::math
