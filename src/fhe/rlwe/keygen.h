// Key generation (SEAL semantics, see ciphertext.h for the key layouts).
//
// The secret key is uniform ternary; errors are centered binomial (variance
// 10.5, SEAL's default). All randomness comes from the Prng passed in, which
// must be a math::SystemPrng outside tests.
// Cost: a public key is 1 NTT-domain multiply per prime; each key-switching key
// (relinearization or one Galois element) is (K - 1) encryptions of zero at the
// key level: about K * (K - 1) NTTs and K * (K - 1) * N words of storage x 2.
#pragma once

#include <span>
#include <vector>

#include "fhe/rlwe/ciphertext.h"
#include "fhe/rlwe/params.h"
#include "math/prng.h"

namespace hecnn::rlwe {

class KeyGenerator {
 public:
  // Draws a fresh secret key.
  KeyGenerator(ContextPtr ctx, math::Prng& prng);
  // Works with an existing secret key (e.g. loaded from disk).
  KeyGenerator(ContextPtr ctx, SecretKey sk, math::Prng& prng);

  const SecretKey& secret_key() const { return sk_; }
  PublicKey create_public_key() const;
  // Throws std::logic_error if the parameters have a single prime (no key switching).
  RelinKeys create_relin_keys() const;
  GaloisKeys create_galois_keys(const std::vector<u64>& galois_elts) const;
  // Keys for rotations by the given steps (and conjugation / column swap if asked).
  GaloisKeys create_galois_keys_for_steps(const std::vector<int>& steps, bool with_conjugate = false) const;
  // A key switching from `new_key` (NTT form, key level) to this secret key.
  KSwitchKey create_kswitch_key(std::span<const u64> new_key) const;

 private:
  ContextPtr ctx_;
  math::Prng& prng_;
  SecretKey sk_;
};

}  // namespace hecnn::rlwe
