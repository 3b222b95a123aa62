// Nested SEAL records: DynArray<u64>, Modulus and the PRNG-info record that
// carries the seed of seeded objects. Each has its own uncompressed header.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "fhe/wire/bytes.h"
#include "fhe/wire/container.h"

namespace hecnn::wire {

// DynArray<u64>: header (size 24 + 8*count) | u64 count | count words.
inline constexpr std::uint64_t dynarray_size(std::uint64_t count) { return 24 + 8 * count; }
void write_dynarray(ByteWriter& w, Version v, std::span<const std::uint64_t> words);
// Reads a DynArray's header and count and checks the header size matches the
// count; the caller bounds the count before reading the words with
// r.u64_array().
std::uint64_t read_dynarray_count(ByteReader& r, std::string_view field);
// Reads a whole DynArray whose count must be <= max_count (checked first).
std::vector<std::uint64_t> read_dynarray(ByteReader& r, std::string_view field,
                                         std::uint64_t max_count);

// Modulus: header (size 24) | u64 value. A value must be 0 or in [2, 2^61).
inline constexpr std::uint64_t kModulusRecordSize = 24;
void write_modulus(ByteWriter& w, Version v, std::uint64_t value);
std::uint64_t read_modulus(ByteReader& r, std::string_view field);

// PRNG info: header (size 81) | u8 type | 64 seed bytes.
enum class PrngType : std::uint8_t { unknown = 0, blake2xb = 1, shake256 = 2 };
std::string_view to_string(PrngType t);
using PrngSeed = std::array<std::uint8_t, 64>;
struct PrngInfo {
  PrngType type = PrngType::blake2xb;
  PrngSeed seed{};
};
inline constexpr std::uint64_t kPrngInfoSize = 81;
void write_prng_info(ByteWriter& w, Version v, const PrngInfo& info);
PrngInfo read_prng_info(ByteReader& r);

}  // namespace hecnn::wire
