// Internal to hecnn_compiler: the little-endian field codec and the framing shared by the
// plan files (plan_io.h: "HECNNPLN") and the packed plan files (packed_io.h: "HECNNPKD"):
//   8 bytes magic, u32 version, u32 flags (0), u64 payload length P, P bytes, BLAKE2b-256
//   of everything before it.
// Readers never allocate beyond what the remaining bytes allow (In::count) and check the
// digest before the payload is parsed.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fhe/wire/bytes.h"
#include "nn/model/model.h"

namespace hecnn::nn::compiler::detail {

inline constexpr std::size_t kFrameHeaderBytes = 24, kFrameDigestBytes = 32;
inline constexpr std::size_t kMaxString = std::size_t(1) << 16;

struct Out {
  wire::ByteWriter w;
  void i32(std::int32_t v) { w.u32(std::uint32_t(v)); }
  void i64(std::int64_t v) { w.u64(std::uint64_t(v)); }
  void f64(double v) { w.f64(v); }
  void b(bool v) { w.u8(v ? 1 : 0); }
  void count(std::size_t n) { w.u64(n); }
  void str(const std::string& s) {
    w.u32(std::uint32_t(s.size()));
    w.bytes(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
  }
  void shape(const Shape& s) {
    i32(s.c);
    i32(s.h);
    i32(s.w);
  }
  void f64s(const std::vector<double>& v) {
    count(v.size());
    for (double x : v) f64(x);
  }
  void u64s(const std::vector<std::uint64_t>& v) {
    count(v.size());
    for (auto x : v) w.u64(x);
  }
};

struct In {
  wire::ByteReader r;
  std::int32_t i32(std::string_view f) { return std::int32_t(r.u32(f)); }
  std::int64_t i64(std::string_view f) { return std::int64_t(r.u64(f)); }
  double f64(std::string_view f) { return r.f64(f); }
  bool b(std::string_view f) {
    const auto v = r.u8(f);
    if (v > 1) r.fail("field '" + std::string(f) + "' is " + std::to_string(v) + ", not 0 or 1");
    return v == 1;
  }
  // A count of elements of at least `min_bytes` each: never more than the bytes left allow.
  std::size_t count(std::string_view f, std::size_t min_bytes, std::size_t max = SIZE_MAX) {
    const std::uint64_t n = r.u64(f);
    if (n > max) r.fail("field '" + std::string(f) + "' = " + std::to_string(n) + " exceeds the limit of " + std::to_string(max));
    if (min_bytes > 0 && n > r.remaining() / min_bytes)
      r.fail("field '" + std::string(f) + "' = " + std::to_string(n) + " needs more bytes than the " + std::to_string(r.remaining()) +
             " left");
    return std::size_t(n);
  }
  std::string str(std::string_view f) {
    const std::uint32_t n = r.u32(f);
    if (n > kMaxString) r.fail("field '" + std::string(f) + "' is " + std::to_string(n) + " bytes, more than " + std::to_string(kMaxString));
    const auto s = r.bytes(n, f);
    return std::string(reinterpret_cast<const char*>(s.data()), s.size());
  }
  Shape shape(std::string_view f) {
    Shape s;
    s.c = i32(f);
    s.h = i32(f);
    s.w = i32(f);
    if (s.c < 1 || s.h < 1 || s.w < 1 || s.c > kMaxDim || s.h > kMaxDim || s.w > kMaxDim)
      r.fail("field '" + std::string(f) + "' has a dimension out of range");
    return s;
  }
  std::vector<double> f64s(std::string_view f) {
    std::vector<double> v(count(f, 8));
    for (auto& x : v) x = f64(f);
    return v;
  }
  std::vector<std::uint64_t> u64s(std::string_view f, std::size_t max) {
    std::vector<std::uint64_t> v(count(f, 8, max));
    for (auto& x : v) x = r.u64(f);
    return v;
  }
};


// 128-bit secure NTT prime chain for N (special prime last); PlanError naming `what`.
void check_coeff_chain(std::size_t n, const std::vector<std::uint64_t>& q, const char* what);

// Lower-case hex of bytes; the digest a framed file ends with, in hex (plan ids).
std::string to_hex(const std::uint8_t* p, std::size_t n);
std::string framed_digest_hex(const std::vector<std::uint8_t>& framed);

// Starts a framed file (magic, version, flags, payload length to patch).
void begin_framed(Out& o, const char magic[8], std::uint32_t version);
// Patches the payload length and appends the digest; returns the file's bytes.
std::vector<std::uint8_t> finish_framed(Out& o);
// Checks a framed file (size, magic, version, flags, length, digest) and returns its
// payload. Throws PlanError("<what>: ...") naming the problem.
std::span<const std::uint8_t> open_framed(std::span<const std::uint8_t> bytes, const char magic[8], std::uint32_t version, const char* what,
                                          const char* magic_name);
// The same for a reader of versions min_version .. version; `got` is the file's.
std::span<const std::uint8_t> open_framed(std::span<const std::uint8_t> bytes, const char magic[8], std::uint32_t min_version,
                                          std::uint32_t version, const char* what, const char* magic_name, std::uint32_t& got);
// The whole file, after checking its size against `max_bytes`; atomic replacement on write.
std::vector<std::uint8_t> read_file_bounded(const std::string& path, std::size_t max_bytes);
void write_file_atomic(const std::string& path, const std::vector<std::uint8_t>& bytes);

}  // namespace hecnn::nn::compiler::detail
