// EncryptionParameters in SEAL's format, their validation, parms_id and the
// modulus chain (levels) that every other reader checks objects against.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fhe/wire/container.h"

namespace hecnn::wire {

enum class Scheme : std::uint8_t { none = 0, bfv = 1, ckks = 2, bgv = 3 };
std::string_view to_string(Scheme s);

// parms_id: BLAKE2b-256 of the u64 array [scheme, N, q_0..q_{k-1}, t], as 4 words.
using ParmsId = std::array<std::uint64_t, 4>;
inline constexpr ParmsId kZeroParmsId{0, 0, 0, 0};
std::string to_hex(const ParmsId& id);

// Plain parameter literal, as stored by SEAL. Prime order is semantic: the last
// prime is the special prime used only for key switching.
struct EncryptionParameters {
  Scheme scheme = Scheme::bfv;
  std::uint64_t poly_modulus_degree = 0;    // N
  std::vector<std::uint64_t> coeff_modulus;  // q_0 .. q_{k-1}
  std::uint64_t plain_modulus = 0;           // t (0 for CKKS)
  friend bool operator==(const EncryptionParameters&, const EncryptionParameters&) = default;
};

ParmsId compute_parms_id(const EncryptionParameters& p);

struct ValidationOptions {
  // SEAL's 128-bit classical security table (N -> max total bits of q).
  bool enforce_128bit_security = true;
};
// Max log2(q) for 128-bit security at degree n (0 when n is not in the table).
int max_coeff_modulus_bits_128(std::uint64_t n);
// Bit count of the product of `primes` (SEAL's total_coeff_modulus_bit_count).
int product_bit_count(std::span<const std::uint64_t> primes);
bool is_prime(std::uint64_t n);

// Checks what SEAL checks on load: scheme BFV/CKKS/BGV; N a power of two in
// 1024..32768; 1..64 primes, each 2..60 bits, prime, = 1 mod 2N, pairwise
// distinct (hence coprime); total bits within the 128-bit table unless
// disabled; BFV/BGV: t of 2..60 bits, coprime to every q_i, t < q of the first
// data level; CKKS: t = 0. Throws FormatError("parameters: ...").
void validate(const EncryptionParameters& p, const ValidationOptions& opt = {});

// Serialized size (uncompressed) with k coefficient primes: 33 + 24*(k+1).
inline constexpr std::uint64_t parameters_size(std::uint64_t k) { return 33 + 24 * (k + 1); }
inline constexpr std::uint64_t kMaxPrimeCount = 64;

std::vector<std::uint8_t> write_parameters(const EncryptionParameters& p,
                                           const WriteOptions& opt = {});
struct LoadedParameters {
  EncryptionParameters parms;
  Header header;  // version to echo, compression used
};
// Reads and validates parameters; trailing bytes are an error.
LoadedParameters read_parameters(std::span<const std::uint8_t> bytes,
                                 const ValidationOptions& opt = {});

// One level of the modulus chain.
struct Level {
  ParmsId parms_id;
  std::size_t prime_count;  // primes q_0 .. q_{prime_count-1}
  std::size_t chain_index;  // 0 = key level
};

// Validated parameters with their modulus chain. levels()[0] is the key level
// (all K primes); levels()[1] the first data level (K-1 primes, the special
// prime dropped), each further level drops the current last prime. For K == 1
// the key level is also the only data level. For BFV/BGV the chain stops
// where t would no longer be below q.
class Context {
 public:
  explicit Context(EncryptionParameters parms, const ValidationOptions& opt = {});

  const EncryptionParameters& parms() const { return parms_; }
  Scheme scheme() const { return parms_.scheme; }
  std::size_t n() const { return parms_.poly_modulus_degree; }
  std::size_t key_prime_count() const { return parms_.coeff_modulus.size(); }
  std::span<const Level> levels() const { return levels_; }
  const Level& key_level() const { return levels_.front(); }
  const Level& first_data_level() const { return levels_.size() > 1 ? levels_[1] : levels_[0]; }
  bool using_keyswitching() const { return levels_.size() > 1 && key_prime_count() > 1; }
  // Level of `id`, or nullptr.
  const Level* find(const ParmsId& id) const;
  // The primes of a level.
  std::span<const std::uint64_t> primes(const Level& l) const {
    return std::span<const std::uint64_t>(parms_.coeff_modulus).first(l.prime_count);
  }
  // Whether BFV batching is possible (t prime and = 1 mod 2N).
  bool batching() const;

 private:
  EncryptionParameters parms_;
  std::vector<Level> levels_;
};

// SEAL-compatible proposal helpers (the same primes SEAL picks).
// CoeffModulus::Create: for each bit size the largest unused primes = 1 mod 2N below 2^b.
std::vector<std::uint64_t> create_coeff_modulus(std::uint64_t n, std::span<const int> bit_sizes);
// CoeffModulus::BFVDefault (128-bit) for N in 1024..32768.
std::vector<std::uint64_t> bfv_default_coeff_modulus(std::uint64_t n);
// PlainModulus::Batching: the largest prime = 1 mod 2N below 2^bits.
std::uint64_t batching_plain_modulus(std::uint64_t n, int bits);

}  // namespace hecnn::wire
