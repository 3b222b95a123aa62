// What is in a SEAL/hecnn object file: type, version, compression, scheme, N,
// primes, level, scale, size, seeded or not. Works without parameters (the type
// is recognised from the layout); with a Context the object is also fully
// validated by its reader and its level is named. Used by `hecnn inspect`.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "fhe/wire/objects.h"

namespace hecnn::wire {

struct Description {
  std::string type;  // parameters, ciphertext, public key, plaintext, secret key, relin keys, galois keys
  Header header;
  std::uint64_t uncompressed_size = 0;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string validation;  // "valid", the reader's error, or "not checked (no parameters)"
};

// Compressed input is inflated no further than the largest object these
// parameters allow under `quotas` (largest_object_size; Galois keys: SEAL's
// default count unless quotas.max_galois_keys says more), or, without
// parameters, than quotas.max_size or kInspectLimitWithoutParameters.
inline constexpr std::uint64_t kInspectLimitWithoutParameters = std::uint64_t{1} << 30;
Description describe(std::span<const std::uint8_t> bytes, const Context* ctx = nullptr,
                     const ReadOptions& quotas = {});
std::string to_text(const Description& d);

}  // namespace hecnn::wire
