// Named CKKS parameter sets (128-bit secure) and the default scale.
//
//   auto ctx = rlwe::Context::create(ckks::preset_n8192_q200());   // [60, 40, 40, 60]
//   double scale = ckks::default_scale(*ctx);                       // 2^40
//
// Primes are chosen as SEAL's CoeffModulus::Create(N, bit_sizes) does; the last
// one is the special prime used only for key switching, the others are data
// primes that rescaling drops from the end.
#pragma once

#include <vector>

#include "fhe/rlwe/params.h"

namespace hecnn::ckks {

// A CKKS literal with primes of the given bit sizes (each 2..60 bits). The
// Context validates it (throws std::invalid_argument naming the problem).
rlwe::ParamsLiteral ckks_literal(std::size_t n, const std::vector<int>& bit_sizes,
                                 rlwe::Security security = rlwe::Security::tc128);

// N = 8192, primes [60, 40, 40, 60] (200 bits): two multiplications at scale 2^40.
rlwe::ParamsLiteral preset_n8192_q200();
// N = 8192 with SEAL's default 218-bit primes [43, 43, 44, 44, 44] (for comparing
// with SEAL's own benchmarks, which use these).
rlwe::ParamsLiteral preset_n8192_q218();
// N = 16384, primes [60, 40 x 7, 60] (400 bits): seven multiplications at scale 2^40.
rlwe::ParamsLiteral preset_n16384_q400();

// The scale that keeps a ciphertext's scale steady under multiply + rescale:
// 2^(bits of the last data prime), or 2^(bits / 2) of the only data prime when
// there is just one.
double default_scale(const rlwe::Context& ctx);

// log2 of the product of the first num_primes primes.
double log2_modulus(const rlwe::Context& ctx, std::size_t num_primes);

}  // namespace hecnn::ckks
