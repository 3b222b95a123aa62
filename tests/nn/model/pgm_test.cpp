// Binary PGM parsing (nn/model/pgm.h): well-formed files and each malformed header the
// hardening issue found (a long comment with no pixels used to read past the buffer).
#include "nn/model/pgm.h"

#include <gtest/gtest.h>

#include <string>

#include "nn/model/model.h"

namespace hecnn::nn {
namespace {

std::string pgm(const std::string& header, std::size_t pixels, char value = '\x07') { return header + std::string(pixels, value); }

std::string error_of(const std::string& bytes) {
  try {
    parse_pgm(bytes);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(Pgm, ParsesHeaderCommentsAndPixels) {
  const auto img = parse_pgm(pgm("P5\n# made by a test\n3 2\n# another\n255\n", 6));
  EXPECT_EQ(img.width, 3);
  EXPECT_EQ(img.height, 2);
  ASSERT_EQ(img.pixels.size(), 6u);
  EXPECT_EQ(img.pixels[5], 7);
  // Trailing bytes are ignored; maxval < 255 rescales.
  const auto small = parse_pgm(pgm("P5 2 1 15 ", 3, '\x0f'));
  EXPECT_EQ(small.pixels, (std::vector<std::uint8_t>{255, 255}));
}

TEST(Pgm, RefusesMalformedFilesNamingTheProblem) {
  struct Case {
    std::string bytes, want;
  };
  const Case cases[] = {
      {"P5\n#" + std::string(5000, 'c'), "header ends before the width"},  // long comment, no pixels
      {"P5\n28 28\n255\n", "truncated PGM"},
      {pgm("P5\n28 28\n255\n", 783), "784 pixel bytes expected, 783 present"},
      {pgm("P6\n2 2\n255\n", 12), "not a binary PGM"},
      {pgm("P5\n2 2\n65535\n", 8), "16-bit"},
      {pgm("P5\n0 2\n255\n", 8), "outside 1..4096"},
      {pgm("P5\n99999 2\n255\n", 8), "outside 1..4096"},
      {pgm("P5\n9999999 2\n255\n", 8), "too large"},
      {pgm("P5\n2 x\n255\n", 8), "height is not a number"},
      {"P5\n2 2\n255", "one whitespace byte"},
      {pgm("P5\n2 1\n7\n", 2, '\x09'), "exceeds maxval"},
      {"\x89PNG\r\n\x1a\nrest", "PNG is not supported"},
      {"", "not a binary PGM"},
  };
  for (const auto& c : cases) EXPECT_NE(error_of(c.bytes).find(c.want), std::string::npos) << c.want << ": " << error_of(c.bytes);
}

}  // namespace
}  // namespace hecnn::nn
