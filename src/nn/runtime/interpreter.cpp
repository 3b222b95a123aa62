#include "nn/runtime/interpreter.h"

#include <algorithm>

#include <sys/resource.h>

namespace hecnn::nn::runtime {

std::string layer_of(const std::string& label) {
  if (label.rfind("ensemble", 0) == 0) return "ensemble";
  const auto a = label.find('/');
  if (a == std::string::npos) return label;
  const auto b = label.find('/', a + 1);
  return b == std::string::npos ? label : label.substr(0, b);
}

namespace detail {

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

Liveness::Liveness(const compiler::Program& prog, bool keep_all)
    : last_(prog.instrs.size(), 0), keep_(prog.instrs.size(), keep_all) {
  for (std::size_t i = 0; i < prog.instrs.size(); ++i)
    for (int t : prog.instrs[i].inputs) last_[std::size_t(t)] = std::max(last_[std::size_t(t)], i);
  for (const auto& o : prog.outputs) keep_[std::size_t(o.tensor)] = true;
}

void add_timing(std::vector<LayerTiming>& timings, const std::string& label, double wall, double cpu, std::size_t outs) {
  const std::string layer = layer_of(label);
  auto it = std::find_if(timings.begin(), timings.end(), [&](const LayerTiming& l) { return l.layer == layer; });
  if (it == timings.end()) {
    timings.push_back({layer, 0, 0, 0});
    it = timings.end() - 1;
  }
  it->seconds += wall;
  it->cpu_seconds += cpu;
  it->ciphertexts_out = outs;
}

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

}  // namespace detail
}  // namespace hecnn::nn::runtime
