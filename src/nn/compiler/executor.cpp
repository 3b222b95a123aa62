#include "nn/compiler/executor.h"

#include <sys/resource.h>

namespace hecnn::nn::compiler {

std::string layer_of(const std::string& label) {
  if (label.rfind("ensemble", 0) == 0) return "ensemble";
  const auto a = label.find('/');
  if (a == std::string::npos) return label;
  const auto b = label.find('/', a + 1);
  return b == std::string::npos ? label : label.substr(0, b);
}

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
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

namespace detail {

Instr restrict_linear(const Instr& ins, const std::vector<std::uint32_t>& els) {
  Instr sub;
  sub.op = ins.op;
  sub.label = ins.label;
  sub.member = ins.member;
  sub.inputs = ins.inputs;
  sub.size = els.size();
  sub.level = ins.level;
  sub.rescale = ins.rescale;
  sub.factor = ins.factor;
  sub.scale = ins.scale;
  sub.parts = ins.parts;
  sub.depth = ins.depth;
  sub.weight_bits = ins.weight_bits;
  sub.input_mult = ins.input_mult;
  sub.rows.reserve(els.size());
  for (std::uint32_t o : els) sub.rows.push_back(ins.rows.at(o));
  if (!ins.bias.empty()) {
    sub.bias.reserve(els.size());
    for (std::uint32_t o : els) sub.bias.push_back(ins.bias.at(o));
  }
  if (!ins.bias_real.empty()) {
    sub.bias_real.reserve(els.size());
    for (std::uint32_t o : els) sub.bias_real.push_back(ins.bias_real.at(o));
  }
  return sub;
}

}  // namespace detail
}  // namespace hecnn::nn::compiler
