// Named BFV parameter sets (128-bit secure, SEAL's BFVDefault coefficient primes).
//
//   auto ctx = rlwe::Context::create(bfv::preset_n8192_q218(1032193));
#pragma once

#include "fhe/rlwe/params.h"

namespace hecnn::bfv {

// SEAL's CoeffModulus::BFVDefault(N) for N = 4096, 8192, 16384 (log q = 109, 218,
// 438); throws std::invalid_argument for other N.
std::vector<rlwe::u64> bfv_default_primes(std::size_t n);

// The largest prime t < 2^bits with t ≡ 1 mod 2N (SEAL's PlainModulus::Batching).
rlwe::u64 batching_plain_modulus(std::size_t n, int bits);

rlwe::ParamsLiteral preset_n4096_q109(rlwe::u64 plain_modulus);
rlwe::ParamsLiteral preset_n8192_q218(rlwe::u64 plain_modulus);
rlwe::ParamsLiteral preset_n16384_q438(rlwe::u64 plain_modulus);
// The preset for N (4096, 8192 or 16384).
rlwe::ParamsLiteral preset_default(std::size_t n, rlwe::u64 plain_modulus);

}  // namespace hecnn::bfv
