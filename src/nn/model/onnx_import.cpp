#include "nn/model/onnx_import.h"

#include "nn/model/model_io.h"

#if HECNN_HAVE_ONNX
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <map>
#endif

namespace hecnn::nn {

#if !HECNN_HAVE_ONNX

bool onnx_supported() { return false; }
Model import_onnx_bytes(const std::string&, const InputSpec&) {
  throw ModelError("this hecnn was built without ONNX support (install libonnx-dev and libprotobuf-dev, reconfigure)");
}
Model import_onnx(const std::string& path, const InputSpec& input) { return import_onnx_bytes(path, input); }

#else

namespace {

[[noreturn]] void bad(const std::string& what) { throw ModelError("ONNX: " + what); }

struct Tensor {
  std::vector<std::int64_t> dims;
  std::vector<double> data;
  std::size_t size() const { return data.size(); }
};

Tensor to_tensor(const onnx::TensorProto& t) {
  Tensor out;
  std::size_t n = 1;
  for (auto d : t.dims()) {
    if (d < 0 || d > kMaxDim * std::int64_t(kMaxDim)) bad("initializer " + t.name() + " has a bad dimension");
    out.dims.push_back(d);
    n *= std::size_t(d);
    if (n > kMaxTensorElements) bad("initializer " + t.name() + " is too large");
  }
  if (t.data_type() == onnx::TensorProto::FLOAT) {
    if (t.has_raw_data()) {
      if (t.raw_data().size() != n * 4) bad("initializer " + t.name() + " raw data size mismatch");
      out.data.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        float f;
        std::memcpy(&f, t.raw_data().data() + 4 * i, 4);
        out.data[i] = f;
      }
    } else {
      if (std::size_t(t.float_data_size()) != n) bad("initializer " + t.name() + " float data size mismatch");
      out.data.assign(t.float_data().begin(), t.float_data().end());
    }
  } else if (t.data_type() == onnx::TensorProto::DOUBLE) {
    if (t.has_raw_data()) {
      if (t.raw_data().size() != n * 8) bad("initializer " + t.name() + " raw data size mismatch");
      out.data.resize(n);
      std::memcpy(out.data.data(), t.raw_data().data(), n * 8);
    } else {
      if (std::size_t(t.double_data_size()) != n) bad("initializer " + t.name() + " double data size mismatch");
      out.data.assign(t.double_data().begin(), t.double_data().end());
    }
  } else if (t.data_type() == onnx::TensorProto::INT64) {  // Reshape shapes
    if (t.has_raw_data()) {
      if (t.raw_data().size() != n * 8) bad("initializer " + t.name() + " raw data size mismatch");
      for (std::size_t i = 0; i < n; ++i) {
        std::int64_t v;
        std::memcpy(&v, t.raw_data().data() + 8 * i, 8);
        out.data.push_back(double(v));
      }
    } else {
      for (auto v : t.int64_data()) out.data.push_back(double(v));
    }
  } else {
    bad("initializer " + t.name() + " has unsupported data type " + std::to_string(t.data_type()));
  }
  for (double v : out.data)
    if (!std::isfinite(v)) bad("initializer " + t.name() + " holds a non-finite value");
  return out;
}

std::vector<std::int64_t> ints_attr(const onnx::NodeProto& n, const char* name, std::vector<std::int64_t> def) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return {a.ints().begin(), a.ints().end()};
  return def;
}
std::int64_t int_attr(const onnx::NodeProto& n, const char* name, std::int64_t def) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.i();
  return def;
}
double float_attr(const onnx::NodeProto& n, const char* name, double def) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.f();
  return def;
}

int small(std::int64_t v, const std::string& what) {
  if (v < 0 || v > kMaxDim) bad(what + " = " + std::to_string(v) + " is out of range");
  return int(v);
}

}  // namespace

bool onnx_supported() { return true; }

Model import_onnx_bytes(const std::string& bytes, const InputSpec& input_spec) {
  onnx::ModelProto proto;
  if (bytes.size() > kMaxOnnxBytes) bad("file too large");
  if (!proto.ParseFromArray(bytes.data(), int(bytes.size()))) bad("not a valid ONNX model (protobuf parse failed)");
  const onnx::GraphProto& g = proto.graph();
  std::map<std::string, Tensor> init;
  for (const auto& t : g.initializer()) init[t.name()] = to_tensor(t);
  for (const auto& n : g.node())
    if (n.op_type() == "Constant")
      for (const auto& a : n.attribute())
        if (a.name() == "value" && n.output_size() == 1) init[n.output(0)] = to_tensor(a.t());

  // The image input: the graph input that is not an initializer.
  std::string current;
  Model m;
  m.input = input_spec;
  for (const auto& in : g.input()) {
    if (init.count(in.name())) continue;
    if (!current.empty()) bad("more than one non-initializer graph input");
    current = in.name();
    const auto& shape = in.type().tensor_type().shape();
    if (shape.dim_size() != 4) bad("input " + in.name() + " must be [N, C, H, W]");
    int d[3];
    for (int i = 0; i < 3; ++i) {
      if (!shape.dim(i + 1).has_dim_value()) bad("input " + in.name() + " needs fixed C, H, W");
      d[i] = small(shape.dim(i + 1).dim_value(), "input dimension");
    }
    m.input.shape = {d[0], d[1], d[2]};
  }
  if (current.empty()) bad("no image input");

  double pending = 1.0;  // average-pool divisor not yet folded
  Shape cur = m.input.shape;
  auto find = [&](const std::string& name, const onnx::NodeProto& n) -> const Tensor& {
    auto it = init.find(name);
    if (it == init.end()) bad("node " + n.name() + " (" + n.op_type() + "): input " + name + " is not an initializer");
    return it->second;
  };
  std::string where;
  auto push = [&](Layer l) {
    m.layers.push_back(std::move(l));
    try {
      cur = output_shapes(m).back();
    } catch (const ModelError& e) {
      bad(where + ": " + e.what());
    }
  };
  const int nodes = g.node_size();
  if (nodes > 4 * kMaxLayers) bad("too many nodes");
  for (int k = 0; k < nodes; ++k) {
    const onnx::NodeProto& n = g.node(k);
    const std::string& op = n.op_type();
    where = "node " + std::to_string(k) + " '" + n.name() + "' (" + op + ")";
    if (op == "Constant") continue;
    if (n.input_size() < 1 || n.input(0) != current)
      bad(where + " does not continue the single chain from the input (branches are not supported)");
    if (n.output_size() < 1) bad(where + " has no output");
    if (op == "Conv") {
      const Tensor& w = find(n.input(1), n);
      if (w.dims.size() != 4) bad(where + ": weight must be 4-D");
      if (int_attr(n, "group", 1) != 1) bad(where + ": grouped convolution is not supported");
      for (auto d : ints_attr(n, "dilations", {1, 1}))
        if (d != 1) bad(where + ": dilation is not supported");
      auto pads = ints_attr(n, "pads", {0, 0, 0, 0});
      auto strides = ints_attr(n, "strides", {1, 1});
      if (pads.size() != 4 || pads[0] != pads[2] || pads[1] != pads[3]) bad(where + ": only symmetric pads are supported");
      if (strides.size() != 2) bad(where + ": strides must have 2 values");
      Conv2d c;
      c.out_channels = small(w.dims[0], "out channels");
      c.in_channels = small(w.dims[1], "in channels");
      c.kernel_h = small(w.dims[2], "kernel");
      c.kernel_w = small(w.dims[3], "kernel");
      c.stride_h = small(strides[0], "stride");
      c.stride_w = small(strides[1], "stride");
      c.pad_h = small(pads[0], "pad");
      c.pad_w = small(pads[1], "pad");
      c.weight = w.data;
      for (double& v : c.weight) v *= pending;
      pending = 1;
      c.bias = n.input_size() > 2 ? find(n.input(2), n).data : std::vector<double>(std::size_t(c.out_channels), 0.0);
      push(std::move(c));
    } else if (op == "Gemm" || op == "MatMul") {
      const Tensor& w = find(n.input(1), n);
      if (w.dims.size() != 2) bad(where + ": weight must be 2-D");
      const bool transB = op == "Gemm" && int_attr(n, "transB", 0) == 1;
      if (op == "Gemm" && (int_attr(n, "transA", 0) != 0 || float_attr(n, "alpha", 1) != 1 || float_attr(n, "beta", 1) != 1))
        bad(where + ": only alpha = beta = 1, transA = 0 is supported");
      Dense d;
      d.out_features = small(transB ? w.dims[0] : w.dims[1], "out features");
      const std::int64_t in = transB ? w.dims[1] : w.dims[0];
      if (in < 1 || std::size_t(in) > kMaxTensorElements) bad(where + ": in features out of range");
      d.in_features = int(in);
      d.weight.resize(w.size());
      for (int o = 0; o < d.out_features; ++o)
        for (int i = 0; i < d.in_features; ++i)
          d.weight[std::size_t(o) * d.in_features + i] =
              pending * (transB ? w.data[std::size_t(o) * d.in_features + i] : w.data[std::size_t(i) * d.out_features + o]);
      pending = 1;
      d.bias.assign(std::size_t(d.out_features), 0.0);
      if (op == "Gemm" && n.input_size() > 2) {
        const Tensor& b = find(n.input(2), n);
        if (b.size() != std::size_t(d.out_features)) bad(where + ": bias must have one value per output");
        d.bias = b.data;
      }
      push(std::move(d));
    } else if (op == "Add") {
      if (m.layers.empty() || !std::holds_alternative<Dense>(m.layers.back()) || n.input_size() != 2)
        bad(where + ": Add is only supported as the bias of a MatMul");
      const Tensor& b = find(n.input(1), n);
      auto& d = std::get<Dense>(m.layers.back());
      if (b.size() != d.bias.size()) bad(where + ": bias size mismatch");
      for (std::size_t i = 0; i < b.size(); ++i) d.bias[i] += b.data[i];
    } else if (op == "BatchNormalization") {
      if (m.layers.empty()) bad(where + ": batch norm must follow Conv, Gemm or MatMul");
      const Tensor &gamma = find(n.input(1), n), &beta = find(n.input(2), n), &mean = find(n.input(3), n),
                   &var = find(n.input(4), n);
      const double eps = float_attr(n, "epsilon", 1e-5);
      std::vector<double>*w = nullptr, *b = nullptr;
      if (auto* c = std::get_if<Conv2d>(&m.layers.back())) w = &c->weight, b = &c->bias;
      else if (auto* d = std::get_if<Dense>(&m.layers.back())) w = &d->weight, b = &d->bias;
      else bad(where + ": batch norm must directly follow Conv, Gemm or MatMul (it is folded into it)");
      const std::size_t out = b->size(), per = w->size() / out;
      if (gamma.size() != out || beta.size() != out || mean.size() != out || var.size() != out)
        bad(where + ": statistics size mismatch");
      for (std::size_t o = 0; o < out; ++o) {
        if (var.data[o] + eps <= 0) bad(where + ": non-positive variance");
        const double s = gamma.data[o] / std::sqrt(var.data[o] + eps);
        for (std::size_t i = 0; i < per; ++i) (*w)[o * per + i] *= s;
        (*b)[o] = ((*b)[o] - mean.data[o]) * s + beta.data[o];
      }
    } else if (op == "AveragePool") {
      auto ks = ints_attr(n, "kernel_shape", {});
      auto strides = ints_attr(n, "strides", ks);
      for (auto p : ints_attr(n, "pads", {0, 0, 0, 0}))
        if (p != 0) bad(where + ": padded average pooling is not supported");
      if (ks.size() != 2 || strides.size() != 2) bad(where + ": kernel_shape and strides must have 2 values");
      SumPool p{small(ks[0], "kernel"), small(ks[1], "kernel"), small(strides[0], "stride"), small(strides[1], "stride")};
      pending /= double(p.kernel_h) * p.kernel_w;
      push(p);
    } else if (op == "Mul" || op == "Pow") {
      bool square = op == "Mul" ? n.input_size() == 2 && n.input(0) == current && n.input(1) == current
                                : n.input_size() == 2 && init.count(n.input(1)) && find(n.input(1), n).size() == 1 &&
                                      find(n.input(1), n).data[0] == 2.0;
      if (!square) bad(where + ": only the square x*x (Mul(x, x) or Pow(x, 2)) is supported");
      push(Poly{{0, 0, pending * pending}});
      pending = 1;
    } else if (op == "Flatten" || op == "Reshape" || op == "Identity" || op == "Dropout") {
      // CHW flattening is implicit before a dense layer.
    } else if (op == "Softmax" && k == nodes - 1) {
      // Monotone: the argmax is unchanged; HE returns the scores.
    } else {
      bad(where + ": unsupported operator " + op +
          " (supported: Conv, Gemm, MatMul, Add, BatchNormalization, AveragePool, Mul(x,x), Pow(x,2), Flatten, "
          "Reshape, Identity, Dropout; activations must be polynomials)");
    }
    current = n.output(0);
  }
  if (m.layers.empty()) bad("graph has no layers");
  if (pending != 1.0) bad("graph ends with average pooling");
  m.meta.architecture = "onnx";
  m.meta.created_by = "hecnn onnx import 0.1.0";
  m.meta.activation = {"square", "exact", 2, 0, 0};
  try {
    validate(m);
  } catch (const ModelError& e) {
    bad(std::string("imported graph is inconsistent: ") + e.what());
  }
  return m;
}

Model import_onnx(const std::string& path, const InputSpec& input) {
  try {
    return import_onnx_bytes(read_file_bounded(path, kMaxOnnxBytes), input);
  } catch (const ModelError& e) {
    throw ModelError(path + ": " + e.what());
  }
}

#endif

}  // namespace hecnn::nn
