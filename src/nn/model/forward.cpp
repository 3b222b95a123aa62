#include "nn/model/forward.h"

#include <string>

namespace hecnn::nn {
namespace {

std::vector<double> conv2d(const Conv2d& l, Shape in, std::span<const double> x) {
  const int oh = (in.h + 2 * l.pad_h - l.kernel_h) / l.stride_h + 1;
  const int ow = (in.w + 2 * l.pad_w - l.kernel_w) / l.stride_w + 1;
  std::vector<double> y(std::size_t(l.out_channels) * oh * ow);
  for (int o = 0; o < l.out_channels; ++o)
    for (int r = 0; r < oh; ++r)
      for (int c = 0; c < ow; ++c) {
        double acc = l.bias[o];
        for (int i = 0; i < l.in_channels; ++i)
          for (int kr = 0; kr < l.kernel_h; ++kr) {
            const int ir = r * l.stride_h - l.pad_h + kr;
            if (ir < 0 || ir >= in.h) continue;
            for (int kc = 0; kc < l.kernel_w; ++kc) {
              const int ic = c * l.stride_w - l.pad_w + kc;
              if (ic < 0 || ic >= in.w) continue;
              acc += l.weight[((std::size_t(o) * l.in_channels + i) * l.kernel_h + kr) * l.kernel_w + kc] *
                     x[(std::size_t(i) * in.h + ir) * in.w + ic];
            }
          }
        y[(std::size_t(o) * oh + r) * ow + c] = acc;
      }
  return y;
}

std::vector<double> dense(const Dense& l, std::span<const double> x) {
  std::vector<double> y(l.out_features);
  for (int o = 0; o < l.out_features; ++o) {
    double acc = l.bias[o];
    const double* w = l.weight.data() + std::size_t(o) * l.in_features;
    for (int i = 0; i < l.in_features; ++i) acc += w[i] * x[i];
    y[o] = acc;
  }
  return y;
}

std::vector<double> sum_pool(const SumPool& l, Shape in, std::span<const double> x) {
  const int oh = (in.h - l.kernel_h) / l.stride_h + 1;
  const int ow = (in.w - l.kernel_w) / l.stride_w + 1;
  std::vector<double> y(std::size_t(in.c) * oh * ow);
  for (int ch = 0; ch < in.c; ++ch)
    for (int r = 0; r < oh; ++r)
      for (int c = 0; c < ow; ++c) {
        double acc = 0;
        for (int kr = 0; kr < l.kernel_h; ++kr)
          for (int kc = 0; kc < l.kernel_w; ++kc)
            acc += x[(std::size_t(ch) * in.h + r * l.stride_h + kr) * in.w + c * l.stride_w + kc];
        y[(std::size_t(ch) * oh + r) * ow + c] = acc;
      }
  return y;
}

std::vector<double> poly(const Poly& l, std::span<const double> x) {
  std::vector<double> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    double acc = 0;  // Horner
    for (std::size_t k = l.coeffs.size(); k-- > 0;) acc = acc * x[i] + l.coeffs[k];
    y[i] = acc;
  }
  return y;
}

}  // namespace

std::vector<double> apply_layer(const Layer& layer, Shape in, std::span<const double> x) {
  if (x.size() != in.size())
    throw ModelError("layer input has " + std::to_string(x.size()) + " values, expected " + std::to_string(in.size()));
  if (auto* c = std::get_if<Conv2d>(&layer)) return conv2d(*c, in, x);
  if (auto* d = std::get_if<Dense>(&layer)) return dense(*d, x);
  if (auto* p = std::get_if<SumPool>(&layer)) return sum_pool(*p, in, x);
  return poly(std::get<Poly>(layer), x);
}

std::vector<double> prepare_input(const Model& model, std::span<const std::uint8_t> raw) {
  if (raw.size() != model.input.shape.size())
    throw ModelError("input has " + std::to_string(raw.size()) + " values, model expects " +
                     std::to_string(model.input.shape.size()));
  std::vector<double> x(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) x[i] = raw[i] * model.input.scale + model.input.offset;
  return x;
}

std::vector<std::vector<double>> forward_trace(const Model& model, std::span<const double> input) {
  const std::vector<Shape> shapes = output_shapes(model);
  if (input.size() != model.input.shape.size())
    throw ModelError("input has " + std::to_string(input.size()) + " values, model expects " +
                     std::to_string(model.input.shape.size()));
  std::vector<std::vector<double>> trace;
  trace.reserve(model.layers.size());
  Shape in = model.input.shape;
  std::span<const double> x = input;
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    trace.push_back(apply_layer(model.layers[i], in, x));
    x = trace.back();
    in = shapes[i];
  }
  return trace;
}

std::vector<double> forward(const Model& model, std::span<const double> input) {
  auto trace = forward_trace(model, input);
  if (trace.empty()) return {input.begin(), input.end()};
  return std::move(trace.back());
}

std::vector<double> ensemble_forward(std::span<const Model> members, std::span<const std::uint8_t> raw) {
  if (members.empty()) throw ModelError("ensemble has no members");
  std::vector<double> sum;
  for (std::size_t m = 0; m < members.size(); ++m) {
    const Model& model = members[m];
    if (!(model.input.shape == members[0].input.shape) || model.input.scale != members[0].input.scale ||
        model.input.offset != members[0].input.offset)
      throw ModelError("ensemble member " + std::to_string(m) + " has a different input spec than member 0");
    auto y = forward(model, prepare_input(model, raw));
    if (m == 0) sum.assign(y.size(), 0.0);
    if (y.size() != sum.size()) throw ModelError("ensemble member " + std::to_string(m) + " has a different class count");
    for (std::size_t i = 0; i < y.size(); ++i) sum[i] += y[i];
  }
  for (double& v : sum) v /= double(members.size());
  return sum;
}

int argmax(std::span<const double> scores) {
  int best = 0;
  for (std::size_t i = 1; i < scores.size(); ++i)
    if (scores[i] > scores[best]) best = int(i);
  return best;
}

}  // namespace hecnn::nn
