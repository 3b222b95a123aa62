// Key switching, relinearization and Galois automorphisms on ciphertexts,
// shared by BFV (coefficient form) and CKKS (NTT form).
//
// Switching a polynomial d at a level with k data primes (SEAL's method): digit
// j = d mod q_j, lifted centered; for each output modulus r in {q_0..q_{k-1}, P}: reduce, NTT,
// multiply-accumulate with residue r of key part j; then divide by P with
// rounding. Cost: k (k + 1) NTTs, plus 2 (k + 1) inverse NTTs (BFV) or
// 2 + 2k NTTs (CKKS), 2 k (k + 1) N multiplies. Needs a special prime.
#pragma once

#include <cstdint>
#include <vector>

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

// Rotation by `step` slots: the step's own key, or SEAL's fallback, a product of power-of-two
// rotations (rotation_galois_elts). Throws std::invalid_argument naming a missing key.
void rotate_inplace(const Context& ctx, Ciphertext& ct, int step, const GaloisKeys& gk);

// Hoisting (Halevi-Shoup): the digit decomposition of a target polynomial, done once
// and shared by every key switch of it. An automorphism X -> X^g commutes with the
// decomposition (each digit is permuted like the polynomial), so rotations of one
// ciphertext by many steps pay the k (k + 1) NTTs of the decomposition once; each
// rotation then costs 2 k (k + 1) N multiplies and 2 + 2k NTTs (NTT form).
struct KeySwitchDigits {
  std::size_t n = 0, k = 0;
  std::vector<u64> data;  // digit j lifted to modulus r (r == k: P), NTT form: [(j * (k + 1) + r) * n]
};
// Decomposes target (k residues, NTT form if target_ntt). Throws on k outside 1..data primes.
KeySwitchDigits decompose_for_switch(const Context& ctx, const u64* target, bool target_ntt, std::size_t k);
// (c0, c1) += switch(perm(target)) from its digits; perm is an NTT-domain Galois
// permutation (galois.h) or null for the target itself. NTT-form ciphertexts only.
void switch_key_add_digits(const Context& ctx, const KeySwitchDigits& digits, const std::vector<std::uint32_t>* perm,
                           const KSwitchKey& key, Ciphertext& ct);
// out[i] = ct(X^g_i) switched back to s, one decomposition for all (g == 1: a copy).
// NTT form, size 2. Throws std::invalid_argument naming a missing element before any work.
std::vector<Ciphertext> apply_galois_hoisted(const Context& ctx, const Ciphertext& ct, const std::vector<u64>& galois_elts,
                                             const GaloisKeys& gk);

}  // namespace hecnn::rlwe
