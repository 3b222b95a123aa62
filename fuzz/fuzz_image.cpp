// libFuzzer target: image files (nn::decode_image: PGM, PNG via libpng, JPEG via libjpeg-turbo,
// what `hecnn infer --image` reads) and the MNIST conversion of whatever decodes.
// A ModelError is the expected outcome for malformed input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nn/model/image.h"
#include "nn/model/model.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto img = hecnn::nn::decode_image(std::string_view(reinterpret_cast<const char*>(data), size));
    if (img.pixels.size() != std::size_t(img.width) * std::size_t(img.height)) __builtin_trap();
    if (img.pixels.size() <= (std::size_t(1) << 20)) {
      const auto m = hecnn::nn::mnist_preprocess(img);
      if (m.pixels.size() != 28 * 28) __builtin_trap();
    }
  } catch (const hecnn::nn::ModelError&) {
  }
  return 0;
}
