#include "nn/model/image.h"

#include "nn/model/model.h"

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#ifndef HECNN_HAVE_PNG
#define HECNN_HAVE_PNG 0
#endif
#ifndef HECNN_HAVE_JPEG
#define HECNN_HAVE_JPEG 0
#endif

#if HECNN_HAVE_PNG
#include <png.h>
#endif
#if HECNN_HAVE_JPEG
#include <jpeglib.h>
#endif

namespace hecnn::nn {
namespace {

[[noreturn]] void bad(const std::string& what) { throw ModelError(what); }

[[maybe_unused]] void check_size(std::size_t w, std::size_t h, const char* format) {
  if (w < 1 || h < 1) bad(std::string(format) + " image has no pixels");
  if (w > std::size_t(kMaxImageSide) || h > std::size_t(kMaxImageSide) || w * h > kMaxImagePixels)
    bad(std::string(format) + " image is " + std::to_string(w) + "x" + std::to_string(h) + ", larger than this reader accepts (" +
        std::to_string(kMaxImageSide) + " per side, " + std::to_string(kMaxImagePixels) + " pixels)");
}

#if HECNN_HAVE_PNG
GrayImage decode_png(std::string_view bytes) {
  png_image im;
  std::memset(&im, 0, sizeof im);
  im.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&im, bytes.data(), bytes.size()))
    bad(std::string("PNG: ") + im.message);
  const std::size_t w = im.width, h = im.height;
  try {
    check_size(w, h, "PNG");
  } catch (...) {
    png_image_free(&im);
    throw;
  }
  im.format = PNG_FORMAT_GRAY;
  GrayImage out;
  out.width = int(w);
  out.height = int(h);
  out.pixels.resize(w * h);
  png_color white{255, 255, 255};  // transparency is composited onto white paper
  if (!png_image_finish_read(&im, &white, out.pixels.data(), png_int_32(w), nullptr)) {
    const std::string msg = im.message;
    png_image_free(&im);
    bad("PNG: " + msg);
  }
  png_image_free(&im);
  return out;
}
#endif

#if HECNN_HAVE_JPEG
struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

extern "C" void jpeg_on_error(j_common_ptr c) {
  auto* e = reinterpret_cast<JpegError*>(c->err);
  (*c->err->format_message)(c, e->message);
  std::longjmp(e->jump, 1);
}
// Warnings (level -1: "Premature end of JPEG file", corrupt data) are errors here: a
// truncated file must not become a half-gray image.
extern "C" void jpeg_on_message(j_common_ptr c, int level) {
  if (level < 0) jpeg_on_error(c);
}

// C-style on purpose: between setjmp and longjmp only trivially destructible locals live.
// Returns 0 on success with *pixels malloc'ed (caller frees); otherwise an error in msg.
int decode_jpeg_raw(const unsigned char* data, unsigned long size, unsigned char** pixels, int* width, int* height,
                    char* msg, std::size_t msg_size) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  unsigned char* volatile buf = nullptr;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_on_error;
  err.mgr.emit_message = jpeg_on_message;
  err.message[0] = 0;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    std::free(buf);
    std::snprintf(msg, msg_size, "%s", err.message);
    return 1;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, size);
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.image_width < 1 || cinfo.image_height < 1 || cinfo.image_width > unsigned(kMaxImageSide) ||
      cinfo.image_height > unsigned(kMaxImageSide) ||
      std::size_t(cinfo.image_width) * cinfo.image_height > kMaxImagePixels) {
    std::snprintf(msg, msg_size, "image is %ux%u, larger than this reader accepts (%d per side, %zu pixels)",
                  unsigned(cinfo.image_width), unsigned(cinfo.image_height), kMaxImageSide, kMaxImagePixels);
    jpeg_destroy_decompress(&cinfo);
    return 1;
  }
  cinfo.out_color_space = JCS_GRAYSCALE;  // the Y channel of YCbCr; CMYK is refused by libjpeg
  cinfo.mem->max_memory_to_use = 512L << 20;
  jpeg_start_decompress(&cinfo);
  const std::size_t w = cinfo.output_width, h = cinfo.output_height;
  buf = static_cast<unsigned char*>(std::malloc(w * h));
  if (!buf) {
    std::snprintf(msg, msg_size, "out of memory");
    jpeg_destroy_decompress(&cinfo);
    return 1;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = buf + std::size_t(cinfo.output_scanline) * w;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  *pixels = buf;
  *width = int(w);
  *height = int(h);
  return 0;
}

GrayImage decode_jpeg(std::string_view bytes) {
  unsigned char* px = nullptr;
  int w = 0, h = 0;
  char msg[JMSG_LENGTH_MAX + 128];
  if (decode_jpeg_raw(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<unsigned long>(bytes.size()), &px, &w,
                      &h, msg, sizeof msg) != 0)
    bad(std::string("JPEG: ") + msg);
  GrayImage out;
  out.width = w;
  out.height = h;
  out.pixels.assign(px, px + std::size_t(w) * std::size_t(h));
  std::free(px);
  return out;
}
#endif

// Area-averaging resampling along one axis: n source samples onto m >= 1 outputs. Returns,
// per output, the (index, weight) pairs whose weights sum to 1.
std::vector<std::vector<std::pair<int, double>>> area_weights(int n, int m) {
  std::vector<std::vector<std::pair<int, double>>> w(static_cast<std::size_t>(m));
  const double step = double(n) / m;
  for (int o = 0; o < m; ++o) {
    const double a = o * step, b = (o + 1) * step;
    for (int i = int(std::floor(a)); i < n && i < b; ++i) {
      const double overlap = std::min(b, double(i + 1)) - std::max(a, double(i));
      if (overlap > 0) w[std::size_t(o)].push_back({i, overlap / step});
    }
  }
  return w;
}

}  // namespace

ImageFormat sniff_image(std::string_view b) {
  if (b.size() >= 2 && b[0] == 'P' && b[1] == '5') return ImageFormat::pgm;
  if (b.size() >= 8 && std::memcmp(b.data(), "\x89PNG\r\n\x1a\n", 8) == 0) return ImageFormat::png;
  if (b.size() >= 3 && std::memcmp(b.data(), "\xff\xd8\xff", 3) == 0) return ImageFormat::jpeg;
  return ImageFormat::unknown;
}

const char* image_format_name(ImageFormat f) {
  switch (f) {
    case ImageFormat::pgm: return "PGM";
    case ImageFormat::png: return "PNG";
    case ImageFormat::jpeg: return "JPEG";
    default: return "unknown";
  }
}

bool png_supported() { return HECNN_HAVE_PNG != 0; }
bool jpeg_supported() { return HECNN_HAVE_JPEG != 0; }

GrayImage decode_image(std::string_view bytes) {
  switch (sniff_image(bytes)) {
    case ImageFormat::pgm: return parse_pgm(bytes);
    case ImageFormat::png:
#if HECNN_HAVE_PNG
      return decode_png(bytes);
#else
      bad("PNG is not supported by this build (install libpng-dev and reconfigure)");
#endif
    case ImageFormat::jpeg:
#if HECNN_HAVE_JPEG
      return decode_jpeg(bytes);
#else
      bad("JPEG is not supported by this build (install libjpeg-dev and reconfigure)");
#endif
    default:
      if (bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] >= '1' && bytes[1] <= '7')
        bad("only binary (P5) PGM is supported among the netpbm formats");
      bad("not a PNG, JPEG or binary PGM image");
  }
}

GrayImage mnist_preprocess(const GrayImage& in, MnistPreprocessInfo* info) {
  const int W = in.width, H = in.height;
  if (W < 1 || H < 1 || in.pixels.size() != std::size_t(W) * std::size_t(H)) bad("image has no pixels");
  MnistPreprocessInfo inf;
  // 1. Polarity from the border.
  std::vector<int> border;
  for (int x = 0; x < W; ++x) {
    border.push_back(in.pixels[std::size_t(x)]);
    if (H > 1) border.push_back(in.pixels[std::size_t(H - 1) * W + x]);
  }
  for (int y = 1; y + 1 < H; ++y) {
    border.push_back(in.pixels[std::size_t(y) * W]);
    if (W > 1) border.push_back(in.pixels[std::size_t(y) * W + W - 1]);
  }
  double mean = 0;
  for (int v : border) mean += v;
  mean /= double(border.size());
  inf.inverted = mean > 127.5;
  std::vector<int> v(in.pixels.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = inf.inverted ? 255 - in.pixels[i] : in.pixels[i];
  // 2. Background: the border's median.
  for (int& b : border) b = inf.inverted ? 255 - b : b;
  std::nth_element(border.begin(), border.begin() + std::ptrdiff_t(border.size() / 2), border.end());
  inf.background = border[border.size() / 2];
  int maxv = 0;
  for (int& p : v) {
    p = std::max(0, p - inf.background);
    maxv = std::max(maxv, p);
  }
  if (maxv == 0) bad("the image has no digit: every pixel is at the background level");
  // 3. Bounding box of the ink, normalized into a 20x20 box.
  const double thr = 0.1 * maxv;
  int x0 = W, y0 = H, x1 = -1, y1 = -1;
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      if (v[std::size_t(y) * W + x] > thr) x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
  const int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  inf.box_x = x0, inf.box_y = y0, inf.box_w = bw, inf.box_h = bh;
  const double scale = 20.0 / std::max(bw, bh);
  const int sw = std::clamp(int(std::lround(bw * scale)), 1, 20), sh = std::clamp(int(std::lround(bh * scale)), 1, 20);
  inf.scaled_w = sw, inf.scaled_h = sh;
  const auto wx = area_weights(bw, sw), wy = area_weights(bh, sh);
  std::vector<double> rows(std::size_t(bh) * sw, 0.0), box(std::size_t(sh) * sw, 0.0);
  for (int y = 0; y < bh; ++y)
    for (int o = 0; o < sw; ++o) {
      double s = 0;
      for (auto [i, wt] : wx[std::size_t(o)]) s += wt * v[std::size_t(y0 + y) * W + std::size_t(x0 + i)];
      rows[std::size_t(y) * sw + o] = s;
    }
  for (int o = 0; o < sh; ++o)
    for (int x = 0; x < sw; ++x) {
      double s = 0;
      for (auto [i, wt] : wy[std::size_t(o)]) s += wt * rows[std::size_t(i) * sw + x];
      box[std::size_t(o) * sw + x] = s;
    }
  // 4. Centre of mass onto (14, 14).
  double mass = 0, cy = 0, cx = 0;
  for (int y = 0; y < sh; ++y)
    for (int x = 0; x < sw; ++x) {
      const double m = box[std::size_t(y) * sw + x];
      mass += m, cy += m * y, cx += m * x;
    }
  cy /= mass, cx /= mass;
  const int oy = int(std::lround(14.0 - cy)), ox = int(std::lround(14.0 - cx));
  std::vector<double> field(28 * 28, 0.0);
  double top = 0;
  for (int y = 0; y < sh; ++y)
    for (int x = 0; x < sw; ++x) {
      const int ty = y + oy, tx = x + ox;
      if (ty < 0 || ty >= 28 || tx < 0 || tx >= 28) continue;
      field[std::size_t(ty) * 28 + tx] = box[std::size_t(y) * sw + x];
      top = std::max(top, box[std::size_t(y) * sw + x]);
    }
  // 5. Levels: brightest pixel 255.
  GrayImage out;
  out.width = out.height = 28;
  out.pixels.resize(28 * 28);
  double m2 = 0, ry = 0, rx = 0;
  for (std::size_t i = 0; i < field.size(); ++i) {
    const int p = top > 0 ? int(std::lround(255.0 * field[i] / top)) : 0;
    out.pixels[i] = std::uint8_t(std::clamp(p, 0, 255));
    m2 += p, ry += double(p) * double(i / 28), rx += double(p) * double(i % 28);
  }
  inf.com_row = m2 > 0 ? ry / m2 : 0;
  inf.com_col = m2 > 0 ? rx / m2 : 0;
  if (info) *info = inf;
  return out;
}

std::vector<std::uint8_t> image_to_input(std::string_view bytes, const std::optional<Shape>& want_shape, const std::string& preprocess) {
  if (preprocess != "auto" && preprocess != "mnist" && preprocess != "none")
    throw std::invalid_argument("preprocess '" + preprocess + "': use auto, mnist or none");
  const ImageFormat format = sniff_image(bytes);
  GrayImage img = decode_image(bytes);
  if (!want_shape) {
    if (preprocess == "mnist" || (preprocess == "auto" && format != ImageFormat::pgm)) img = mnist_preprocess(img);
    return std::move(img.pixels);
  }
  const Shape want = *want_shape;
  const bool mnist_model = want == Shape{1, 28, 28};
  const bool model_size = want.c == 1 && std::size_t(img.width) == std::size_t(want.w) && std::size_t(img.height) == std::size_t(want.h);
  bool convert = preprocess == "mnist" || (preprocess == "auto" && !(format == ImageFormat::pgm && model_size));
  if (convert && !mnist_model) {
    if (preprocess == "mnist") throw std::invalid_argument("--preprocess mnist needs a model that takes 1x28x28 images");
    if (!model_size)
      throw std::invalid_argument("image is " + std::to_string(img.width) + "x" + std::to_string(img.height) + ", the model expects " +
                                  std::to_string(want.w) + "x" + std::to_string(want.h) + " with " + std::to_string(want.c) +
                                  " channel(s); MNIST conversion applies to 1x28x28 models only");
    convert = false;
  }
  if (convert) img = mnist_preprocess(img);
  if (want.c != 1 || std::size_t(img.width) != std::size_t(want.w) || std::size_t(img.height) != std::size_t(want.h))
    throw std::invalid_argument("image is " + std::to_string(img.width) + "x" + std::to_string(img.height) + " gray, the model expects " +
                                std::to_string(want.w) + "x" + std::to_string(want.h) + " with " + std::to_string(want.c) +
                                " channel(s) (--preprocess none takes images as they are)");
  return std::move(img.pixels);
}

}  // namespace hecnn::nn
