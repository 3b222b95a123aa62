// Key switching, relinearization and Galois automorphisms on ciphertexts,
// shared by BFV (coefficient form) and CKKS (NTT form).
//
// Switching a polynomial d at a level with k data primes (SEAL's method): digit
// j = d mod q_j, lifted centered; for each output modulus r in {q_0..q_{k-1}, P}: reduce, NTT,
// multiply-accumulate with residue r of key part j; then divide by P with
// rounding. Cost: k (k + 1) NTTs, plus 2 (k + 1) inverse NTTs (BFV) or
// 2 + 2k NTTs (CKKS), 2 k (k + 1) N multiplies. Needs a special prime.
#pragma once

#include "fhe/rlwe/ciphertext.h"
#include "fhe/rlwe/params.h"

namespace hecnn::rlwe {

// (c0, c1) += switch(target). target has ct.num_primes residues in the given form.
// Throws std::invalid_argument if the key does not fit the ciphertext.
void switch_key_add(const Context& ctx, const u64* target, bool target_ntt, const KSwitchKey& key, Ciphertext& ct);

// Size 3 -> size 2. Throws if ct.size != 3.
void relinearize_inplace(const Context& ctx, Ciphertext& ct, const RelinKeys& rk);

// ct(X) -> ct(X^g), then switched back to s. Throws std::invalid_argument naming
// the missing element if the keys lack g.
void apply_galois_inplace(const Context& ctx, Ciphertext& ct, u64 galois_elt, const GaloisKeys& gk);

}  // namespace hecnn::rlwe
