#include "nn/model/pgm.h"

#include <cmath>
#include <string>

#include "nn/model/model.h"

namespace hecnn::nn {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Skips whitespace and comments, then reads a decimal field of at most 5 digits.
int header_field(std::string_view b, std::size_t& at, const char* what) {
  while (at < b.size()) {
    if (is_space(b[at])) {
      ++at;
    } else if (b[at] == '#') {
      while (at < b.size() && b[at] != '\n') ++at;
    } else {
      break;
    }
  }
  if (at >= b.size()) throw ModelError(std::string("PGM header ends before the ") + what);
  long v = 0;
  std::size_t digits = 0;
  while (at < b.size() && b[at] >= '0' && b[at] <= '9') {
    if (++digits > 5) throw ModelError(std::string("PGM ") + what + " is too large");
    v = v * 10 + (b[at] - '0');
    ++at;
  }
  if (digits == 0) throw ModelError(std::string("PGM ") + what + " is not a number");
  return int(v);
}

}  // namespace

GrayImage parse_pgm(std::string_view b) {
  if (b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) {
    throw ModelError("PNG is not supported; convert to binary PGM (e.g. `convert in.png -depth 8 out.pgm`)");
  }
  if (b.size() < 2 || b[0] != 'P' || b[1] != '5') throw ModelError("not a binary PGM (P5) file");
  std::size_t at = 2;
  if (at < b.size() && !is_space(b[at]) && b[at] != '#') throw ModelError("not a binary PGM (P5) file");
  GrayImage img;
  img.width = header_field(b, at, "width");
  img.height = header_field(b, at, "height");
  const int maxval = header_field(b, at, "maxval");
  if (img.width < 1 || img.height < 1 || img.width > kMaxPgmSide || img.height > kMaxPgmSide) {
    throw ModelError("PGM size " + std::to_string(img.width) + "x" + std::to_string(img.height) + " is outside 1.." +
                     std::to_string(kMaxPgmSide));
  }
  if (maxval < 1) throw ModelError("PGM maxval must be at least 1");
  if (maxval > 255) throw ModelError("16-bit PGM (maxval > 255) is not supported");
  if (at >= b.size() || !is_space(b[at])) throw ModelError("PGM header must end with one whitespace byte before the pixels");
  ++at;
  const std::size_t need = std::size_t(img.width) * std::size_t(img.height);
  if (b.size() - at < need) {
    throw ModelError("truncated PGM: " + std::to_string(need) + " pixel bytes expected, " + std::to_string(b.size() - at) + " present");
  }
  img.pixels.assign(b.begin() + std::ptrdiff_t(at), b.begin() + std::ptrdiff_t(at + need));
  if (maxval != 255)
    for (auto& p : img.pixels) {
      if (p > maxval) throw ModelError("PGM pixel value " + std::to_string(p) + " exceeds maxval " + std::to_string(maxval));
      p = std::uint8_t(std::lround(double(p) * 255.0 / maxval));
    }
  return img;
}

}  // namespace hecnn::nn
