// Image files as model input (`hecnn infer --image`, the client, the Python package).
//
// decode_image reads binary PGM (pgm.h), PNG (Debian libpng, simplified API) and JPEG (Debian
// libjpeg-turbo) into 8-bit gray: colour is converted to luminance (PNG: libpng's sRGB
// coefficients; JPEG: the Y channel), transparency is composited onto white, 16-bit samples are
// reduced to 8. Width and height are read from the header and checked (kMaxImageSide,
// kMaxImagePixels) before any pixel buffer is allocated; a truncated, corrupt or unsupported
// file (CMYK JPEG, APNG animation is read as its first frame) throws ModelError naming the
// problem. A build without libpng / libjpeg says so in the error.
//
// mnist_preprocess converts a digit drawn at any size, either polarity, into an MNIST image
// the way MNIST was made (LeCun, Cortes, Burges: "size normalized to fit in a 20x20 pixel box
// while preserving their aspect ratio ... centered in a 28x28 image by computing the center of
// mass of the pixels, and translating the image so as to position this point at the center"):
//   1. polarity: MNIST is light ink on black. If the image's border (its outermost rows and
//      columns) is on average lighter than mid-gray, the image is inverted;
//   2. background: the border's median level is subtracted (clamped at 0), so paper that is
//      gray rather than white does not count as ink;
//   3. the ink's bounding box (pixels above 10% of the brightest) is cropped and resampled
//      with area averaging (anti-aliased, like NIST's normalization) so that its longer side is
//      20 pixels, the shorter side keeping the aspect ratio (at least 1 pixel);
//   4. the 20x20-box image is placed in a 28x28 black field so that its intensity-weighted
//      centre of mass falls on pixel (14, 14) (row, column; shifts rounded to whole pixels);
//   5. levels are rescaled so the brightest pixel is 255.
// An image without ink (all one level) throws ModelError. The steps are in docs/inference.md.
#pragma once

#include "nn/model/model.h"
#include "nn/model/pgm.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hecnn::nn {

inline constexpr int kMaxImageSide = 16384;
inline constexpr std::size_t kMaxImagePixels = std::size_t(1) << 26;

enum class ImageFormat { pgm, png, jpeg, unknown };
ImageFormat sniff_image(std::string_view bytes);
const char* image_format_name(ImageFormat f);
bool png_supported();
bool jpeg_supported();

GrayImage decode_image(std::string_view bytes);

// What mnist_preprocess did (for reports and tests).
struct MnistPreprocessInfo {
  bool inverted = false;        // dark ink on light paper was turned around
  int background = 0;           // level subtracted (after inversion)
  int box_x = 0, box_y = 0, box_w = 0, box_h = 0;  // ink bounding box in the source
  int scaled_w = 0, scaled_h = 0;                  // its size after normalization (longer side 20)
  double com_row = 0, com_col = 0;                 // centre of mass in the 28x28 result
};

GrayImage mnist_preprocess(const GrayImage& image, MnistPreprocessInfo* info = nullptr);

// An image file's bytes as a model's raw input (`hecnn infer --image`, the client, Python).
// preprocess: "auto" (a PGM of the model's size as it is; any other image converted by
// mnist_preprocess), "mnist" (always converted) or "none" (as it is). want: the model's input
// shape; without it (the client: the models live on the holders) auto takes a PGM as it is
// and converts any other image, and none takes every image as it is. Throws ModelError for a
// file that does not decode, std::invalid_argument for an unknown mode or an image that does
// not fit the model (the message names the sizes).
std::vector<std::uint8_t> image_to_input(std::string_view bytes, const std::optional<Shape>& want, const std::string& preprocess);

}  // namespace hecnn::nn
