// RLWE parameters: a plain literal that becomes a validated, immutable Context.
//
//   rlwe::ParamsLiteral lit{.scheme = Scheme::bfv, .poly_degree = 8192,
//                           .coeff_modulus = {...}, .plain_modulus = 1032193};
//   auto ctx = rlwe::Context::create(lit);   // throws std::invalid_argument
//
// Conventions follow SEAL 4.1: the coefficient primes are ordered, the LAST one
// is the single special prime P used only for key switching (when there are at
// least two primes). Data levels are named by how many primes they keep: the top
// data level keeps all primes but P; mod-switch / rescale drop the last data
// prime. Security: the product of all primes may not exceed the
// HomomorphicEncryption.org 128-bit bound for N (27, 54, 109, 218, 438, 881 bits
// for N = 1024 ... 32768) unless the literal says Security::none_insecure.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fhe/rlwe/ciphertext.h"
#include "math/modulus.h"
#include "math/ntt.h"
#include "math/rns.h"

namespace hecnn::rlwe {

using math::u64;

enum class Scheme : std::uint8_t { none = 0, bfv = 1, ckks = 2, bgv = 3 };  // SEAL's scheme_type values
enum class Security { tc128, none_insecure };

const char* scheme_name(Scheme s);

struct ParamsLiteral {
  Scheme scheme = Scheme::bfv;
  std::size_t poly_degree = 0;
  std::vector<u64> coeff_modulus;  // special prime last
  u64 plain_modulus = 0;           // BFV and BGV; 0 for CKKS
  Security security = Security::tc128;
};

// Largest log2(q) allowed for 128-bit classical security, or 0 if N is unsupported.
int max_coeff_bits_128(std::size_t poly_degree);

// SEAL's parms_id: BLAKE2b-256 over the u64 words [scheme, N, q_0 .. q_{k-1}, t].
ParmsId compute_parms_id(Scheme scheme, std::size_t n, const std::vector<u64>& primes, u64 plain_modulus);

class Context {
 public:
  // Validates and precomputes. Throws std::invalid_argument naming the problem.
  static std::shared_ptr<const Context> create(const ParamsLiteral& literal);

  const ParamsLiteral& literal() const { return literal_; }
  Scheme scheme() const { return literal_.scheme; }
  std::size_t n() const { return literal_.poly_degree; }
  int log_n() const { return log_n_; }
  // All primes, special prime last (the key level).
  const math::RnsBase& key_base() const { return key_base_; }
  std::size_t key_primes() const { return key_base_.size(); }
  // Number of primes at the top data level (all but P, or 1 if there is only one prime).
  std::size_t max_data_primes() const { return max_data_primes_; }
  bool has_special_prime() const { return key_base_.size() > 1; }
  const math::Modulus& special_prime() const { return key_base_[key_base_.size() - 1]; }
  // The first `num_primes` primes (data level with that many primes, or the key level).
  const math::RnsBase& base(std::size_t num_primes) const { return bases_.at(num_primes - 1); }
  const math::NttTables& ntt(std::size_t prime_index) const { return ntt_[prime_index]; }
  const math::Modulus& plain_modulus() const { return plain_; }
  ParmsId parms_id(std::size_t num_primes) const { return parms_ids_.at(num_primes - 1); }
  int coeff_bits() const { return coeff_bits_; }

  // q_{k-1}^-1 mod q_i for i < k - 1 (used to drop the last prime of a k-prime level).
  const math::ShoupOperand& inv_last(std::size_t num_primes, std::size_t i) const {
    return inv_last_[num_primes - 1][i];
  }
  // BGV: q_{k-1}^-1 mod t, the factor a switch from k primes to k - 1 (or the key switch's
  // division by P, num_primes = key_primes()) multiplies the message by.
  u64 inv_last_mod_t(std::size_t num_primes) const { return inv_last_mod_t_.at(num_primes - 1); }
  // P^-1 mod q_i for the data primes.
  const math::ShoupOperand& inv_special(std::size_t i) const { return inv_special_[i]; }

  // Throws std::invalid_argument unless 1 <= num_primes <= max_data_primes().
  void check_data_level(std::size_t num_primes, const char* what) const;
  // Sets ct.parms_id to these parameters at ct.num_primes primes (after creating or re-leveling it).
  void stamp(Ciphertext& ct) const { ct.parms_id = parms_id(ct.num_primes); }
  // Throws std::invalid_argument unless ct was made under these parameters at its level
  // (check_data_level first).
  void check_parms_id(const Ciphertext& ct, const char* what) const;

 private:
  Context() = default;
  ParamsLiteral literal_;
  int log_n_ = 0;
  int coeff_bits_ = 0;
  std::size_t max_data_primes_ = 0;
  math::RnsBase key_base_;
  std::vector<math::RnsBase> bases_;
  std::vector<math::NttTables> ntt_;
  math::Modulus plain_;
  std::vector<ParmsId> parms_ids_;
  std::vector<std::vector<math::ShoupOperand>> inv_last_;
  std::vector<math::ShoupOperand> inv_special_;
  std::vector<u64> inv_last_mod_t_;
};

using ContextPtr = std::shared_ptr<const Context>;

}  // namespace hecnn::rlwe
