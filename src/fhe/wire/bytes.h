// Bounded little-endian byte reader and growing byte writer.
//
// ByteReader never reads past its span: every read names the field it reads so
// that a truncated input produces e.g.
//   "ciphertext: truncated: field 'scale' needs 8 bytes at offset 81, 3 left".
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hecnn::wire {

class ByteReader {
 public:
  // `object` names what is being read ("ciphertext", "parameters", ...) and
  // prefixes every error message.
  ByteReader(std::span<const std::uint8_t> bytes, std::string object);

  std::uint8_t u8(std::string_view field);
  std::uint16_t u16(std::string_view field);
  std::uint32_t u32(std::string_view field);
  std::uint64_t u64(std::string_view field);
  double f64(std::string_view field);
  // A view of the next n bytes (checked before anything else happens).
  std::span<const std::uint8_t> bytes(std::size_t n, std::string_view field);
  // Reads `out.size()` little-endian u64 words.
  void u64_array(std::span<std::uint64_t> out, std::string_view field);

  std::size_t position() const { return pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  const std::string& object() const { return object_; }
  // Throws unless every byte was consumed.
  void expect_end() const;
  // Throws FormatError("<object>: <message>").
  [[noreturn]] void fail(std::string_view message) const;

 private:
  void need(std::size_t n, std::string_view field) const;
  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
  std::string object_;
};

class ByteWriter {
 public:
  void u8(std::uint8_t v) { buf_.push_back(v); }
  void u16(std::uint16_t v);
  void u32(std::uint32_t v);
  void u64(std::uint64_t v);
  void f64(double v);
  void bytes(std::span<const std::uint8_t> b) { buf_.insert(buf_.end(), b.begin(), b.end()); }
  void u64_array(std::span<const std::uint64_t> words);
  // Overwrites 8 bytes at `offset` (used to patch sizes after the fact).
  void patch_u64(std::size_t offset, std::uint64_t v);
  void reserve(std::size_t n) { buf_.reserve(n); }

  std::size_t size() const { return buf_.size(); }
  const std::vector<std::uint8_t>& buffer() const { return buf_; }
  std::vector<std::uint8_t> take() { return std::move(buf_); }

 private:
  std::vector<std::uint8_t> buf_;
};

}  // namespace hecnn::wire
