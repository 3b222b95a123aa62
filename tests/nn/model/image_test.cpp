// Image input (nn/model/image.h): PNG / JPEG decoding and the MNIST preprocessing, checked
// against MNIST's own definition (ink normalized into a 20x20 box keeping the aspect ratio,
// centre of mass at (14, 14) of a 28x28 field) and against real MNIST digits redrawn the way
// a user would (black ink on white paper, larger, off-centre).
#include "nn/model/image.h"

#include "nn/model/dataset.h"
#include "nn/model/forward.h"
#include "nn/model/model_io.h"
#include "nn/test_models.h"

#include <gtest/gtest.h>

#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#if HECNN_TEST_PNG && HECNN_TEST_JPEG
#include <zlib.h>

#include "nn/image_files.h"
#endif

namespace hecnn::nn {
namespace {

std::string error_of(const std::string& bytes) {
  try {
    decode_image(bytes);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "(accepted)";
}

#if HECNN_TEST_PNG && HECNN_TEST_JPEG
using testing::encode_jpeg_gray;
using testing::encode_png;
#endif

// A 28x28 digit redrawn as a user would: scaled by `zoom` (nearest), dark ink on white
// paper, at (left, top) of a width x height canvas.
GrayImage redraw(const std::uint8_t* digit, int zoom, int width, int height, int left, int top) {
  GrayImage g;
  g.width = width;
  g.height = height;
  g.pixels.assign(std::size_t(width) * height, 255);
  for (int y = 0; y < 28 * zoom; ++y)
    for (int x = 0; x < 28 * zoom; ++x)
      g.pixels[std::size_t(top + y) * width + std::size_t(left + x)] = std::uint8_t(255 - digit[(y / zoom) * 28 + x / zoom]);
  return g;
}

// MNIST's definition, measured on a 28x28 result: ink bounding box and centre of mass.
struct Measured {
  int box_w = 0, box_h = 0;
  double com_row = 0, com_col = 0;
};
Measured measure(const std::vector<std::uint8_t>& px) {
  Measured m;
  int x0 = 28, y0 = 28, x1 = -1, y1 = -1;
  double mass = 0;
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x) {
      const double v = px[std::size_t(y) * 28 + x];
      if (v > 0) x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
      mass += v, m.com_row += v * y, m.com_col += v * x;
    }
  m.box_w = x1 - x0 + 1, m.box_h = y1 - y0 + 1;
  m.com_row /= mass, m.com_col /= mass;
  return m;
}

TEST(MnistPreprocess, RectangleIsNormalizedIntoTheBoxAndCentred) {
  // A 60 x 30 light bar on a 200 x 100 black canvas, far from the centre.
  GrayImage g;
  g.width = 200, g.height = 100;
  g.pixels.assign(200 * 100, 0);
  for (int y = 5; y < 35; ++y)
    for (int x = 130; x < 190; ++x) g.pixels[std::size_t(y) * 200 + x] = 200;
  MnistPreprocessInfo info;
  const GrayImage out = mnist_preprocess(g, &info);
  ASSERT_EQ(out.width, 28);
  ASSERT_EQ(out.height, 28);
  EXPECT_FALSE(info.inverted);
  EXPECT_EQ(info.box_x, 130);
  EXPECT_EQ(info.box_w, 60);
  EXPECT_EQ(info.box_h, 30);
  EXPECT_EQ(info.scaled_w, 20);
  EXPECT_EQ(info.scaled_h, 10);
  const Measured m = measure(out.pixels);
  EXPECT_EQ(m.box_w, 20);
  EXPECT_EQ(m.box_h, 10);
  EXPECT_NEAR(m.com_row, 14.0, 0.5);
  EXPECT_NEAR(m.com_col, 14.0, 0.5);
  EXPECT_EQ(out.pixels[14 * 28 + 14], 255);  // levels rescaled: the bar is full white
}

TEST(MnistPreprocess, DarkInkOnGrayPaperIsInvertedAndTheBackgroundRemoved) {
  GrayImage g;
  g.width = 50, g.height = 80;
  g.pixels.assign(50 * 80, 170);  // gray paper
  for (int y = 10; y < 70; ++y)
    for (int x = 20; x < 26; ++x) g.pixels[std::size_t(y) * 50 + x] = 20;  // a dark stroke: "1"
  MnistPreprocessInfo info;
  const GrayImage out = mnist_preprocess(g, &info);
  EXPECT_TRUE(info.inverted);
  EXPECT_EQ(info.background, 255 - 170);
  const Measured m = measure(out.pixels);
  EXPECT_EQ(m.box_h, 20);
  EXPECT_EQ(m.box_w, 2);
  EXPECT_EQ(out.pixels[0], 0);  // the paper is black
  EXPECT_NEAR(m.com_row, 14.0, 0.5);
  EXPECT_NEAR(m.com_col, 14.0, 0.5);
}

TEST(MnistPreprocess, BlankImagesAreRefused) {
  GrayImage g;
  g.width = g.height = 10;
  g.pixels.assign(100, 255);
  try {
    mnist_preprocess(g);
    ADD_FAILURE();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("no digit"), std::string::npos) << e.what();
  }
}

TEST(ImageFiles, MalformedFilesAreClearErrors) {
  EXPECT_NE(error_of("GIF89a....").find("not a PNG, JPEG or binary PGM"), std::string::npos);
  EXPECT_NE(error_of("P2 2 2 255 1 2 3 4").find("binary (P5)"), std::string::npos);
  EXPECT_NE(error_of("").find("not a PNG"), std::string::npos);
  EXPECT_EQ(sniff_image("\x89PNG\r\n\x1a\n"), ImageFormat::png);
  EXPECT_EQ(sniff_image("\xff\xd8\xff\xe0"), ImageFormat::jpeg);
  if (!png_supported()) {
    EXPECT_NE(error_of("\x89PNG\r\n\x1a\nxxxx").find("not supported by this build"), std::string::npos);
  }
}

#if HECNN_TEST_PNG && HECNN_TEST_JPEG
TEST(ImageFiles, PngGrayRgbAndAlphaDecodeToGray) {
  ASSERT_TRUE(png_supported());
  const std::vector<std::uint8_t> gray = {0, 64, 128, 255, 10, 20};
  GrayImage g = decode_image(encode_png(3, 2, PNG_FORMAT_GRAY, gray));
  EXPECT_EQ(g.width, 3);
  EXPECT_EQ(g.height, 2);
  EXPECT_EQ(g.pixels, gray);
  // RGB: pure colours to luminance; equal channels stay their level.
  const std::vector<std::uint8_t> rgb = {200, 200, 200, 255, 0, 0, 0, 0, 255};
  g = decode_image(encode_png(3, 1, PNG_FORMAT_RGB, rgb));
  EXPECT_NEAR(g.pixels[0], 200, 1);
  EXPECT_GT(g.pixels[1], g.pixels[2]);  // red is lighter than blue
  // Transparent pixels are white paper; opaque black ink stays black.
  const std::vector<std::uint8_t> ga = {0, 0, 0, 255};
  g = decode_image(encode_png(2, 1, PNG_FORMAT_GA, ga));
  EXPECT_EQ(g.pixels[0], 255);
  EXPECT_EQ(g.pixels[1], 0);
}

TEST(ImageFiles, TruncatedAndOversizedPngAreRefused) {
  const std::string good = encode_png(4, 4, PNG_FORMAT_GRAY, std::vector<std::uint8_t>(16, 7));
  EXPECT_NE(error_of(good.substr(0, good.size() - 20)).find("PNG"), std::string::npos);
  EXPECT_NE(error_of(good.substr(0, 12)).find("PNG"), std::string::npos);
  // An IHDR that claims 100000 x 100000 (checksum fixed up): refused from the header,
  // before any pixel memory is allocated.
  std::string big = good;
  const auto put32 = [&](std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) big[at + std::size_t(i)] = char((v >> (24 - 8 * i)) & 0xff);
  };
  put32(16, 100000);
  put32(20, 100000);
  std::uint32_t crc = std::uint32_t(crc32(0, reinterpret_cast<const Bytef*>(big.data() + 12), 17));
  put32(29, crc);
  const std::string e = error_of(big);
  EXPECT_TRUE(e.find("larger than") != std::string::npos || e.find("too large") != std::string::npos) << e;
}

// The definition on real digits: the first 200 MNIST test digits, redrawn 3x larger in dark
// ink on white at an off-centre position, come back with the ink in a 20-pixel box and the
// centre of mass at (14, 14), close to the MNIST originals, and classified as the originals
// are by a shipped model.
TEST(MnistPreprocess, RedrawnMnistDigitsComeBackAsMnist) {
  const std::string root = data_root();
  HECNN_REQUIRE_OR_SKIP(std::filesystem::exists(root + "/mnist/t10k-images-idx3-ubyte"), "the MNIST test set");
  const std::string model_path = (std::filesystem::path(root).parent_path() / "models" / "default" / "member0.hecnn").string();
  HECNN_REQUIRE_OR_SKIP(std::filesystem::exists(model_path), model_path);
  const Dataset test = load_named_dataset("mnist", false);
  const Model model = read_model(model_path);
  const int n = 200;
  int same = 0, right_orig = 0, right_redrawn = 0;
  double corr_sum = 0;
  for (int i = 0; i < n; ++i) {
    const std::uint8_t* digit = test.image(std::size_t(i));
    const GrayImage drawn = redraw(digit, 3, 140, 110, 10 + (i % 7) * 5, 5 + (i % 5) * 4);
    const GrayImage back = decode_image(encode_png(drawn.width, drawn.height, PNG_FORMAT_GRAY, drawn.pixels));
    ASSERT_EQ(back.pixels, drawn.pixels);  // PNG is lossless
    MnistPreprocessInfo info;
    const GrayImage out = mnist_preprocess(back, &info);
    EXPECT_TRUE(info.inverted);
    const Measured m = measure(out.pixels);
    EXPECT_EQ(std::max(info.scaled_w, info.scaled_h), 20) << "digit " << i;
    EXPECT_LE(std::max(m.box_w, m.box_h), 21) << "digit " << i;  // faint anti-aliased edges
    EXPECT_NEAR(m.com_row, 14.0, 0.5) << "digit " << i;
    EXPECT_NEAR(m.com_col, 14.0, 0.5) << "digit " << i;
    // Closeness to the original (Pearson correlation of the pixels).
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    for (int p = 0; p < 784; ++p) {
      const double a = digit[p], b = out.pixels[std::size_t(p)];
      sa += a, sb += b, saa += a * a, sbb += b * b, sab += a * b;
    }
    const double corr = (784 * sab - sa * sb) / std::sqrt((784 * saa - sa * sa) * (784 * sbb - sb * sb));
    corr_sum += corr;
    const auto p0 = argmax(forward(model, prepare_input(model, std::span<const std::uint8_t>(digit, 784))));
    const auto p1 = argmax(forward(model, prepare_input(model, out.pixels)));
    same += p0 == p1;
    right_orig += p0 == test.labels[std::size_t(i)];
    right_redrawn += p1 == test.labels[std::size_t(i)];
  }
  std::printf("200 redrawn MNIST digits: mean correlation with the originals %.3f, same prediction %d/200, "
              "accuracy %d/200 (originals %d/200)\n",
              corr_sum / n, same, right_redrawn, right_orig);
  EXPECT_GT(corr_sum / n, 0.85);
  EXPECT_GE(same, 190);
  EXPECT_GE(right_redrawn, right_orig - 8);
}
#endif

#if HECNN_TEST_PNG && HECNN_TEST_JPEG
TEST(ImageFiles, JpegDecodesAndTruncationIsRefused) {
  ASSERT_TRUE(jpeg_supported());
  std::vector<std::uint8_t> px(64 * 48);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x) px[std::size_t(y) * 64 + x] = std::uint8_t(x * 4);
  const std::string jpg = encode_jpeg_gray(64, 48, px, 95);
  const GrayImage g = decode_image(jpg);
  ASSERT_EQ(g.width, 64);
  ASSERT_EQ(g.height, 48);
  int worst = 0;
  for (std::size_t i = 0; i < px.size(); ++i) worst = std::max(worst, std::abs(int(g.pixels[i]) - int(px[i])));
  EXPECT_LE(worst, 12);  // lossy, quality 95
  EXPECT_NE(error_of(jpg.substr(0, jpg.size() / 2)).find("JPEG"), std::string::npos);
  EXPECT_NE(error_of(jpg.substr(0, 4)).find("JPEG"), std::string::npos);
}
#endif

}  // namespace
}  // namespace hecnn::nn
