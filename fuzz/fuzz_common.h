// Shared by the fuzz targets: small parameter sets whose readers are fuzzed.
// The first input byte picks the context (bit 0: BFV or CKKS; bit 2: N = 2048
// or 4096); the rest is the object. Readers run with their default bounds,
// the ones the CLI uses.
// A FormatError is the expected outcome for malformed input; any other
// exception, crash, leak or sanitizer report is a bug.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "fhe/wire/error.h"
#include "fhe/wire/objects.h"

namespace hecnn::wire::fuzz {

inline const Context& context(std::uint8_t selector) {
  static const Context bfv(EncryptionParameters{Scheme::bfv, 2048, create_coeff_modulus(2048, std::vector<int>{27, 27}),
                                                batching_plain_modulus(2048, 16)});
  static const Context ckks(EncryptionParameters{Scheme::ckks, 2048, create_coeff_modulus(2048, std::vector<int>{30, 24}), 0});
  static const Context bfv4(EncryptionParameters{Scheme::bfv, 4096,
                                                 create_coeff_modulus(4096, std::vector<int>{36, 36, 37}),
                                                 batching_plain_modulus(4096, 20)});
  static const Context ckks4(EncryptionParameters{Scheme::ckks, 4096,
                                                  create_coeff_modulus(4096, std::vector<int>{40, 30, 39}), 0});
  if (selector & 4) return (selector & 1) ? ckks4 : bfv4;
  return (selector & 1) ? ckks : bfv;
}

template <class F>
int run(const std::uint8_t* data, std::size_t size, F&& read) {
  if (size < 1) return 0;
  const Context& ctx = context(data[0]);
  try {
    read(ctx, std::span<const std::uint8_t>(data + 1, size - 1));
  } catch (const FormatError&) {
  }
  return 0;
}

}  // namespace hecnn::wire::fuzz
