// SEAL-format readers and writers for Plaintext, Ciphertext, SecretKey,
// PublicKey, RelinKeys and GaloisKeys, over plain data structs that hold
// exactly what is on the wire (the core converts to/from its own types).
//
// Reading: every size is bounded from the Context before anything is allocated
// (compressed input is inflated only up to that bound), metadata is checked
// against the modulus chain, and every stored word must be < q_j (< t for BFV
// plaintexts). Errors are FormatError("<object>: <problem>").
// Seeded objects (size-2 ciphertexts / public keys whose c1 comes from a
// 64-byte seed) are expanded on load with SEAL's exact sampling; the seed is
// kept in `seed` so that writing the object again writes it seeded again.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "fhe/wire/container.h"
#include "fhe/wire/params.h"
#include "fhe/wire/records.h"

namespace hecnn::wire {

inline constexpr std::uint64_t kCiphertextSizeMin = 2;
inline constexpr std::uint64_t kCiphertextSizeMax = 16;

// Uncompressed serialized sizes (spec section 3).
inline constexpr std::uint64_t ciphertext_size(std::uint64_t size, std::uint64_t n, std::uint64_t k) {
  return 113 + 8 * size * n * k;
}
inline constexpr std::uint64_t seeded_ciphertext_size(std::uint64_t n, std::uint64_t k) { return 194 + 8 * n * k; }
inline constexpr std::uint64_t plaintext_size(std::uint64_t coeff_count) { return 88 + 8 * coeff_count; }
inline constexpr std::uint64_t secret_key_size(std::uint64_t n, std::uint64_t key_k) { return 88 + 8 * n * key_k; }
inline constexpr std::uint64_t public_key_size(std::uint64_t n, std::uint64_t key_k, bool seeded) {
  return seeded ? seeded_ciphertext_size(n, key_k) : ciphertext_size(2, n, key_k);
}
inline constexpr std::uint64_t relin_keys_size(std::uint64_t n, std::uint64_t key_k, bool seeded) {
  return 64 + (key_k - 1) * public_key_size(n, key_k, seeded);
}
// Largest RelinKeys object with `powers` key-switching keys (full, not seeded).
inline constexpr std::uint64_t relin_keys_bound(std::uint64_t n, std::uint64_t key_k, std::uint64_t powers) {
  return 56 + powers * (8 + (key_k - 1) * public_key_size(n, key_k, false));
}
inline constexpr std::uint64_t galois_keys_size(std::uint64_t n, std::uint64_t key_k, std::uint64_t keys, bool seeded) {
  return 56 + 8 * n + keys * (key_k - 1) * public_key_size(n, key_k, seeded);
}

struct CiphertextData {
  ParmsId parms_id = kZeroParmsId;
  bool is_ntt_form = false;
  std::uint64_t size = 0;         // number of polynomials (2..16)
  std::uint64_t n = 0;            // N
  std::uint64_t prime_count = 0;  // k: primes at this ciphertext's level
  double scale = 1.0;
  std::uint64_t correction_factor = 1;
  // ((poly * k) + j) * N + i : polynomial, then prime, then coefficient.
  std::vector<std::uint64_t> data;
  // Set when c1 (polynomial 1) is the expansion of this seed; the writer then
  // writes the half-size seeded form (size must be 2).
  std::optional<PrngInfo> seed;

  std::span<std::uint64_t> poly(std::size_t p) { return std::span(data).subspan(p * prime_count * n, prime_count * n); }
  std::span<const std::uint64_t> poly(std::size_t p) const {
    return std::span(data).subspan(p * prime_count * n, prime_count * n);
  }
};

struct PlaintextData {
  ParmsId parms_id = kZeroParmsId;  // zero: BFV coefficient form mod t
  std::uint64_t coeff_count = 0;
  double scale = 1.0;
  std::vector<std::uint64_t> data;  // NTT form: j * N + i
};

// SecretKey = Plaintext at the key level in NTT form (N*K words).
struct SecretKeyData {
  PlaintextData plain;
};
// PublicKey = size-2 NTT-form Ciphertext at the key level, scale 1.
struct PublicKeyData {
  CiphertextData ct;
};
// KSwitchKeys: keys[index] is empty or holds L = K-1 PublicKeys (one per data prime).
struct KSwitchKeysData {
  ParmsId parms_id = kZeroParmsId;  // key level
  std::vector<std::vector<PublicKeyData>> keys;
};
// RelinKeys: index = power - 2 (s^2 at index 0).
struct RelinKeysData {
  KSwitchKeysData ks;
};
// GaloisKeys: keys.size() == N, index = (g - 1) / 2.
struct GaloisKeysData {
  KSwitchKeysData ks;
  static std::size_t index_of(std::uint64_t galois_elt) { return static_cast<std::size_t>((galois_elt - 1) / 2); }
  bool has(std::uint64_t galois_elt) const {
    const auto i = index_of(galois_elt);
    return i < ks.keys.size() && !ks.keys[i].empty();
  }
  const std::vector<PublicKeyData>& key(std::uint64_t galois_elt) const { return ks.keys.at(index_of(galois_elt)); }
};

struct ReadOptions {
  // Upper bound on an object's uncompressed size; 0 = the bound implied by the
  // parameters (and max_galois_keys). A server sets this from its quotas.
  std::uint64_t max_size = 0;
  // GaloisKeys: most non-empty entries accepted; 0 = SEAL's default set for N
  // (default_galois_key_count: rotations by +-2^i and the column swap). The
  // memory bound of a Galois key set follows from it, so a server sets it from
  // the keys its plan needs.
  std::size_t max_galois_keys = 0;
  // RelinKeys: most powers accepted (SEAL's KeyGenerator makes exactly 1; at
  // most 14 are meaningful since ciphertexts have size <= 16).
  std::size_t max_relin_powers = 1;
  // Accept bytes after the object (read a stream of objects using `consumed`).
  bool allow_trailing = false;
};

// 2*log2(N/2) + 1: what SEAL's KeyGenerator::create_galois_keys() makes.
std::size_t default_galois_key_count(std::uint64_t n);
std::size_t galois_key_limit(std::uint64_t n, const ReadOptions& opt);
// The largest object any reader accepts for these parameters and quotas (the
// Galois key set, unless single-prime parameters have none); bounds what
// `describe` inflates.
std::uint64_t largest_object_size(const Context& ctx, const ReadOptions& opt);

template <class T>
struct Loaded {
  T value;
  Header header;  // version to echo back, compression used
  std::size_t consumed = 0;
};

// Each reader reads one object from the start of `bytes`; trailing bytes are an
// error unless ReadOptions::allow_trailing (then `consumed` says where the next
// object starts).
Loaded<CiphertextData> read_ciphertext(const Context& ctx, std::span<const std::uint8_t> bytes,
                                       const ReadOptions& opt = {});
Loaded<PlaintextData> read_plaintext(const Context& ctx, std::span<const std::uint8_t> bytes,
                                     const ReadOptions& opt = {});
Loaded<SecretKeyData> read_secret_key(const Context& ctx, std::span<const std::uint8_t> bytes,
                                      const ReadOptions& opt = {});
Loaded<PublicKeyData> read_public_key(const Context& ctx, std::span<const std::uint8_t> bytes,
                                      const ReadOptions& opt = {});
Loaded<RelinKeysData> read_relin_keys(const Context& ctx, std::span<const std::uint8_t> bytes,
                                      const ReadOptions& opt = {});
Loaded<GaloisKeysData> read_galois_keys(const Context& ctx, std::span<const std::uint8_t> bytes,
                                        const ReadOptions& opt = {});

// Writers validate exactly as the readers do (a writer never emits what the
// reader would refuse) and, for objects with `seed`, check that c1 is the
// seed's expansion.
std::vector<std::uint8_t> write_ciphertext(const Context& ctx, const CiphertextData& ct, const WriteOptions& opt = {});
std::vector<std::uint8_t> write_plaintext(const Context& ctx, const PlaintextData& pt, const WriteOptions& opt = {});
std::vector<std::uint8_t> write_secret_key(const Context& ctx, const SecretKeyData& sk, const WriteOptions& opt = {});
std::vector<std::uint8_t> write_public_key(const Context& ctx, const PublicKeyData& pk, const WriteOptions& opt = {});
std::vector<std::uint8_t> write_relin_keys(const Context& ctx, const RelinKeysData& rk, const WriteOptions& opt = {});
std::vector<std::uint8_t> write_galois_keys(const Context& ctx, const GaloisKeysData& gk, const WriteOptions& opt = {});

// Regenerates c1 of a seeded size-2 object at the given level (SEAL's
// sample_poly_uniform over the level's primes) into `c1` (k*N words).
void expand_seed(const Context& ctx, const Level& level, const PrngInfo& seed, std::span<std::uint64_t> c1);

// Metadata/range checks shared by readers and writers (throw FormatError).
enum class CiphertextRole { data, public_key };
void check_ciphertext(const Context& ctx, const CiphertextData& ct, CiphertextRole role, std::string_view object);
void check_plaintext(const Context& ctx, const PlaintextData& pt, std::string_view object);

}  // namespace hecnn::wire
