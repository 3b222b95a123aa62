// Binary PGM (P5) images, the single-image input of `hecnn infer --image`.
//
// Contract: "P5", whitespace and '#' comments (to the end of the line), width, height
// and maxval (1..255; 16-bit PGM is refused), exactly one whitespace byte, then
// width x height bytes (trailing bytes are ignored). Every size is checked against the
// bytes present before anything is read or allocated; anything else throws ModelError
// naming the problem. Values are rescaled to 0..255 when maxval < 255.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace hecnn::nn {

struct GrayImage {
  int width = 0, height = 0;
  std::vector<std::uint8_t> pixels;  // row-major, width * height
};

// Largest width or height accepted (the networks here take 28x28 or 32x32).
inline constexpr int kMaxPgmSide = 4096;

GrayImage parse_pgm(std::string_view bytes);

}  // namespace hecnn::nn
