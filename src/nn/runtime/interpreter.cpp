#include "nn/runtime/interpreter.h"

namespace hecnn::nn::runtime::detail {

std::vector<EncryptedTensor> collect_outputs(const compiler::Program& prog, std::vector<EncryptedTensor>& val) {
  std::vector<EncryptedTensor> outs;
  for (std::size_t k = 0; k < prog.outputs.size(); ++k) {
    const auto t = std::size_t(prog.outputs[k].tensor);
    bool again = false;
    for (std::size_t m = k + 1; m < prog.outputs.size(); ++m) again |= std::size_t(prog.outputs[m].tensor) == t;
    outs.push_back(again ? val[t] : std::move(val[t]));
  }
  return outs;
}

}  // namespace hecnn::nn::runtime::detail
