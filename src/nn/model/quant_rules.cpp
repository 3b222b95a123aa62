#include "nn/model/quant_rules.h"

#include <algorithm>
#include <cmath>

namespace hecnn::nn {

int weight_exponent(std::span<const double> w, int bits) {
  double m = 0;
  for (double x : w) m = std::max(m, std::fabs(x));
  if (m == 0) return 0;
  const int k = int(std::floor(std::log2((std::ldexp(1.0, bits - 1) - 1) / m)));
  return std::clamp(k, -60, 60);
}

double quantized_raw(std::uint8_t raw, int input_bits) {
  return std::ldexp(double(std::llround(std::ldexp(double(raw), input_bits - 8))), 8 - input_bits);
}

double on_grid(double w, int k) { return std::ldexp(double(std::llround(std::ldexp(w, k))), -k); }

int grid_bits(std::span<const double> w) {
  for (int bits = 2; bits <= 24; ++bits) {
    const int k = weight_exponent(w, bits);
    bool held = true;
    for (double x : w) {
      const double v = std::ldexp(x, k);
      if (v != std::round(v)) {
        held = false;
        break;
      }
    }
    if (held) return bits;
  }
  return 0;
}

}  // namespace hecnn::nn
