// CKKS encryption (public key or symmetric) and decryption.
//
// Ciphertexts are in NTT form at the plaintext's level and carry its scale:
// encrypt = an rlwe encryption of zero (rlwe/encrypt.h) plus the plaintext in c0.
// Decryption returns the phase c0 + c1 s (+ c2 s^2 ...) as a plaintext at the
// ciphertext's level and scale; decode it with the Encoder.
// Cost: public-key encryption ~(5k + 3) NTTs at k primes; symmetric 2k NTTs;
// decryption one NTT-domain multiply-add per prime (no NTT).
// Encryptor and Decryptor are immutable and safe to share between threads (the
// Prng passed to encrypt is not: use one per thread).
#pragma once

#include <optional>

#include "fhe/ckks/plaintext.h"
#include "fhe/rlwe/ciphertext.h"
#include "fhe/rlwe/params.h"
#include "math/prng.h"

namespace hecnn::ckks {

class Encryptor {
 public:
  Encryptor(rlwe::ContextPtr ctx, rlwe::PublicKey pk);
  Encryptor(rlwe::ContextPtr ctx, rlwe::SecretKey sk);  // symmetric
  // Throws std::invalid_argument if pt does not fit the parameters.
  Ciphertext encrypt(const Plaintext& pt, math::Prng& prng) const;

 private:
  rlwe::ContextPtr ctx_;
  std::optional<rlwe::PublicKey> pk_;
  std::optional<rlwe::SecretKey> sk_;
};

class Decryptor {
 public:
  Decryptor(rlwe::ContextPtr ctx, rlwe::SecretKey sk);
  Plaintext decrypt(const Ciphertext& ct) const;

 private:
  rlwe::ContextPtr ctx_;
  rlwe::SecretKey sk_;
};

// Throws std::invalid_argument (prefixed by `what`) unless pt is a well-formed
// plaintext of this Context at a data level.
void check_plaintext(const rlwe::Context& ctx, const Plaintext& pt, const char* what);
// The same for a CKKS ciphertext (NTT form, size >= 2, positive scale).
void check_ciphertext(const rlwe::Context& ctx, const Ciphertext& ct, const char* what);

}  // namespace hecnn::ckks
