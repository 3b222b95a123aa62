// Encryptions of zero, the building block of BFV and CKKS encryption and of
// key generation. `out` receives a size-2 ciphertext over the first num_primes
// primes (num_primes may be the key level), in NTT or coefficient form.
//
// Public-key encryption works one prime above the target (at P for the top data
// level) and divides by it, as SEAL does, so fresh noise is about |u| + |e|.
// Symmetric encryption samples c1 uniformly unless `given_c1` supplies it (in
// the output form) -- how a seeded ciphertext's c1 is regenerated from its seed.
#pragma once

#include "fhe/rlwe/ciphertext.h"
#include "fhe/rlwe/params.h"
#include "math/prng.h"

namespace hecnn::rlwe {

void encrypt_zero_public(const Context& ctx, const PublicKey& pk, std::size_t num_primes, bool ntt_form,
                         math::Prng& prng, Ciphertext& out);
void encrypt_zero_symmetric(const Context& ctx, const SecretKey& sk, std::size_t num_primes, bool ntt_form,
                            math::Prng& prng, Ciphertext& out, const u64* given_c1 = nullptr);

// out = c0 + c1 s + c2 s^2 + ... over ct's primes, in ct's form (the "phase").
void secret_dot(const Context& ctx, const SecretKey& sk, const Ciphertext& ct, u64* out);

}  // namespace hecnn::rlwe
