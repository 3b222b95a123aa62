// Galois automorphisms X -> X^g of Z_q[X]/(X^N + 1), g odd in [1, 2N).
//
// SEAL's elements: rotating slots (CKKS) or rows (BFV) left by k > 0 is
// g = 3^k mod 2N, right by |k| is 3^(N/2 - |k|) mod 2N; swapping BFV columns
// / conjugating CKKS slots is g = 2N - 1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "math/modulus.h"

namespace hecnn::rlwe {

using math::u64;

// Throws std::invalid_argument if |step| >= N/2 or step == 0.
u64 galois_elt_from_step(int step, std::size_t n);
inline u64 galois_elt_conjugate(std::size_t n) { return 2 * n - 1; }
// Throws std::invalid_argument unless g is odd and < 2N.
void check_galois_elt(u64 g, std::size_t n);

// The Galois elements that rotate by `step` (mod N/2) with the keys at hand: the
// direct element if `available` has it, otherwise the signed-binary (non-adjacent)
// decomposition into +-2^j rotations, SEAL's fallback. Empty for a multiple of N/2.
// Throws std::invalid_argument naming the step and the missing element.
std::vector<u64> rotation_galois_elts(int step, std::size_t n, const std::function<bool(u64)>& available);

// Coefficient form: out[i*g mod 2N] = ±in[i] (negated past N). out != in.
void apply_galois_coeff(const u64* in, u64 g, const math::Modulus& q, std::size_t n, u64* out);

// NTT form (SEAL order): out[j] = in[perm[j]]. Build the table once per g.
std::vector<std::uint32_t> galois_ntt_permutation(u64 g, std::size_t n);
// The same table, built once per (g, N) for the whole process and shared between
// threads (the reference stays valid until exit). A few hundred KB per element at most.
const std::vector<std::uint32_t>& galois_ntt_permutation_cached(u64 g, std::size_t n);
void apply_galois_ntt(const u64* in, const std::vector<std::uint32_t>& perm, std::size_t n, u64* out);

}  // namespace hecnn::rlwe
