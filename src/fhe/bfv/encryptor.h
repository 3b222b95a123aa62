// BFV encryption (public key or symmetric) and decryption.
//
// Ciphertexts are produced at the top data level in coefficient form (SEAL's
// BFV convention). Decryption computes round(t (c0 + c1 s + ...) / Q) mod t in
// RNS; invariant_noise_budget() is SEAL's measure: log2(Q) minus the bits of
// the largest coefficient of [t (c0 + c1 s)]_Q, minus one (0 when exhausted).
#pragma once

#include <optional>

#include "fhe/bfv/level_tables.h"
#include "fhe/bfv/plaintext.h"
#include "fhe/rlwe/ciphertext.h"
#include "math/prng.h"

namespace hecnn::bfv {

class Encryptor {
 public:
  Encryptor(BfvTablesPtr tables, rlwe::PublicKey pk);
  Encryptor(BfvTablesPtr tables, rlwe::SecretKey sk);  // symmetric
  Ciphertext encrypt(const Plaintext& pt, math::Prng& prng) const;
  // Encryption at a lower data level (num_primes data primes).
  Ciphertext encrypt_at(const Plaintext& pt, std::size_t num_primes, math::Prng& prng) const;

 private:
  BfvTablesPtr tables_;
  std::optional<rlwe::PublicKey> pk_;
  std::optional<rlwe::SecretKey> sk_;
};

// c0 += round(Q m / t) over ct's primes (used by encryption and add_plain).
void add_scaled_plain(const BfvTables& tables, const Plaintext& pt, Ciphertext& ct, bool subtract = false);

class Decryptor {
 public:
  Decryptor(BfvTablesPtr tables, rlwe::SecretKey sk);
  Plaintext decrypt(const Ciphertext& ct) const;
  int invariant_noise_budget(const Ciphertext& ct) const;

 private:
  void check(const Ciphertext& ct) const;
  BfvTablesPtr tables_;
  rlwe::SecretKey sk_;
};

// Throws std::invalid_argument unless pt has N coefficients below t.
void check_plaintext(const rlwe::Context& ctx, const Plaintext& pt);

}  // namespace hecnn::bfv
