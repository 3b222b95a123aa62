#include "fhe/wire/bytes.h"

#include <bit>
#include <cstring>

#include "fhe/wire/error.h"

static_assert(std::endian::native == std::endian::little,
              "hecnn::wire assumes a little-endian host (SEAL's format is little-endian)");

namespace hecnn::wire {

void fail(std::string_view object, std::string_view message) {
  std::string m(object);
  m += ": ";
  m += message;
  throw FormatError(m);
}

ByteReader::ByteReader(std::span<const std::uint8_t> bytes, std::string object)
    : data_(bytes), object_(std::move(object)) {}

void ByteReader::fail(std::string_view message) const { wire::fail(object_, message); }

void ByteReader::need(std::size_t n, std::string_view field) const {
  if (n > remaining()) {
    fail("truncated: field '" + std::string(field) + "' needs " + std::to_string(n) +
         " bytes at offset " + std::to_string(pos_) + ", " + std::to_string(remaining()) +
         " left");
  }
}

std::uint8_t ByteReader::u8(std::string_view field) {
  need(1, field);
  return data_[pos_++];
}

std::uint16_t ByteReader::u16(std::string_view field) {
  need(2, field);
  std::uint16_t v;
  std::memcpy(&v, data_.data() + pos_, 2);
  pos_ += 2;
  return v;
}

std::uint32_t ByteReader::u32(std::string_view field) {
  need(4, field);
  std::uint32_t v;
  std::memcpy(&v, data_.data() + pos_, 4);
  pos_ += 4;
  return v;
}

std::uint64_t ByteReader::u64(std::string_view field) {
  need(8, field);
  std::uint64_t v;
  std::memcpy(&v, data_.data() + pos_, 8);
  pos_ += 8;
  return v;
}

double ByteReader::f64(std::string_view field) {
  return std::bit_cast<double>(u64(field));
}

std::span<const std::uint8_t> ByteReader::bytes(std::size_t n, std::string_view field) {
  need(n, field);
  auto s = data_.subspan(pos_, n);
  pos_ += n;
  return s;
}

void ByteReader::u64_array(std::span<std::uint64_t> out, std::string_view field) {
  if (out.size() > remaining() / 8) {
    fail("truncated: field '" + std::string(field) + "' needs " + std::to_string(out.size()) +
         " words at offset " + std::to_string(pos_) + ", " + std::to_string(remaining()) +
         " bytes left");
  }
  std::memcpy(out.data(), data_.data() + pos_, out.size() * 8);
  pos_ += out.size() * 8;
}

void ByteReader::expect_end() const {
  if (remaining() != 0) {
    fail(std::to_string(remaining()) + " unexpected trailing bytes at offset " +
         std::to_string(pos_));
  }
}

void ByteWriter::u16(std::uint16_t v) {
  std::uint8_t b[2];
  std::memcpy(b, &v, 2);
  buf_.insert(buf_.end(), b, b + 2);
}

void ByteWriter::u32(std::uint32_t v) {
  std::uint8_t b[4];
  std::memcpy(b, &v, 4);
  buf_.insert(buf_.end(), b, b + 4);
}

void ByteWriter::u64(std::uint64_t v) {
  std::uint8_t b[8];
  std::memcpy(b, &v, 8);
  buf_.insert(buf_.end(), b, b + 8);
}

void ByteWriter::f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }

void ByteWriter::u64_array(std::span<const std::uint64_t> words) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(words.data());
  buf_.insert(buf_.end(), p, p + words.size() * 8);
}

void ByteWriter::patch_u64(std::size_t offset, std::uint64_t v) {
  if (offset + 8 > buf_.size()) throw std::logic_error("ByteWriter::patch_u64 out of range");
  std::memcpy(buf_.data() + offset, &v, 8);
}

}  // namespace hecnn::wire
