// Prime testing and NTT-friendly prime generation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hecnn::math {

// Deterministic Miller-Rabin, exact for every 64-bit input.
bool is_prime(std::uint64_t n);

// The `count` largest primes p < 2^bit_size with p ≡ 1 (mod 2N), in descending
// order, skipping any listed in `exclude`. This is how SEAL's CoeffModulus::Create
// and PlainModulus::Batching pick primes. Throws std::invalid_argument if
// bit_size is outside [2, 61] or N is not a power of two, std::runtime_error if
// not enough primes exist.
std::vector<std::uint64_t> ntt_primes(int bit_size, std::size_t n, std::size_t count,
                                      const std::vector<std::uint64_t>& exclude = {});

// SEAL's CoeffModulus::Create(N, bit_sizes): for each requested size, the next
// largest unused prime ≡ 1 mod 2N of exactly that many bits, in the given order.
std::vector<std::uint64_t> create_coeff_modulus(std::size_t n, const std::vector<int>& bit_sizes);

// Smallest primitive 2N-th root of unity mod q (SEAL's choice). Throws if none.
std::uint64_t minimal_primitive_root(std::uint64_t two_n, std::uint64_t q);

}  // namespace hecnn::math
