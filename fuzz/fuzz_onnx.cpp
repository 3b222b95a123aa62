// libFuzzer target: ONNX graphs (nn::import_onnx_bytes, what `hecnn model-import-onnx` and
// hecnn.import_onnx read), the constant folder included. A ModelError is the expected outcome.
#include <cstddef>
#include <cstdint>
#include <string>

#include "nn/model/model.h"
#include "nn/model/onnx_import.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto m = hecnn::nn::import_onnx_bytes(std::string(reinterpret_cast<const char*>(data), size));
    hecnn::nn::validate(m);  // an imported model is a valid model
  } catch (const hecnn::nn::ModelError&) {
  }
  return 0;
}
