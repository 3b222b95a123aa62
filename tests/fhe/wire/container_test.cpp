// Byte reader/writer, 16-byte header, compression and its bounds.
#include "fhe/wire/container.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "fhe/wire/bomb_util.h"
#include "fhe/wire/error.h"
#include "fhe/wire/records.h"

namespace hecnn::wire {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const FormatError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ByteReader, ReadsLittleEndianAndNamesTruncatedField) {
  ByteWriter w;
  w.u8(0x12);
  w.u16(0x3456);
  w.u64(0x0102030405060708ull);
  w.f64(1.5);
  const auto& b = w.buffer();
  ASSERT_EQ(b.size(), 19u);
  EXPECT_EQ(b[1], 0x56);
  EXPECT_EQ(b[3], 0x08);
  ByteReader r(b, "thing");
  EXPECT_EQ(r.u8("a"), 0x12);
  EXPECT_EQ(r.u16("b"), 0x3456);
  EXPECT_EQ(r.u64("c"), 0x0102030405060708ull);
  EXPECT_EQ(r.f64("d"), 1.5);
  EXPECT_EQ(error_of([&] { r.u8("extra"); }),
            "thing: truncated: field 'extra' needs 1 bytes at offset 19, 0 left");
}

std::vector<std::uint8_t> header_bytes(std::uint8_t major, std::uint8_t minor, std::uint8_t compr,
                                       std::uint64_t size, std::uint16_t magic = kMagic) {
  ByteWriter w;
  w.u16(magic);
  w.u8(16);
  w.u8(major);
  w.u8(minor);
  w.u8(compr);
  w.u16(0);
  w.u64(size);
  return w.take();
}

TEST(Header, RoundTripsBothVersions) {
  for (Version v : {kVersion40, kVersion41}) {
    for (Compression c : {Compression::none, Compression::zlib, Compression::zstd}) {
      ByteWriter w;
      write_header(w, Header{v, c, 12345});
      ASSERT_EQ(w.size(), 16u);
      ByteReader r(w.buffer(), "x");
      const Header h = read_header(r);
      EXPECT_EQ(h.version, v);
      EXPECT_EQ(h.compression, c);
      EXPECT_EQ(h.size, 12345u);
    }
  }
}

TEST(Header, RejectsMalformed) {
  auto err = [](std::vector<std::uint8_t> b) {
    return error_of([&] {
      ByteReader r(b, "ciphertext");
      read_header(r);
    });
  };
  EXPECT_EQ(err(header_bytes(4, 1, 0, 16, 0xBEEF)), "ciphertext: wrong magic 0xBEEF at offset 0 (expected 0xA15E)");
  EXPECT_NE(err(header_bytes(3, 6, 0, 16)).find("SEAL 3.x format (version 3.6) is not supported"), std::string::npos);
  EXPECT_NE(err(header_bytes(4, 2, 0, 16)).find("unsupported version 4.2"), std::string::npos);
  EXPECT_NE(err(header_bytes(5, 0, 0, 16)).find("unsupported version 5.0"), std::string::npos);
  EXPECT_NE(err(header_bytes(4, 1, 3, 16)).find("unknown compression mode 3"), std::string::npos);
  EXPECT_NE(err(header_bytes(4, 1, 0, 15)).find("below the 16-byte header"), std::string::npos);
  auto b = header_bytes(4, 1, 0, 16);
  b[6] = 1;
  EXPECT_NE(err(b).find("reserved field is 1"), std::string::npos);
  b = header_bytes(4, 1, 0, 16);
  b[2] = 17;
  EXPECT_NE(err(b).find("header size byte is 17"), std::string::npos);
  b = header_bytes(4, 1, 0, 16);
  b.resize(10);
  EXPECT_NE(err(b).find("truncated: field 'header size field' needs 8 bytes"), std::string::npos);
}

std::vector<std::uint8_t> sample_object(std::size_t words, Version v = kVersion41) {
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> data(words);
  for (auto& x : data) x = rng() % 1000;  // compressible
  ByteWriter w;
  begin_object(w, v);
  write_dynarray(w, v, data);
  return finish_object(std::move(w), WriteOptions{v, Compression::none});
}

TEST(Envelope, CompressionRoundTripsEveryMode) {
  const auto plain = sample_object(5000);
  for (Compression c : {Compression::none, Compression::zlib, Compression::zstd}) {
    ByteWriter w;
    begin_object(w, kVersion40);
    w.bytes(std::span(plain).subspan(16));
    const auto stored = finish_object(std::move(w), WriteOptions{kVersion40, c});
    ByteReader hr(stored, "x");
    const Header h = read_header(hr);
    EXPECT_EQ(h.size, stored.size()) << to_string(c);
    EXPECT_EQ(h.compression, c);
    EXPECT_EQ(h.version, kVersion40);
    if (c != Compression::none) { EXPECT_LT(stored.size(), plain.size()) << to_string(c); }
    const Envelope e = open_envelope(stored, "x", plain.size());
    ASSERT_EQ(e.body.size(), plain.size() - 16);
    EXPECT_TRUE(std::equal(e.body.begin(), e.body.end(), plain.begin() + 16)) << to_string(c);
    EXPECT_EQ(e.consumed, stored.size());
  }
}

TEST(Envelope, RejectsOversizedAndTruncated) {
  const auto plain = sample_object(100);
  EXPECT_NE(error_of([&] { open_envelope(plain, "x", plain.size() - 1); }).find("exceeds the maximum"), std::string::npos);
  auto cut = plain;
  cut.resize(plain.size() - 1);
  EXPECT_NE(error_of([&] { open_envelope(cut, "x", 1 << 20); }).find("truncated: header claims"), std::string::npos);
  // A header claiming 2^63 bytes is refused before anything is allocated.
  auto huge = header_bytes(4, 1, 1, std::uint64_t{1} << 63);
  EXPECT_NE(error_of([&] { open_envelope(huge, "x", 1 << 20); }).find("truncated"), std::string::npos);
}

using testing::enveloped;
using testing::zstd_rle_bomb;

TEST(Envelope, DecompressionBombIsBounded) {
  // 64 MiB of zeros compresses to a few KiB; the parameters allow 1 MiB.
  std::vector<std::uint8_t> zeros(64u << 20, 0);
  const auto z = enveloped(Compression::zlib, compress(zeros, Compression::zlib));
  auto msg = error_of([&] { open_envelope(z, "galois keys", 1 << 20); });
  EXPECT_NE(msg.find("galois keys: zlib data inflates beyond the maximum 1048560 bytes (the largest such object"),
            std::string::npos) << msg;
  // A zstd frame that declares its 64 MiB is refused before inflating.
  const auto declared = enveloped(Compression::zstd, compress(zeros, Compression::zstd));
  msg = error_of([&] { open_envelope(declared, "galois keys", 1 << 20); });
  EXPECT_NE(msg.find("galois keys: zstd frame declares 67108864 bytes, beyond the maximum"), std::string::npos) << msg;
  // One that does not is stopped as it grows, naming where the limit came from.
  const auto bomb = enveloped(Compression::zstd, zstd_rle_bomb(std::uint64_t{1} << 30));
  EXPECT_LT(bomb.size(), 40000u);
  msg = error_of([&] { open_envelope(bomb, "object", 1 << 20, "the inspection limit"); });
  EXPECT_NE(msg.find("object: zstd data inflates beyond the maximum 1048560 bytes (the inspection limit)"),
            std::string::npos) << msg;
}

TEST(Envelope, UndeclaredZstdFramesWithinTheLimitInflate) {
  // The RLE frame is a valid zstd frame: within the limit it inflates to zeros.
  const auto ok = enveloped(Compression::zstd, zstd_rle_bomb(std::uint64_t{1} << 20));
  const auto e = open_envelope(ok, "x", (1 << 20) + 16);
  ASSERT_EQ(e.body.size(), 1u << 20);
  EXPECT_TRUE(std::all_of(e.body.begin(), e.body.end(), [](std::uint8_t b) { return b == 0; }));
}

TEST(Envelope, RejectsCorruptTruncatedAndTrailingStreams) {
  const auto plain = sample_object(2000);
  for (Compression c : {Compression::zlib, Compression::zstd}) {
    const auto packed = compress(std::span(plain).subspan(16), c);
    auto make = [&](std::vector<std::uint8_t> payload) {
      ByteWriter w;
      write_header(w, Header{kVersion41, c, 16 + payload.size()});
      w.bytes(payload);
      return w.take();
    };
    auto shorter = packed;
    shorter.resize(packed.size() / 2);
    EXPECT_NE(error_of([&] { open_envelope(make(shorter), "x", plain.size()); }).find("truncated"), std::string::npos)
        << to_string(c);
    auto longer = packed;
    longer.push_back(0);
    longer.push_back(0);
    const auto trailing = error_of([&] { open_envelope(make(longer), "x", plain.size() + 64); });
    EXPECT_TRUE(trailing.find("trailing bytes") != std::string::npos || trailing.find("corrupt") != std::string::npos)
        << trailing;
    auto bad = packed;
    for (std::size_t i = 0; i < 6; ++i) bad[i] ^= 0x5A;
    EXPECT_NE(error_of([&] { open_envelope(make(bad), "x", plain.size()); }), "(no error)") << to_string(c);
  }
}

TEST(Records, DynArrayAndModulus) {
  ByteWriter w;
  const std::vector<std::uint64_t> words{1, 2, 3};
  write_dynarray(w, kVersion41, words);
  write_modulus(w, kVersion41, 1032193);
  ASSERT_EQ(w.size(), dynarray_size(3) + kModulusRecordSize);
  ByteReader r(w.buffer(), "x");
  EXPECT_EQ(read_dynarray(r, "data", 3), words);
  EXPECT_EQ(read_modulus(r, "plain"), 1032193u);
  r.expect_end();
  ByteReader r2(w.buffer(), "x");
  EXPECT_NE(error_of([&] { read_dynarray(r2, "data", 2); }).find("data count 3 exceeds the maximum 2"), std::string::npos);
  // A DynArray whose header size disagrees with its count.
  auto b = w.buffer();
  b[8] += 8;
  ByteReader r3(b, "x");
  EXPECT_NE(error_of([&] { read_dynarray(r3, "data", 10); }).find("claims size 56 but holds 3 words"), std::string::npos);
  // Modulus 1 and 62-bit moduli are invalid.
  ByteWriter m;
  write_modulus(m, kVersion41, std::uint64_t{1} << 61);
  ByteReader r4(m.buffer(), "parameters");
  EXPECT_NE(error_of([&] { read_modulus(r4, "q_0"); }).find("is invalid"), std::string::npos);
}

TEST(Records, NestedRecordMustBeUncompressed) {
  ByteWriter w;
  write_header(w, Header{kVersion41, Compression::zlib, 24});
  w.u64(5);
  ByteReader r(w.buffer(), "parameters");
  EXPECT_NE(error_of([&] { read_modulus(r, "q_0"); }).find("is compressed"), std::string::npos);
}

}  // namespace
}  // namespace hecnn::wire
