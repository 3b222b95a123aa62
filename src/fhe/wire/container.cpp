#include "fhe/wire/container.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "fhe/wire/error.h"

namespace hecnn::wire {

std::string_view to_string(Compression c) {
  switch (c) {
    case Compression::none: return "none";
    case Compression::zlib: return "zlib";
    case Compression::zstd: return "zstd";
  }
  return "unknown";
}

Compression compression_from_string(std::string_view name) {
  if (name == "none") return Compression::none;
  if (name == "zlib") return Compression::zlib;
  if (name == "zstd") return Compression::zstd;
  throw std::invalid_argument("unknown compression '" + std::string(name) +
                              "' (expected none, zlib or zstd)");
}

std::string to_string(Version v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor);
}

Header read_header(ByteReader& r) {
  const std::size_t at = r.position();
  const auto magic = r.u16("header magic");
  if (magic != kMagic) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "wrong magic 0x%04X at offset %zu (expected 0xA15E)", magic, at);
    r.fail(buf);
  }
  const auto header_size = r.u8("header size");
  if (header_size != kHeaderSize) {
    r.fail("header size byte is " + std::to_string(header_size) + " (expected 16)");
  }
  Header h;
  h.version.major = r.u8("version major");
  h.version.minor = r.u8("version minor");
  if (h.version.major == 3) {
    r.fail("SEAL 3.x format (version " + to_string(h.version) +
           ") is not supported; save with SEAL 4.0 or 4.1");
  }
  if (h.version != kVersion40 && h.version != kVersion41) {
    r.fail("unsupported version " + to_string(h.version) + " (supported: 4.0, 4.1)");
  }
  const auto compr = r.u8("compression mode");
  if (compr > 2) r.fail("unknown compression mode " + std::to_string(compr) + " (expected 0, 1 or 2)");
  h.compression = static_cast<Compression>(compr);
  const auto reserved = r.u16("header reserved");
  if (reserved != 0) r.fail("header reserved field is " + std::to_string(reserved) + " (expected 0)");
  h.size = r.u64("header size field");
  if (h.size < kHeaderSize) r.fail("object size " + std::to_string(h.size) + " is below the 16-byte header");
  return h;
}

void write_header(ByteWriter& w, const Header& h) {
  w.u16(kMagic);
  w.u8(static_cast<std::uint8_t>(kHeaderSize));
  w.u8(h.version.major);
  w.u8(h.version.minor);
  w.u8(static_cast<std::uint8_t>(h.compression));
  w.u16(0);
  w.u64(h.size);
}

std::uint64_t compressed_bound(std::uint64_t n, Compression c) {
  switch (c) {
    case Compression::none: return n;
    // deflate stored blocks: 5 bytes per 16 KiB block + zlib header/trailer; be generous.
    case Compression::zlib: return n + n / 1000 + (n >> 12) + 64;
    // zstd raw blocks: 3 bytes per 128 KiB block + frame header/checksum; generous.
    case Compression::zstd: return n + n / 1000 + (n >> 8) + 64;
  }
  return n;
}

namespace {

std::size_t initial_capacity(std::size_t in_size, std::size_t max_out) {
  const std::size_t guess = in_size > std::numeric_limits<std::size_t>::max() / 4 ? max_out : in_size * 4;
  return std::min<std::size_t>(max_out + 1, std::max<std::size_t>(guess, 1 << 16));
}

void grow(std::vector<std::uint8_t>& out, std::size_t max_out) {
  const std::size_t cap = std::min<std::size_t>(max_out + 1, std::max<std::size_t>(out.size() * 2, 1 << 16));
  out.resize(cap);
}

std::string beyond(std::string_view what, std::size_t max_out, std::string_view limit) {
  return std::string(what) + " beyond the maximum " + std::to_string(max_out) + " bytes (" + std::string(limit) + ")";
}

std::vector<std::uint8_t> inflate_zlib(std::span<const std::uint8_t> in, std::size_t max_out,
                                       std::string_view object, std::string_view limit) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) throw std::runtime_error("zlib: inflateInit failed");
  std::vector<std::uint8_t> out(initial_capacity(in.size(), max_out));
  std::size_t produced = 0, consumed = 0;
  int rc = Z_OK;
  while (true) {
    if (produced == out.size()) {
      if (out.size() > max_out) break;
      grow(out, max_out);
    }
    const std::size_t in_chunk = std::min<std::size_t>(in.size() - consumed, 1u << 30);
    const std::size_t out_chunk = std::min<std::size_t>(out.size() - produced, 1u << 30);
    zs.next_in = const_cast<Bytef*>(in.data() + consumed);
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = out.data() + produced;
    zs.avail_out = static_cast<uInt>(out_chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    consumed += in_chunk - zs.avail_in;
    produced += out_chunk - zs.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR && zs.avail_out != 0) break;  // input exhausted
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
  }
  const char* msg = zs.msg;
  inflateEnd(&zs);
  if (produced > max_out) {
    fail(object, beyond("zlib data inflates", max_out, limit));
  }
  if (rc != Z_STREAM_END) {
    if (rc == Z_OK || rc == Z_BUF_ERROR) fail(object, "zlib stream is truncated");
    fail(object, std::string("zlib stream is corrupt: ") + (msg ? msg : "error " + std::to_string(rc)));
  }
  if (consumed != in.size()) {
    fail(object, std::to_string(in.size() - consumed) + " trailing bytes after the zlib stream");
  }
  out.resize(produced);
  return out;
}

std::vector<std::uint8_t> inflate_zstd(std::span<const std::uint8_t> in, std::size_t max_out,
                                       std::string_view object, std::string_view limit) {
  // A frame that declares its size is refused before anything is inflated when
  // that size is too large, and otherwise gets exactly that buffer; a frame
  // that does not is inflated into a growing buffer checked as it grows.
  const unsigned long long declared = ZSTD_getFrameContentSize(in.data(), in.size());
  const bool known = declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR;
  if (known && declared > max_out) {
    fail(object, beyond("zstd frame declares " + std::to_string(declared) + " bytes,", max_out, limit));
  }
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  if (!dctx) throw std::runtime_error("zstd: ZSTD_createDCtx failed");
  std::vector<std::uint8_t> out(known ? std::max<std::size_t>(declared, 1) : initial_capacity(in.size(), max_out));
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  std::size_t produced = 0;
  std::size_t ret = 1;
  std::string error;
  while (true) {
    if (produced == out.size()) {
      if (out.size() > max_out) break;
      grow(out, max_out);
    }
    ZSTD_outBuffer ob{out.data() + produced, out.size() - produced, 0};
    const std::size_t before_in = ib.pos;
    ret = ZSTD_decompressStream(dctx, &ob, &ib);
    produced += ob.pos;
    if (ZSTD_isError(ret)) {
      error = ZSTD_getErrorName(ret);
      break;
    }
    if (ret == 0) break;                                  // frame complete
    if (ib.pos == ib.size && ob.pos == 0 && ib.pos == before_in) break;  // no progress: truncated
    if (ib.pos == ib.size && ob.pos < ob.size) break;     // input exhausted, frame not complete
  }
  ZSTD_freeDCtx(dctx);
  if (produced > max_out) {
    fail(object, beyond("zstd data inflates", max_out, limit));
  }
  if (!error.empty()) fail(object, "zstd frame is corrupt: " + error);
  if (ret != 0) fail(object, "zstd frame is truncated");
  if (ib.pos != ib.size) {
    fail(object, std::to_string(ib.size - ib.pos) + " trailing bytes after the zstd frame");
  }
  out.resize(produced);
  return out;
}

}  // namespace

std::vector<std::uint8_t> decompress(std::span<const std::uint8_t> in, Compression c,
                                     std::size_t max_out, std::string_view object, std::string_view limit) {
  switch (c) {
    case Compression::none:
      if (in.size() > max_out) fail(object, beyond("data is", max_out, limit));
      return {in.begin(), in.end()};
    case Compression::zlib: return inflate_zlib(in, max_out, object, limit);
    case Compression::zstd: return inflate_zstd(in, max_out, object, limit);
  }
  fail(object, "unknown compression");
}

std::vector<std::uint8_t> compress(std::span<const std::uint8_t> data, Compression c) {
  switch (c) {
    case Compression::none: return {data.begin(), data.end()};
    case Compression::zlib: {
      z_stream zs{};
      if (deflateInit(&zs, Z_DEFAULT_COMPRESSION) != Z_OK) throw std::runtime_error("zlib: deflateInit failed");
      std::vector<std::uint8_t> out(deflateBound(&zs, static_cast<uLong>(data.size())));
      zs.next_in = const_cast<Bytef*>(data.data());
      zs.avail_in = static_cast<uInt>(data.size());
      zs.next_out = out.data();
      zs.avail_out = static_cast<uInt>(out.size());
      const int rc = deflate(&zs, Z_FINISH);
      const std::size_t n = zs.total_out;
      deflateEnd(&zs);
      if (rc != Z_STREAM_END) throw std::runtime_error("zlib: deflate failed");
      out.resize(n);
      return out;
    }
    case Compression::zstd: {
      std::vector<std::uint8_t> out(ZSTD_compressBound(data.size()));
      const std::size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
      if (ZSTD_isError(n)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(n));
      out.resize(n);
      return out;
    }
  }
  throw std::invalid_argument("unknown compression");
}

Envelope open_envelope(std::span<const std::uint8_t> bytes, std::string_view object,
                       std::uint64_t max_size, std::string_view limit) {
  max_size = std::max<std::uint64_t>(max_size, kHeaderSize);
  ByteReader r(bytes, std::string(object));
  Envelope e;
  e.header = read_header(r);
  const std::uint64_t stored = e.header.size;
  if (stored > bytes.size()) {
    r.fail("truncated: header claims " + std::to_string(stored) + " bytes, " +
           std::to_string(bytes.size()) + " available");
  }
  const std::uint64_t stored_max = compressed_bound(max_size, e.header.compression);
  if (stored > stored_max) {
    r.fail("stored size " + std::to_string(stored) + " exceeds the maximum " + std::to_string(stored_max) + " (" +
           std::string(limit) + ")");
  }
  e.consumed = static_cast<std::size_t>(stored);
  auto payload = bytes.subspan(kHeaderSize, e.consumed - kHeaderSize);
  if (e.header.compression == Compression::none) {
    e.body = payload;
  } else {
    e.inflated = decompress(payload, e.header.compression,
                            static_cast<std::size_t>(max_size - kHeaderSize), object, limit);
    e.body = e.inflated;
  }
  return e;
}

void begin_object(ByteWriter& w, Version version) {
  write_header(w, Header{version, Compression::none, 0});
}

std::vector<std::uint8_t> finish_object(ByteWriter&& w, const WriteOptions& opt) {
  std::vector<std::uint8_t> buf = w.take();
  if (buf.size() < kHeaderSize) throw std::logic_error("finish_object: no header");
  if (opt.compression == Compression::none) {
    ByteWriter h;
    write_header(h, Header{opt.version, Compression::none, buf.size()});
    std::copy(h.buffer().begin(), h.buffer().end(), buf.begin());
    return buf;
  }
  auto packed = compress(std::span<const std::uint8_t>(buf).subspan(kHeaderSize), opt.compression);
  ByteWriter out;
  out.reserve(kHeaderSize + packed.size());
  write_header(out, Header{opt.version, opt.compression, kHeaderSize + packed.size()});
  out.bytes(packed);
  return out.take();
}

void write_nested_header(ByteWriter& w, Version version, std::uint64_t size) {
  write_header(w, Header{version, Compression::none, size});
}

Header read_nested_header(ByteReader& r, std::string_view record) {
  const std::size_t at = r.position();
  Header h;
  try {
    h = read_header(r);
  } catch (const FormatError& e) {
    const std::string what = e.what();
    r.fail(std::string(record) + " record at offset " + std::to_string(at) + ": " +
           what.substr(std::min(what.size(), r.object().size() + 2)));
  }
  if (h.compression != Compression::none) {
    r.fail(std::string(record) + " record at offset " + std::to_string(at) +
           " is compressed (nested records must use compression 0)");
  }
  return h;
}

void read_nested_header(ByteReader& r, std::string_view record, std::uint64_t expected_size) {
  const std::size_t at = r.position();
  const Header h = read_nested_header(r, record);
  if (h.size != expected_size) {
    r.fail(std::string(record) + " record at offset " + std::to_string(at) + " claims size " +
           std::to_string(h.size) + " (expected " + std::to_string(expected_size) + ")");
  }
}

}  // namespace hecnn::wire
