// Files of SEAL objects for the wire subcommands (inspect, seal-eval,
// seal-params). Reading checks the file's size against a bound before a byte
// is read (the bound comes from the parameters: the largest object they allow,
// compressed); writing goes to FILE.tmp and renames, so a failed command never
// leaves a half-written file in place of an existing one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "fhe/wire/container.h"

namespace hecnn::app {

inline std::vector<std::uint8_t> read_wire_file(const std::string& path, std::uint64_t max_bytes,
                                                std::string_view what,
                                                std::string_view why = "the largest such object for these parameters") {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw std::runtime_error(std::string(what) + " " + path + ": cannot read (" + ec.message() + ")");
  if (size > max_bytes) {
    throw std::runtime_error(std::string(what) + " " + path + ": " + std::to_string(size) +
                             " bytes is more than the limit of " + std::to_string(max_bytes) + " bytes (" +
                             std::string(why) + ")");
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(std::string(what) + " " + path + ": cannot open");
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  f.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (static_cast<std::uint64_t>(f.gcount()) != size) {
    throw std::runtime_error(std::string(what) + " " + path + ": short read");
  }
  return bytes;
}

// The stored size of an object of at most `max_object` bytes, any compression.
inline std::uint64_t stored_bound(std::uint64_t max_object) {
  return std::max(wire::compressed_bound(max_object, wire::Compression::zlib),
                  wire::compressed_bound(max_object, wire::Compression::zstd));
}

inline void write_wire_file(const std::string& path, std::span<const std::uint8_t> bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("cannot create " + tmp);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw std::runtime_error("cannot write " + tmp + " (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw std::runtime_error("cannot rename " + tmp + " to " + path + " (" + ec.message() + ")");
}

}  // namespace hecnn::app
