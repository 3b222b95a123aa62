// An oracle for the compiler that does not read the compiled program: the float model
// (nn::forward) with a rigorous bound on how far an exact BFV run of its quantized
// program may drift from it, derived only from the quantization rules compiler.h
// states and the bits asked for:
//
//   input     X = round(raw * 2^(bits - 8))               error |X / 2^(bits-8) - raw| * |scale|
//   weights   per layer, the largest power-of-two scale keeping |W| < 2^(bits-1)
//             -> |w - W / 2^k| <= max|w| / (2^(bits-1) - 1); bias rounded at the output scale
//   poly      coefficients c_j (j >= 1) rounded at 2^coeff_bits (-> <= 2^-(coeff_bits+1)
//             once the input scale is >= 1); c_0 rounded at the output scale
//   sum pool  exact
//
// Errors are propagated per element through the float values of the image: a linear
// layer turns (x, e) into sum |w| e + dw * sum (|x| + e) + bias rounding; a polynomial
// into sum |c_j| ((|x| + e)^j - |x|^j) + dc_j (|x| + e)^j. A lowering that is wrong
// (a weight transposed, a bias dropped, a combiner factor off) shows as a score outside
// the bound; a correct one never does (the bound is a worst case, not a statistic).
// Rounding is half away from zero throughout (std::round, as the compiler's std::llround).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "nn/model/forward.h"
#include "nn/model/model.h"

namespace hecnn::nn::testing {

struct QuantBits {
  int input = 5, weight = 6, coeff = 8;
  std::map<std::string, int> layer;  // "m0/conv1" -> weight bits, "m0/act2" -> coefficient bits
  // CKKS programs (ckks_plan.h): real tensors, weights rounded per input to `weight` signed
  // bits of the input's largest weight, each power's coefficient to `coeff` signed bits of
  // itself (relative, not absolute), biases exact.
  bool ckks = false;
  int bits_of(const std::string& name, int fallback) const {
    const auto it = layer.find(name);
    return it == layer.end() ? fallback : it->second;
  }
};

// The float value of every class score and a bound on |quantized - float|.
struct Bounded {
  std::vector<double> value, error;
  double scale_lb = 1;  // a lower bound on the output's fixed-point scale (integers per unit)
};

inline Bounded quantization_bound(const Model& m, std::span<const std::uint8_t> raw, int member, const QuantBits& bits) {
  const std::string prefix = "m" + std::to_string(member) + "/";
  const std::vector<Shape> shapes = output_shapes(m);
  Bounded b;
  b.value = prepare_input(m, raw);
  const double iq = std::ldexp(1.0, bits.input - 8);
  const double in_scale = std::fabs(m.input.scale);
  b.error.resize(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) b.error[i] = std::fabs(std::round(raw[i] * iq) / iq - raw[i]) * in_scale;
  b.scale_lb = iq / in_scale;
  Shape in = m.input.shape;
  bool first_linear = true;
  int conv_i = 0, dense_i = 0, act_i = 0;
  auto abs_plus = [](const std::vector<double>& x, const std::vector<double>& e, double extra) {
    std::vector<double> v(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) v[i] = std::fabs(x[i]) + e[i] + extra;
    return v;
  };
  for (std::size_t li = 0; li < m.layers.size(); ++li) {
    const Layer& layer = m.layers[li];
    const Shape out = shapes[li];
    std::vector<double> x_next = apply_layer(layer, in, b.value), e_next;
    auto linear = [&](auto layer_copy, const std::vector<double>& weight, int wbits) {
      double wmax = 0;
      for (double w : weight) wmax = std::max(wmax, std::fabs(w));
      const double levels = std::ldexp(1.0, wbits - 1) - 1;
      const double dw = wmax / levels;
      // sum |w| e
      auto abs_layer = layer_copy;
      for (auto& w : abs_layer.weight) w = std::fabs(w);
      std::fill(abs_layer.bias.begin(), abs_layer.bias.end(), 0.0);
      e_next = apply_layer(Layer(abs_layer), in, b.error);
      // dw * sum (|x - offset| + e): the first layer's offset is folded into its bias at full precision
      auto dw_layer = abs_layer;
      std::fill(dw_layer.weight.begin(), dw_layer.weight.end(), dw);
      const auto drift = apply_layer(Layer(dw_layer), in, abs_plus(b.value, b.error, first_linear ? std::fabs(m.input.offset) : 0.0));
      const double out_scale_lb = wmax > 0 ? b.scale_lb * levels / (2 * wmax) : b.scale_lb;
      for (std::size_t o = 0; o < e_next.size(); ++o) e_next[o] += drift[o] + (bits.ckks ? 0.0 : 0.5 / out_scale_lb);
      b.scale_lb = out_scale_lb;
      first_linear = false;
    };
    if (const auto* c = std::get_if<Conv2d>(&layer)) {
      linear(*c, c->weight, bits.bits_of(prefix + "conv" + std::to_string(++conv_i), bits.weight));
    } else if (const auto* d = std::get_if<Dense>(&layer)) {
      linear(*d, d->weight, bits.bits_of(prefix + "dense" + std::to_string(++dense_i), bits.weight));
    } else if (std::get_if<SumPool>(&layer)) {
      e_next = apply_layer(layer, in, b.error);
    } else {
      std::vector<double> c = std::get<Poly>(layer).coeffs;
      while (c.size() > 1 && c.back() == 0) c.pop_back();
      const int d = int(c.size()) - 1;
      const bool pure_square = d == 2 && c[0] == 0 && c[1] == 0 && c[2] == 1;
      const int cb = bits.bits_of(prefix + "act" + std::to_string(++act_i), bits.coeff);
      const double s = b.scale_lb;
      // Output scale s^d' 2^cb, d' the degree after dropping top coefficients that round to 0 (>= 2).
      const double out_scale_lb = pure_square ? s * s : std::ldexp(s >= 1 ? std::pow(s, std::min(d, 2)) : std::pow(s, d), cb);
      e_next.resize(b.value.size());
      for (std::size_t i = 0; i < b.value.size(); ++i) {
        const double ax = std::fabs(b.value[i]), e = b.error[i];
        double err = 0;
        if (pure_square) {
          err = 2 * ax * e + e * e;
        } else {
          for (int j = 1; j <= d; ++j) {
            const double dc = bits.ckks ? std::fabs(c[std::size_t(j)]) / (std::ldexp(1.0, cb - 1) - 1)
                                        : 0.5 / (std::ldexp(1.0, cb) * (s >= 1 ? 1.0 : std::pow(s, d - j)));
            err += std::fabs(c[std::size_t(j)]) * (std::pow(ax + e, j) - std::pow(ax, j)) + dc * std::pow(ax + e, j);
          }
          if (!bits.ckks) err += 0.5 / out_scale_lb;
        }
        e_next[i] = err;
      }
      b.scale_lb = out_scale_lb;
    }
    b.value = std::move(x_next);
    b.error = std::move(e_next);
    in = out;
  }
  return b;
}

// The quantized network as compiler.h states the rules, in floats: weights rounded at 2^k
// with k = floor(log2((2^(bits-1) - 1) / max|w|)) (clamped to [-60, 60]), biases and c_0
// rounded at the output scale, c_j (j >= 1) at 2^coeff_bits * s^(d-j) (s the input's scale,
// top coefficients that round to 0 dropped while the degree stays >= 2), pure squares exact.
// Scales are R^p 2^a with R = 1 / input.scale; the input is R 2^(input_bits - 8).
// nn::forward on this model and on quantize_input() differs from an exact BFV run only by
// double rounding: a lowering that indexes, pads, pools, folds or combines differently
// does not.
struct QuantizedModel {
  Model model;
  int p = 1, a = 0;      // output scale R^p 2^a
  double R = 1;
  double scale() const { return std::pow(R, p) * std::ldexp(1.0, a); }
};

inline QuantizedModel quantize_model(const Model& m, int member, const QuantBits& bits) {
  const std::string prefix = "m" + std::to_string(member) + "/";
  QuantizedModel q{m, 1, bits.input - 8, 1.0 / m.input.scale};
  bool first_linear = true;
  int conv_i = 0, dense_i = 0, act_i = 0;
  auto linear = [&](auto& L, int wbits) {
    double wmax = 0;
    for (double w : L.weight) wmax = std::max(wmax, std::fabs(w));
    const int k = wmax == 0 ? 0 : std::clamp(int(std::floor(std::log2((std::ldexp(1.0, wbits - 1) - 1) / wmax))), -60, 60);
    const auto original = L.weight;
    for (auto& w : L.weight) w = std::ldexp(std::round(std::ldexp(w, k)), -k);
    q.a += k;
    const double s_out = q.scale();
    const std::size_t per_out = L.weight.size() / L.bias.size();
    for (std::size_t o = 0; o < L.bias.size(); ++o) {
      double fold = 0, fold_q = 0;  // the input offset times the weights (first layer only)
      if (first_linear && m.input.offset != 0) {
        // Conv: the offset meets the weights inside the image only; forward() pads with 0,
        // the compiler folds offset * (weights over the valid window) per output position.
        // Models with an offset and padding are not used with this oracle.
        for (std::size_t i = 0; i < per_out; ++i) {
          fold += m.input.offset * original[o * per_out + i];
          fold_q += m.input.offset * L.weight[o * per_out + i];
        }
      }
      L.bias[o] = std::round((L.bias[o] + fold) * s_out) / s_out - fold_q;
    }
    first_linear = false;
  };
  for (auto& layer : q.model.layers) {
    if (auto* c = std::get_if<Conv2d>(&layer)) {
      linear(*c, bits.bits_of(prefix + "conv" + std::to_string(++conv_i), bits.weight));
    } else if (auto* d = std::get_if<Dense>(&layer)) {
      linear(*d, bits.bits_of(prefix + "dense" + std::to_string(++dense_i), bits.weight));
    } else if (auto* poly = std::get_if<Poly>(&layer)) {
      auto& c = poly->coeffs;
      const int cb = bits.bits_of(prefix + "act" + std::to_string(++act_i), bits.coeff);
      while (c.size() > 1 && c.back() == 0) c.pop_back();
      if (c.size() == 3 && c[0] == 0 && c[1] == 0 && c[2] == 1) {
        q.p *= 2;
        q.a *= 2;
        continue;
      }
      while (c.size() > 2 && std::round(std::ldexp(c.back(), cb)) == 0) c.pop_back();
      const int deg = int(c.size()) - 1;
      const double s = q.scale();
      for (int j = 1; j <= deg; ++j) {
        const double unit = std::ldexp(std::pow(s, deg - j), cb);
        c[std::size_t(j)] = std::round(c[std::size_t(j)] * unit) / unit;
      }
      q.p *= deg;
      q.a = q.a * deg + cb;
      const double s_out = q.scale();
      c[0] = std::round(c[0] * s_out) / s_out;
    }
  }
  return q;
}

// The model input of raw pixels quantized at input_bits: round(raw * 2^(bits-8)) / 2^(bits-8).
inline std::vector<double> quantize_input(const Model& m, std::span<const std::uint8_t> raw, int input_bits) {
  const double iq = std::ldexp(1.0, input_bits - 8);
  std::vector<double> x(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) x[i] = std::round(raw[i] * iq) / iq * m.input.scale + m.input.offset;
  return x;
}

// The ensemble outputs as the compiler documents them (compiler.h): "mean" is the sum of
// the members' scores, "weighted" sum (w_i / max w) z_i with weights rounded at
// 2^weight_bits, "poly-softmax" sum (2T + z_i)^2 with the shift rounded at the common scale.
enum class OracleCombiner { sum, weighted, poly_softmax };

// Program::Output::combiner ("", "mean", "weighted", "poly-softmax") -> OracleCombiner.
inline OracleCombiner oracle_combiner(const std::string& combiner) {
  if (combiner == "weighted") return OracleCombiner::weighted;
  if (combiner == "poly-softmax") return OracleCombiner::poly_softmax;
  return OracleCombiner::sum;
}

inline Bounded combine_bound(const std::vector<Bounded>& m, OracleCombiner comb, const std::vector<double>& weights,
                             int weight_bits, double temperature) {
  Bounded y;
  const std::size_t classes = m[0].value.size();
  y.value.assign(classes, 0.0);
  y.error.assign(classes, 0.0);
  double wmax = 0, scale_lb = 0;
  for (double w : weights) wmax = std::max(wmax, w);
  for (const auto& b : m) scale_lb = std::max(scale_lb, b.scale_lb);  // the common scale is at least each member's
  const double dq = std::ldexp(0.5, -weight_bits);
  for (std::size_t i = 0; i < m.size(); ++i)
    for (std::size_t c = 0; c < classes; ++c) {
      const double z = m[i].value[c], e = m[i].error[c];
      if (comb == OracleCombiner::sum) {
        y.value[c] += z;
        y.error[c] += e;
      } else if (comb == OracleCombiner::weighted) {
        const double w = weights[i] / wmax;
        y.value[c] += w * z;
        y.error[c] += (w + dq) * e + dq * std::fabs(z);
      } else {
        const double u = 2 * temperature + z, eu = e + 0.5 / scale_lb;
        y.value[c] += u * u;
        y.error[c] += 2 * std::fabs(u) * eu + eu * eu;
      }
    }
  return y;
}

// The quantized ensemble outputs (compiler.h): members aligned at the common scale
// R^max(p) 2^max(a); "weighted" rounds w_i / max w at 2^weight_bits; "poly-softmax"
// rounds the shift 2T at the common scale.
inline std::vector<double> combine_quantized(const std::vector<QuantizedModel>& q, const std::vector<std::vector<double>>& z,
                                             OracleCombiner comb, const std::vector<double>& weights, int weight_bits,
                                             double temperature) {
  int p = 0, a = 0;
  for (const auto& m : q) {
    p = std::max(p, m.p);
    a = std::max(a, m.a);
  }
  const double S = std::pow(q[0].R, p) * std::ldexp(1.0, a);
  double wmax = 0;
  for (double w : weights) wmax = std::max(wmax, w);
  std::vector<double> y(z[0].size(), 0.0);
  for (std::size_t i = 0; i < z.size(); ++i)
    for (std::size_t c = 0; c < y.size(); ++c) {
      if (comb == OracleCombiner::sum) {
        y[c] += z[i][c];
      } else if (comb == OracleCombiner::weighted) {
        y[c] += std::ldexp(std::round(std::ldexp(weights[i] / wmax, weight_bits)), -weight_bits) * z[i][c];
      } else {
        const double u = z[i][c] + std::round(2 * temperature * S) / S;
        y[c] += u * u;
      }
    }
  return y;
}

// Both references for one output of one image: `exact`, the rule-quantized network (what
// an exact BFV run must equal to double rounding), and `bound`, the float model's scores
// with the worst-case quantization error. member >= 0: that member's output; else the
// ensemble combined by `combiner` (weights, weight_bits, temperature as compiled).
struct OutputOracle {
  std::vector<double> exact;
  Bounded bound;
};

inline OutputOracle output_oracle(const std::vector<Model>& models, const std::vector<QuantizedModel>& q,
                                  std::span<const std::uint8_t> raw, const QuantBits& bits, int member,
                                  const std::string& combiner, const std::vector<double>& weights = {},
                                  int weight_bits = 8, double temperature = 0) {
  std::vector<Bounded> bounds;
  std::vector<std::vector<double>> z;
  for (std::size_t m = 0; m < models.size(); ++m) {
    if (member >= 0 && int(m) != member) {
      bounds.emplace_back();
      z.emplace_back();
      continue;
    }
    bounds.push_back(quantization_bound(models[m], raw, int(m), bits));
    z.push_back(forward(q[m].model, quantize_input(models[m], raw, bits.input)));
  }
  if (member >= 0) return {z[std::size_t(member)], bounds[std::size_t(member)]};
  const OracleCombiner comb = oracle_combiner(combiner);
  return {combine_quantized(q, z, comb, weights, weight_bits, temperature),
          combine_bound(bounds, comb, weights, weight_bits, temperature)};
}

}  // namespace hecnn::nn::testing
