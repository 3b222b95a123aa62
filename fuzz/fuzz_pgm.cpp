// libFuzzer target: PGM images (nn::parse_pgm, what `hecnn infer --image` reads).
// A ModelError is the expected outcome for malformed input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nn/model/model.h"
#include "nn/model/pgm.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto img = hecnn::nn::parse_pgm(std::string_view(reinterpret_cast<const char*>(data), size));
    volatile std::size_t sum = 0;
    for (auto p : img.pixels) sum = sum + p;  // every pixel is readable
  } catch (const hecnn::nn::ModelError&) {
  }
  return 0;
}
