// The SEAL 4.x container: the 16-byte header, compression, nested records.
//
// Outer object:  header | body            (compression 0)
//                header | zlib stream     (compression 1, RFC 1950)
//                header | zstd frame      (compression 2)
// The header's size field is the total size *as stored* (compressed size for
// compressed objects). Inflated, the stream is the uncompressed object minus
// its header. Nested records (Modulus, DynArray, PRNG info, each PublicKey in a
// key-switching key) carry their own header with compression 0.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fhe/wire/bytes.h"

namespace hecnn::wire {

inline constexpr std::uint16_t kMagic = 0xA15E;
inline constexpr std::size_t kHeaderSize = 16;

enum class Compression : std::uint8_t { none = 0, zlib = 1, zstd = 2 };
std::string_view to_string(Compression c);
// Parses "none" / "zlib" / "zstd"; throws std::invalid_argument otherwise.
Compression compression_from_string(std::string_view name);

struct Version {
  std::uint8_t major = 4;
  std::uint8_t minor = 1;
  friend auto operator<=>(const Version&, const Version&) = default;
};
inline constexpr Version kVersion40{4, 0};
inline constexpr Version kVersion41{4, 1};
std::string to_string(Version v);

struct Header {
  Version version = kVersion41;
  Compression compression = Compression::none;
  std::uint64_t size = 0;  // total size as stored, header included
};

// Reads and validates 16 header bytes: magic 0xA15E, header size 16, version
// 4.0 or 4.1 (3.x refused with a message saying so), compression 0..2,
// reserved 0, size >= 16.
Header read_header(ByteReader& r);
void write_header(ByteWriter& w, const Header& h);

// How a writer encodes an object: which header version to echo to the client
// and which compression to use.
struct WriteOptions {
  Version version = kVersion41;
  Compression compression = Compression::none;
};

// An opened outer object: the validated header and the uncompressed body
// (the bytes after the header). For compression none `body` points into the
// input; otherwise into `inflated`.
struct Envelope {
  Header header;
  std::vector<std::uint8_t> inflated;
  std::span<const std::uint8_t> body;
  std::size_t consumed = 0;  // bytes of the input taken by this object (header.size)
};

// Opens the object at the start of `bytes`. `max_size` bounds the size of the
// *uncompressed* object (header included); it must come from the loaded
// parameters. Checked before anything is allocated:
//   - header.size <= bytes.size()            (else "truncated")
//   - uncompressed: header.size <= max_size
//   - compressed: header.size <= compression bound of max_size, and inflating
//     stops with an error as soon as the output would exceed max_size - 16
//     (decompression bombs), the stream must end exactly at header.size; a zstd
//     frame that declares a larger content size is refused before inflating.
// Peak memory for hostile input stays below 1.5 x max_size (the growing buffer).
// `limit` says where max_size came from; it ends the error message.
inline constexpr std::string_view kParametersLimit =
    "the largest such object for these parameters: a decompression bomb, or an object for other parameters";
Envelope open_envelope(std::span<const std::uint8_t> bytes, std::string_view object,
                       std::uint64_t max_size, std::string_view limit = kParametersLimit);

// Writer side: begin_object writes a placeholder header; finish_object patches
// the size and compresses the body if asked. Returns the finished bytes.
void begin_object(ByteWriter& w, Version version);
std::vector<std::uint8_t> finish_object(ByteWriter&& w, const WriteOptions& opt);

// Nested record headers (compression 0, own size).
void write_nested_header(ByteWriter& w, Version version, std::uint64_t size);
// Reads a nested header (must be uncompressed) and returns it.
Header read_nested_header(ByteReader& r, std::string_view record);
// Same, and checks it describes exactly `expected_size` bytes.
void read_nested_header(ByteReader& r, std::string_view record, std::uint64_t expected_size);

// Compression helpers (exposed for tests and tools).
std::vector<std::uint8_t> compress(std::span<const std::uint8_t> data, Compression c);
// Inflates exactly one stream/frame filling all of `in`; throws if the output
// would exceed `max_out` bytes or the stream is malformed / truncated / followed
// by trailing bytes.
std::vector<std::uint8_t> decompress(std::span<const std::uint8_t> in, Compression c,
                                     std::size_t max_out, std::string_view object,
                                     std::string_view limit = kParametersLimit);
// Largest stored size a compressor may produce for `n` input bytes.
std::uint64_t compressed_bound(std::uint64_t n, Compression c);

}  // namespace hecnn::wire
