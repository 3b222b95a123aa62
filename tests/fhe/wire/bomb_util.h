// Decompression bombs for the reader tests: a zstd frame that does not declare
// its size, made of RLE blocks (4 bytes per 128 KiB of output, 1 GiB in 32 KiB),
// the shape of a real bomb, and a SEAL header around a payload.
#pragma once

#include <cstdint>
#include <vector>

#include "fhe/wire/container.h"

namespace hecnn::wire::testing {

inline std::vector<std::uint8_t> zstd_rle_bomb(std::uint64_t inflated) {
  std::vector<std::uint8_t> f = {0x28, 0xB5, 0x2F, 0xFD,  // magic
                                 0x00,                    // no content size, no checksum
                                 0x38};                   // window 2^17
  constexpr std::uint32_t block = 1u << 17;
  for (std::uint64_t done = 0; done < inflated; done += block) {
    const std::uint32_t last = done + block >= inflated ? 1 : 0;
    const std::uint32_t h = (block << 3) | (1u << 1) | last;  // RLE block of `block` bytes
    f.insert(f.end(), {std::uint8_t(h), std::uint8_t(h >> 8), std::uint8_t(h >> 16), 0x00});
  }
  return f;
}

inline std::vector<std::uint8_t> enveloped(Compression c, const std::vector<std::uint8_t>& payload) {
  ByteWriter w;
  write_header(w, Header{kVersion41, c, 16 + payload.size()});
  w.bytes(payload);
  return w.take();
}

}  // namespace hecnn::wire::testing
