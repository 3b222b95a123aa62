// Writes PNG and JPEG files in memory with libpng / libjpeg themselves, for the image tests
// (tests/nn/model/image_test.cpp) and the fuzz seeds (fuzz/make_corpus.cpp). The includer
// links libpng / libjpeg. Throws std::runtime_error if the library refuses.
#pragma once

#include <cstdint>
#include <cstdio>  // before jpeglib.h (FILE)
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <png.h>

namespace hecnn::nn::testing {

// format: PNG_FORMAT_GRAY, _GA, _RGB, _RGBA; px holds width * height * channels bytes.
inline std::string encode_png(int width, int height, std::uint32_t format, const std::vector<std::uint8_t>& px) {
  png_image im{};
  im.version = PNG_IMAGE_VERSION;
  im.width = png_uint_32(width);
  im.height = png_uint_32(height);
  im.format = format;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&im, nullptr, &size, 0, px.data(), 0, nullptr)) throw std::runtime_error(im.message);
  std::string out(size, '\0');
  if (!png_image_write_to_memory(&im, out.data(), &size, 0, px.data(), 0, nullptr)) throw std::runtime_error(im.message);
  out.resize(size);
  return out;
}

// One-channel JPEG at `quality` (1..100).
inline std::string encode_jpeg_gray(int width, int height, const std::vector<std::uint8_t>& px, int quality) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buf, &size);
  c.image_width = JDIMENSION(width);
  c.image_height = JDIMENSION(height);
  c.input_components = 1;
  c.in_color_space = JCS_GRAYSCALE;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<std::uint8_t*>(px.data()) + std::size_t(c.next_scanline) * std::size_t(width);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  std::string out(reinterpret_cast<char*>(buf), size);
  jpeg_destroy_compress(&c);
  std::free(buf);
  return out;
}

}  // namespace hecnn::nn::testing
