// libFuzzer target: model files (nn::parse_model, what `hecnn infer --model`
// and `model-info` read). First byte bit 0 set: the rest is a file without its
// checksum and the target appends the right one, so mutations reach the parser
// instead of stopping at the checksum. A ModelError is the expected outcome.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "nn/model/model.h"
#include "nn/model/model_io.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    const std::string signed_bytes = (data[0] & 1) ? hecnn::nn::with_model_checksum(rest) : std::string(rest);
    const auto m = hecnn::nn::parse_model(signed_bytes);
    (void)hecnn::nn::describe(m);
  } catch (const hecnn::nn::ModelError&) {
  }
  return 0;
}
