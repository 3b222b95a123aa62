// BGV encryption (public key or symmetric) and decryption, SEAL 4.x conventions.
//
// Ciphertexts are produced at the top data level (or a given lower one) in NTT form with
// correction factor 1: (c0, c1) = an encryption of zero whose error is t e (rlwe/encrypt.h),
// plus the plaintext lifted centered into every prime. Decryption computes the phase
// c0 + c1 s + ..., composes it centered mod Q, reduces it mod t and multiplies by the
// correction factor's inverse. invariant_noise_budget() is SEAL's measure for BGV:
// log2(Q) minus the bits of the largest centered phase coefficient, minus one.
#pragma once

#include <optional>

#include "fhe/bfv/plaintext.h"
#include "fhe/bgv/tables.h"
#include "fhe/rlwe/ciphertext.h"
#include "math/prng.h"

namespace hecnn::bgv {

using bfv::Plaintext;
using rlwe::Ciphertext;

// out (k residues, NTT form) = the centered lift of (multiplier * pt) mod t. Throws
// std::invalid_argument unless pt has N coefficients below t.
void lift_plain_ntt(const rlwe::Context& ctx, const Plaintext& pt, u64 multiplier, std::size_t k, u64* out);

class Encryptor {
 public:
  Encryptor(BgvTablesPtr tables, rlwe::PublicKey pk);
  Encryptor(BgvTablesPtr tables, rlwe::SecretKey sk);  // symmetric
  Ciphertext encrypt(const Plaintext& pt, math::Prng& prng) const;
  // Encryption at a lower data level (num_primes data primes).
  Ciphertext encrypt_at(const Plaintext& pt, std::size_t num_primes, math::Prng& prng) const;

 private:
  BgvTablesPtr tables_;
  std::optional<rlwe::PublicKey> pk_;
  std::optional<rlwe::SecretKey> sk_;
};

class Decryptor {
 public:
  Decryptor(BgvTablesPtr tables, rlwe::SecretKey sk);
  Plaintext decrypt(const Ciphertext& ct) const;
  int invariant_noise_budget(const Ciphertext& ct) const;

 private:
  void check(const Ciphertext& ct) const;
  // The phase in coefficient form (k residues; per-thread scratch, wiped by the caller).
  u64* phase(const Ciphertext& ct) const;
  BgvTablesPtr tables_;
  rlwe::SecretKey sk_;
};

}  // namespace hecnn::bgv
