#include "nn/model/model.h"

#include <sstream>
#include <string>

namespace hecnn::nn {
namespace {

[[noreturn]] void fail(std::size_t index, const std::string& what) {
  throw ModelError("layer " + std::to_string(index) + ": " + what);
}

void check_dim(std::size_t index, const char* name, int v, int min = 1) {
  if (v < min || v > kMaxDim)
    fail(index, std::string(name) + " = " + std::to_string(v) + " is outside [" + std::to_string(min) + ", " +
                    std::to_string(kMaxDim) + "]");
}

void check_size(std::size_t index, const char* name, std::size_t have, std::size_t want) {
  if (have != want)
    fail(index, std::string(name) + " has " + std::to_string(have) + " values, expected " + std::to_string(want));
}

Shape conv_out(std::size_t i, const Conv2d& l, Shape in) {
  check_dim(i, "in_channels", l.in_channels);
  check_dim(i, "out_channels", l.out_channels);
  check_dim(i, "kernel_h", l.kernel_h);
  check_dim(i, "kernel_w", l.kernel_w);
  check_dim(i, "stride_h", l.stride_h);
  check_dim(i, "stride_w", l.stride_w);
  check_dim(i, "pad_h", l.pad_h, 0);
  check_dim(i, "pad_w", l.pad_w, 0);
  if (l.in_channels != in.c)
    fail(i, "conv2d expects " + std::to_string(l.in_channels) + " input channels, gets " + std::to_string(in.c));
  const long hh = long(in.h) + 2L * l.pad_h - l.kernel_h;
  const long ww = long(in.w) + 2L * l.pad_w - l.kernel_w;
  if (hh < 0 || ww < 0) fail(i, "conv2d kernel is larger than the padded input");
  std::size_t wn = std::size_t(l.out_channels) * std::size_t(l.in_channels) * std::size_t(l.kernel_h) *
                   std::size_t(l.kernel_w);
  if (wn > kMaxTensorElements) fail(i, "conv2d weight too large");
  check_size(i, "conv2d weight", l.weight.size(), wn);
  check_size(i, "conv2d bias", l.bias.size(), std::size_t(l.out_channels));
  return {l.out_channels, int(hh / l.stride_h + 1), int(ww / l.stride_w + 1)};
}

Shape dense_out(std::size_t i, const Dense& l, Shape in) {
  check_dim(i, "out_features", l.out_features);
  if (l.in_features < 1 || std::size_t(l.in_features) > kMaxTensorElements)
    fail(i, "in_features = " + std::to_string(l.in_features) + " is out of range");
  if (std::size_t(l.in_features) != in.size())
    fail(i, "dense expects " + std::to_string(l.in_features) + " inputs, gets " + std::to_string(in.size()) +
                " (" + std::to_string(in.c) + "x" + std::to_string(in.h) + "x" + std::to_string(in.w) + ")");
  const std::size_t wn = std::size_t(l.out_features) * std::size_t(l.in_features);
  if (wn > kMaxTensorElements) fail(i, "dense weight too large");
  check_size(i, "dense weight", l.weight.size(), wn);
  check_size(i, "dense bias", l.bias.size(), std::size_t(l.out_features));
  return {l.out_features, 1, 1};
}

Shape pool_out(std::size_t i, const SumPool& l, Shape in) {
  check_dim(i, "kernel_h", l.kernel_h);
  check_dim(i, "kernel_w", l.kernel_w);
  check_dim(i, "stride_h", l.stride_h);
  check_dim(i, "stride_w", l.stride_w);
  if (l.kernel_h > in.h || l.kernel_w > in.w) fail(i, "sum_pool kernel is larger than its input");
  return {in.c, (in.h - l.kernel_h) / l.stride_h + 1, (in.w - l.kernel_w) / l.stride_w + 1};
}

}  // namespace

int Model::num_classes() const {
  auto shapes = output_shapes(*this);
  return shapes.empty() ? 0 : int(shapes.back().size());
}

std::vector<Shape> output_shapes(const Model& model) {
  if (model.layers.size() > std::size_t(kMaxLayers))
    throw ModelError("model has " + std::to_string(model.layers.size()) + " layers (limit " +
                     std::to_string(kMaxLayers) + ")");
  const Shape in = model.input.shape;
  if (in.c < 1 || in.h < 1 || in.w < 1 || in.c > kMaxDim || in.h > kMaxDim || in.w > kMaxDim ||
      in.size() > kMaxTensorElements)
    throw ModelError("input shape " + std::to_string(in.c) + "x" + std::to_string(in.h) + "x" +
                     std::to_string(in.w) + " is out of range");
  std::vector<Shape> shapes;
  Shape cur = in;
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    const Layer& layer = model.layers[i];
    if (auto* c = std::get_if<Conv2d>(&layer)) cur = conv_out(i, *c, cur);
    else if (auto* d = std::get_if<Dense>(&layer)) cur = dense_out(i, *d, cur);
    else if (auto* p = std::get_if<SumPool>(&layer)) cur = pool_out(i, *p, cur);
    else {
      const auto& poly = std::get<Poly>(layer);
      if (poly.coeffs.empty() || poly.coeffs.size() > std::size_t(kMaxPolyDegree) + 1)
        fail(i, "poly needs 1 to " + std::to_string(kMaxPolyDegree + 1) + " coefficients, has " +
                    std::to_string(poly.coeffs.size()));
    }
    if (cur.size() > kMaxTensorElements) fail(i, "output tensor too large");
    shapes.push_back(cur);
  }
  return shapes;
}

void validate(const Model& model) {
  if (model.layers.empty()) throw ModelError("model has no layers");
  (void)output_shapes(model);
}

std::size_t parameter_count(const Model& model) {
  std::size_t n = 0;
  for (const Layer& layer : model.layers) {
    if (auto* c = std::get_if<Conv2d>(&layer)) n += c->weight.size() + c->bias.size();
    else if (auto* d = std::get_if<Dense>(&layer)) n += d->weight.size() + d->bias.size();
    else if (auto* p = std::get_if<Poly>(&layer)) n += p->coeffs.size();
  }
  return n;
}

const char* layer_type(const Layer& layer) {
  static const char* names[] = {"conv2d", "dense", "sum_pool", "poly"};
  return names[layer.index()];
}

std::string describe(const Model& model) {
  std::ostringstream os;
  auto shapes = output_shapes(model);
  const Shape in = model.input.shape;
  os << "input  " << in.c << "x" << in.h << "x" << in.w << "  x = raw * " << model.input.scale << " + "
     << model.input.offset << "\n";
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    const Layer& layer = model.layers[i];
    os << i << ": " << layer_type(layer) << " ";
    if (auto* c = std::get_if<Conv2d>(&layer))
      os << c->out_channels << " maps " << c->kernel_h << "x" << c->kernel_w << " stride " << c->stride_h << ","
         << c->stride_w << " pad " << c->pad_h << "," << c->pad_w;
    else if (auto* d = std::get_if<Dense>(&layer))
      os << d->in_features << " -> " << d->out_features;
    else if (auto* p = std::get_if<SumPool>(&layer))
      os << p->kernel_h << "x" << p->kernel_w << " stride " << p->stride_h << "," << p->stride_w;
    else {
      const auto& poly = std::get<Poly>(layer);
      os << "degree " << poly.coeffs.size() - 1 << " [";
      for (std::size_t k = 0; k < poly.coeffs.size(); ++k) os << (k ? ", " : "") << poly.coeffs[k];
      os << "]";
    }
    os << "  -> " << shapes[i].c << "x" << shapes[i].h << "x" << shapes[i].w << "\n";
  }
  return os.str();
}

}  // namespace hecnn::nn
