// The HomomorphicEncryption.org security standard's table for uniform ternary
// secrets, as SEAL 4.1 applies it (CoeffModulus::MaxBitCount, sec_level_type::tc128).
#pragma once

#include <cstdint>

namespace hecnn::math {

// Largest log2(q) (total coefficient modulus, special prime included) for 128-bit
// classical security at ring degree n; 0 when n is not in the table.
constexpr int max_coeff_bits_128(std::uint64_t n) {
  switch (n) {
    case 1024: return 27;
    case 2048: return 54;
    case 4096: return 109;
    case 8192: return 218;
    case 16384: return 438;
    case 32768: return 881;
    default: return 0;
  }
}

}  // namespace hecnn::math
