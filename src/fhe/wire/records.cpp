#include "fhe/wire/records.h"

#include <algorithm>
#include <bit>

#include "fhe/wire/error.h"

namespace hecnn::wire {

void write_dynarray(ByteWriter& w, Version v, std::span<const std::uint64_t> words) {
  write_nested_header(w, v, dynarray_size(words.size()));
  w.u64(words.size());
  w.u64_array(words);
}

std::uint64_t read_dynarray_count(ByteReader& r, std::string_view field) {
  const std::string rec = std::string(field) + " array";
  const std::size_t at = r.position();
  const Header h = read_nested_header(r, rec);
  const std::uint64_t count = r.u64(rec + " count");
  if (h.size < 24 || (h.size - 24) % 8 != 0 || (h.size - 24) / 8 != count) {
    r.fail(rec + " record at offset " + std::to_string(at) + " claims size " +
           std::to_string(h.size) + " but holds " + std::to_string(count) + " words");
  }
  return count;
}

std::vector<std::uint64_t> read_dynarray(ByteReader& r, std::string_view field,
                                         std::uint64_t max_count) {
  const std::uint64_t count = read_dynarray_count(r, field);
  if (count > max_count) {
    r.fail(std::string(field) + " count " + std::to_string(count) + " exceeds the maximum " +
           std::to_string(max_count));
  }
  if (count > r.remaining() / 8) {
    r.fail("truncated: " + std::string(field) + " holds " + std::to_string(count) + " words, " +
           std::to_string(r.remaining()) + " bytes left");
  }
  std::vector<std::uint64_t> out(count);
  r.u64_array(out, field);
  return out;
}

void write_modulus(ByteWriter& w, Version v, std::uint64_t value) {
  write_nested_header(w, v, kModulusRecordSize);
  w.u64(value);
}

std::uint64_t read_modulus(ByteReader& r, std::string_view field) {
  read_nested_header(r, std::string(field) + " modulus", kModulusRecordSize);
  const std::uint64_t value = r.u64(field);
  if (value == 1 || std::bit_width(value) > 61) {
    r.fail(std::string(field) + " modulus " + std::to_string(value) +
           " is invalid (must be 0 or between 2 and 61 bits)");
  }
  return value;
}

std::string_view to_string(PrngType t) {
  switch (t) {
    case PrngType::unknown: return "unknown";
    case PrngType::blake2xb: return "blake2xb";
    case PrngType::shake256: return "shake256";
  }
  return "invalid";
}

void write_prng_info(ByteWriter& w, Version v, const PrngInfo& info) {
  write_nested_header(w, v, kPrngInfoSize);
  w.u8(static_cast<std::uint8_t>(info.type));
  w.bytes(info.seed);
}

PrngInfo read_prng_info(ByteReader& r) {
  read_nested_header(r, "PRNG info", kPrngInfoSize);
  PrngInfo info;
  const auto type = r.u8("PRNG type");
  if (type != 1 && type != 2) {
    r.fail("PRNG type " + std::to_string(type) + " is not supported (expected 1 BLAKE2Xb or 2 SHAKE256)");
  }
  info.type = static_cast<PrngType>(type);
  auto seed = r.bytes(64, "PRNG seed");
  std::copy(seed.begin(), seed.end(), info.seed.begin());
  return info;
}

}  // namespace hecnn::wire
