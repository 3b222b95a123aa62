#include "nn/model/onnx_import.h"

#include "nn/model/model_io.h"

#if HECNN_HAVE_ONNX
#include "nn/model/onnx_fold.h"

#include <cmath>
#include <algorithm>
#include <cstring>
#include <limits>
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

using namespace onnx_detail;

int small(std::int64_t v, const std::string& what) {
  if (v < 0 || v > kMaxDim) bad(what + " = " + std::to_string(v) + " is out of range");
  return int(v);
}

// What a graph tensor is, as far as the importer is concerned:
//   constant - a weight or a literal (initializer, Constant node, or folded from them; shape
//              vectors may hold the symbolic batch size kBatch);
//   chain    - an elementwise polynomial poly(x) of the current chain tensor x (the output of
//              the last emitted layer, generation `gen`), not yet emitted as a Poly layer.
struct Value {
  enum Kind { constant, chain } kind = constant;
  Tensor tensor;
  std::vector<double> poly;
  int gen = 0;
};

// The weights and bias of a Conv2d or Dense layer (the caller checked it is one).
std::pair<std::vector<double>*, std::vector<double>*> weights_and_bias(Layer& l) {
  if (auto* c = std::get_if<Conv2d>(&l)) return {&c->weight, &c->bias};
  auto& d = std::get<Dense>(l);
  return {&d.weight, &d.bias};
}

bool is_identity(const std::vector<double>& p) { return p.size() == 2 && p[0] == 0 && p[1] == 1; }

std::vector<double> poly_mul(const std::vector<double>& a, const std::vector<double>& b, const std::string& where) {
  if (a.size() + b.size() - 2 > std::size_t(kMaxPolyDegree)) bad(where + ": polynomial degree above " + std::to_string(kMaxPolyDegree));
  std::vector<double> r(a.size() + b.size() - 1, 0.0);
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < b.size(); ++j) r[i + j] += a[i] * b[j];
  return r;
}
std::vector<double> poly_add(std::vector<double> a, const std::vector<double>& b, double sign) {
  if (a.size() < b.size()) a.resize(b.size(), 0.0);
  for (std::size_t i = 0; i < b.size(); ++i) a[i] += sign * b[i];
  return a;
}

}  // namespace

bool onnx_supported() { return true; }

Model import_onnx_bytes(const std::string& bytes, const InputSpec& input_spec) {
  onnx::ModelProto proto;
  if (bytes.size() > kMaxOnnxBytes) bad("file too large");
  if (!proto.ParseFromArray(bytes.data(), int(bytes.size()))) bad("not a valid ONNX model (protobuf parse failed)");
  const onnx::GraphProto& g = proto.graph();
  std::map<std::string, Value> val;
  for (const auto& t : g.initializer()) val[t.name()] = Value{Value::constant, to_tensor(t), {}, 0};

  // The image input: the graph input that is not an initializer; its batch axis may be dynamic.
  std::string input_name;
  Model m;
  m.input = input_spec;
  for (const auto& in : g.input()) {
    if (val.count(in.name())) continue;
    if (!input_name.empty()) bad("more than one non-initializer graph input");
    input_name = in.name();
    const auto& shape = in.type().tensor_type().shape();
    if (shape.dim_size() != 4) bad("input " + in.name() + " must be [N, C, H, W]");
    int d[3];
    for (int i = 0; i < 3; ++i) {
      if (!shape.dim(i + 1).has_dim_value()) bad("input " + in.name() + " needs fixed C, H, W (only the batch axis may be dynamic)");
      d[i] = small(shape.dim(i + 1).dim_value(), "input dimension");
    }
    m.input.shape = {d[0], d[1], d[2]};
  }
  if (input_name.empty()) bad("no image input");
  val[input_name] = Value{Value::chain, {}, {0.0, 1.0}, 0};

  // State of the chain: generation (bumped per emitted layer), its shape, whether it has been
  // flattened, the average-pool divisor not yet folded and a zero Pad waiting for its consumer.
  int gen = 0;
  bool flat = false;
  bool hwc = false;  // the chain was transposed to N, H, W, C (Keras): only flattening and a dense layer may follow
  double pending = 1.0;
  std::vector<std::int64_t> pad;  // [h_begin, w_begin, h_end, w_end] of a Pad not yet folded
  Shape cur = m.input.shape;
  std::string where;

  auto push = [&](Layer l) {
    m.layers.push_back(std::move(l));
    try {
      cur = output_shapes(m).back();
    } catch (const ModelError& e) {
      bad(where + ": " + e.what());
    }
    ++gen;
  };
  auto get = [&](const onnx::NodeProto& n, int i) -> const Value& {
    if (i >= n.input_size() || n.input(i).empty()) bad(where + ": input " + std::to_string(i) + " is missing");
    auto it = val.find(n.input(i));
    if (it == val.end()) bad(where + ": input " + n.input(i) + " is not produced by an earlier node");
    return it->second;
  };
  auto constant = [&](const onnx::NodeProto& n, int i) -> const Tensor& {
    const Value& v = get(n, i);
    if (v.kind != Value::constant) bad(where + ": input " + n.input(i) + " must be a constant (an initializer)");
    return v.tensor;
  };
  auto ints_of = [&](const Value& v) -> std::vector<std::int64_t> {
    if (v.kind != Value::constant) bad(where + ": expected a shape or a constant, got the image tensor");
    return to_ints(v.tensor, where);
  };
  auto current_dims = [&]() -> std::vector<std::int64_t> {
    if (flat) return {kBatch, std::int64_t(cur.size())};
    if (hwc) return {kBatch, cur.h, cur.w, cur.c};
    return {kBatch, cur.c, cur.h, cur.w};
  };
  auto no_hwc = [&]() {
    if (hwc) bad(where + ": after a Transpose to N, H, W, C only Flatten / Reshape and a dense layer (Gemm, MatMul) are supported");
  };
  // The chain operand of node input i, checked to belong to the current generation.
  auto chain = [&](const onnx::NodeProto& n, int i) -> const Value& {
    const Value& v = get(n, i);
    if (v.kind != Value::chain) bad(where + ": input " + n.input(i) + " must be the image tensor");
    if (v.gen != gen) bad(where + ": uses " + n.input(i) + " from before an earlier layer (branches are not supported)");
    return v;
  };
  // Emits the polynomial the chain value holds (if it is not the identity) as a Poly layer.
  auto materialize = [&](const Value& v) {
    if (!pad.empty()) bad(where + ": a Pad is only supported directly before Conv or AveragePool");
    if (is_identity(v.poly)) return;
    std::vector<double> c = v.poly;
    double f = 1;
    for (double& x : c) x *= f, f *= pending;
    pending = 1;
    push(Poly{c});
  };
  auto last_linear_output = [&](const Value& v) -> bool {
    return is_identity(v.poly) && pending == 1 && pad.empty() && !m.layers.empty() &&
           (std::holds_alternative<Conv2d>(m.layers.back()) || std::holds_alternative<Dense>(m.layers.back()));
  };
  auto scalar = [](const Value& v) { return v.kind == Value::constant && v.tensor.size() == 1; };
  auto out_chain = [&](const onnx::NodeProto& n, std::vector<double> poly) {
    val[n.output(0)] = Value{Value::chain, {}, std::move(poly), gen};
  };
  const int nodes = g.node_size();
  if (nodes > 16 * kMaxLayers) bad("too many nodes");
  std::vector<std::string> softmax_outputs;
  for (int k = 0; k < nodes; ++k) {
    const onnx::NodeProto& n = g.node(k);
    const std::string& op = n.op_type();
    where = "node " + std::to_string(k) + " '" + n.name() + "' (" + op + ")";
    if (n.output_size() < 1) bad(where + " has no output");
    if (!n.domain().empty() && n.domain() != "ai.onnx") bad(where + ": operator domain " + n.domain() + " is not supported");

    if (op == "Constant") {
      Value c;
      bool found = false;
      for (const auto& a : n.attribute()) {
        if (a.name() == "value") c.tensor = to_tensor(a.t()), found = true;
        else if (a.name() == "value_float") c.tensor.data = {a.f()}, found = true;
        else if (a.name() == "value_int") c.tensor.data = {double(a.i())}, found = true;
        else if (a.name() == "value_ints") {
          if (a.ints_size() > kMaxDim) bad(where + ": too many values");
          for (auto v : a.ints()) c.tensor.data.push_back(double(v));
          c.tensor.dims = {std::int64_t(a.ints_size())};
          found = true;
        } else if (a.name() == "value_floats") {
          if (a.floats_size() > kMaxDim) bad(where + ": too many values");
          for (auto v : a.floats()) c.tensor.data.push_back(double(v));
          c.tensor.dims = {std::int64_t(a.floats_size())};
          found = true;
        }
      }
      if (!found) bad(where + ": only value, value_float(s) and value_int(s) constants are supported");
      val[n.output(0)] = std::move(c);
      continue;
    }
    // Constant folding: shape arithmetic (dynamic batch), pads and literals computed by the
    // exporter. Shape of the image tensor is its current shape with the symbolic batch size.
    if (op == "Shape" && get(n, 0).kind == Value::chain) {
      chain(n, 0);
      val[n.output(0)] = Value{Value::constant, shape_of(n, current_dims()), {}, 0};
      continue;
    }
    {
      std::vector<const Tensor*> in;
      bool all_constant = n.input_size() > 0;
      for (int i = 0; i < n.input_size(); ++i) {
        if (n.input(i).empty()) {
          in.push_back(nullptr);
          continue;
        }
        const Value& v = get(n, i);
        if (v.kind != Value::constant) {
          all_constant = false;
          break;
        }
        in.push_back(&v.tensor);
      }
      if (all_constant) {
        if (!foldable(op)) bad(where + ": operator " + op + " on constants is not supported");
        Tensor r = fold(n, in, where);
        val[n.output(0)] = Value{Value::constant, std::move(r), {}, 0};
        continue;
      }
    }
    const Value& x = get(n, 0);

    if (op == "Identity" || op == "Dropout") {
      val[n.output(0)] = x;
      continue;
    }
    if (x.kind != Value::chain && op != "Add" && op != "Mul" && op != "Sub" && op != "Div")
      bad(where + ": input " + n.input(0) + " must be the image tensor (only shape computations may branch off it)");

    if (op == "Softmax" || op == "LogSoftmax") {
      // Monotone: the argmax is unchanged; HE returns the scores. Only as the graph's output.
      val[n.output(0)] = chain(n, 0);
      softmax_outputs.push_back(n.output(0));
    } else if (op == "Transpose") {
      // Keras / tf2onnx: N, H, W, C input transposed to N, C, H, W before the first layer (the
      // model file then takes C, H, W like every hecnn model), and back to N, H, W, C before
      // flattening into a dense layer (its columns are permuted to C, H, W order).
      const Value& v = chain(n, 0);
      const auto perm = ints_attr(n, "perm", {});
      if (!flat && !hwc && perm == std::vector<std::int64_t>{0, 3, 1, 2} && m.layers.empty() && is_identity(v.poly) && pad.empty()) {
        m.input.shape = Shape{cur.w, cur.c, cur.h};  // the graph input read as [N, H = c, W = h, C = w]
        cur = m.input.shape;
      } else if (!flat && !hwc && perm == std::vector<std::int64_t>{0, 2, 3, 1} && pad.empty()) {
        hwc = true;
      } else if (hwc && perm == std::vector<std::int64_t>{0, 3, 1, 2}) {
        hwc = false;
      } else {
        bad(where + ": only N, H, W, C <-> N, C, H, W transposes are supported (of the input, or before flattening)");
      }
      out_chain(n, v.poly);
    } else if (op == "Pad") {
      no_hwc();
      const Value& v = chain(n, 0);
      materialize(v);
      std::string mode = "constant";
      for (const auto& a : n.attribute())
        if (a.name() == "mode") mode = a.s();
      if (mode != "constant") bad(where + ": only constant (zero) padding is supported, not " + mode);
      std::vector<std::int64_t> p = n.input_size() > 1 ? ints_of(get(n, 1)) : ints_attr(n, "pads", {});
      double value = float_attr(n, "value", 0.0);
      if (n.input_size() > 2 && !n.input(2).empty()) {
        const Tensor& cv = constant(n, 2);
        if (cv.size() != 1) bad(where + ": the pad value must be a scalar");
        value = cv.data[0];
      }
      if (value != 0) bad(where + ": only zero padding is supported");
      if (p.size() != 8 || flat) bad(where + ": expected pads for an [N, C, H, W] tensor");
      if (p[0] || p[1] || p[4] || p[5]) bad(where + ": padding the batch or channel axis is not supported");
      for (auto q : p)
        if (q < 0) bad(where + ": negative pads (cropping) are not supported");
      pad = {p[2], p[3], p[6], p[7]};
      if (pad == std::vector<std::int64_t>{0, 0, 0, 0}) pad.clear();
      out_chain(n, {0.0, 1.0});
    } else if (op == "Conv") {
      no_hwc();
      const Value& v = chain(n, 0);
      std::vector<std::int64_t> pre = pad;
      pad.clear();
      materialize(v);
      const Tensor& w = constant(n, 1);
      if (w.dims.size() != 4) bad(where + ": weight must be 4-D");
      if (int_attr(n, "group", 1) != 1) bad(where + ": grouped convolution is not supported");
      for (auto d : ints_attr(n, "dilations", {1, 1}))
        if (d != 1) bad(where + ": dilation is not supported");
      for (const auto& a : n.attribute())
        if (a.name() == "auto_pad" && a.s() != "NOTSET" && a.s() != "VALID") bad(where + ": auto_pad " + a.s() + " is not supported (give explicit pads)");
      auto pads = ints_attr(n, "pads", {0, 0, 0, 0});
      auto strides = ints_attr(n, "strides", {1, 1});
      if (pads.size() != 4) bad(where + ": pads must have 4 values");
      if (!pre.empty())
        for (int i = 0; i < 4; ++i) pads[std::size_t(i)] += pre[std::size_t(i)];
      if (pads[0] != pads[2] || pads[1] != pads[3])
        bad(where + ": only symmetric padding is supported (top = bottom, left = right" + (pre.empty() ? "" : ", after folding the Pad before it") + ")");
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
      for (double& q : c.weight) q *= pending;
      pending = 1;
      if (n.input_size() > 2 && !n.input(2).empty()) {
        c.bias = constant(n, 2).data;
        if (c.bias.size() != std::size_t(c.out_channels)) bad(where + ": bias must have one value per output channel");
      } else {
        c.bias.assign(std::size_t(c.out_channels), 0.0);
      }
      push(std::move(c));
      flat = false;
      out_chain(n, {0.0, 1.0});
    } else if (op == "Gemm" || op == "MatMul") {
      materialize(chain(n, 0));
      const Tensor& w = constant(n, 1);
      if (w.dims.size() != 2) bad(where + ": weight must be 2-D");
      const bool transB = op == "Gemm" && int_attr(n, "transB", 0) == 1;
      if (op == "Gemm" && int_attr(n, "transA", 0) != 0) bad(where + ": transA = 1 is not supported");
      const double alpha = op == "Gemm" ? float_attr(n, "alpha", 1) : 1.0, beta = op == "Gemm" ? float_attr(n, "beta", 1) : 1.0;
      Dense d;
      d.out_features = small(transB ? w.dims[0] : w.dims[1], "out features");
      const std::int64_t in = transB ? w.dims[1] : w.dims[0];
      if (in < 1 || std::size_t(in) > kMaxTensorElements) bad(where + ": in features out of range");
      d.in_features = int(in);
      d.weight.resize(w.size());
      // After a Transpose to N, H, W, C the flattened input is in (h, w, c) order; hecnn's dense
      // layers read (c, h, w): column j of the graph's weight becomes column i here.
      const bool permute = hwc && std::size_t(d.in_features) == cur.size();
      if (hwc && !permute) bad(where + ": a dense layer after a Transpose to N, H, W, C must take the whole flattened tensor");
      for (int o = 0; o < d.out_features; ++o)
        for (int i = 0; i < d.in_features; ++i) {
          int j = i;
          if (permute) {
            const int c = i / (cur.h * cur.w), h = (i / cur.w) % cur.h, x = i % cur.w;
            j = (h * cur.w + x) * cur.c + c;
          }
          d.weight[std::size_t(o) * d.in_features + i] =
              alpha * pending * (transB ? w.data[std::size_t(o) * d.in_features + j] : w.data[std::size_t(j) * d.out_features + o]);
        }
      hwc = false;
      pending = 1;
      d.bias.assign(std::size_t(d.out_features), 0.0);
      if (op == "Gemm" && n.input_size() > 2 && !n.input(2).empty()) {
        const Tensor& b = constant(n, 2);
        if (b.size() == 1) d.bias.assign(std::size_t(d.out_features), beta * b.data[0]);
        else if (b.size() == std::size_t(d.out_features))
          for (std::size_t i = 0; i < b.size(); ++i) d.bias[i] = beta * b.data[i];
        else bad(where + ": bias must have one value per output");
      }
      push(std::move(d));
      flat = true;
      out_chain(n, {0.0, 1.0});
    } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
      if (n.input_size() != 2) bad(where + ": expected two inputs");
      const Value& a = get(n, 0);
      const Value& b = get(n, 1);
      const bool ca = a.kind == Value::chain, cb = b.kind == Value::chain;
      if (ca) chain(n, 0);
      if (cb) chain(n, 1);
      if (ca && cb) {
        if (op == "Div") bad(where + ": division by the image tensor is not a polynomial");
        out_chain(n, op == "Mul" ? poly_mul(a.poly, b.poly, where) : poly_add(a.poly, b.poly, op == "Add" ? 1.0 : -1.0));
        continue;
      }
      const Value& p = ca ? a : b;
      const Value& c = ca ? b : a;
      if (c.kind != Value::constant) bad(where + ": arithmetic between the image tensor and a shape");
      if (scalar(c)) {
        const double s = c.tensor.data[0];
        if (op == "Add") out_chain(n, poly_add(p.poly, {s}, 1.0));
        else if (op == "Sub") out_chain(n, ca ? poly_add(p.poly, {s}, -1.0) : poly_add({s}, p.poly, -1.0));
        else if (op == "Mul") out_chain(n, poly_mul(p.poly, {s}, where));
        else if (ca) {
          if (s == 0) bad(where + ": division by zero");
          out_chain(n, poly_mul(p.poly, {1.0 / s}, where));
        } else {
          bad(where + ": division by the image tensor is not a polynomial");
        }
        continue;
      }
      // A per-output constant right after Conv/Gemm/MatMul: folded into its bias (Add, Sub)
      // or its weights and bias (Mul, Div).
      if (!last_linear_output(p) || (op == "Div" && !ca) || (op == "Sub" && !ca))
        bad(where + ": a non-scalar " + op + " is only supported as a per-output bias or scale directly after Conv, Gemm or MatMul");
      auto [w, bias] = weights_and_bias(m.layers.back());
      const std::size_t outs = bias->size(), per = w->size() / outs;
      if (c.tensor.size() != outs) bad(where + ": constant has " + std::to_string(c.tensor.size()) + " values, the layer " + std::to_string(outs) + " outputs");
      for (std::size_t o = 0; o < outs; ++o) {
        const double s = c.tensor.data[o];
        if (op == "Add") (*bias)[o] += s;
        else if (op == "Sub") (*bias)[o] -= s;
        else {
          if (op == "Div" && s == 0) bad(where + ": division by zero");
          const double f = op == "Mul" ? s : 1.0 / s;
          for (std::size_t i = 0; i < per; ++i) (*w)[o * per + i] *= f;
          (*bias)[o] *= f;
        }
      }
      out_chain(n, {0.0, 1.0});
    } else if (op == "Pow") {
      const Value& v = chain(n, 0);
      const Tensor& e = constant(n, 1);
      if (e.size() != 1 || e.data[0] != std::floor(e.data[0]) || e.data[0] < 1 || e.data[0] > kMaxPolyDegree)
        bad(where + ": only a constant integer exponent 1.." + std::to_string(kMaxPolyDegree) + " is supported");
      std::vector<double> r = v.poly;
      for (int i = 1; i < int(e.data[0]); ++i) r = poly_mul(r, v.poly, where);
      out_chain(n, r);
    } else if (op == "Neg") {
      out_chain(n, poly_mul(chain(n, 0).poly, {-1.0}, where));
    } else if (op == "BatchNormalization") {
      no_hwc();
      const Value& v = chain(n, 0);
      if (!last_linear_output(v)) bad(where + ": batch norm must directly follow Conv, Gemm or MatMul (it is folded into it)");
      const Tensor &gamma = constant(n, 1), &beta = constant(n, 2), &mean = constant(n, 3), &var = constant(n, 4);
      const double eps = float_attr(n, "epsilon", 1e-5);
      auto [w, b] = weights_and_bias(m.layers.back());
      const std::size_t out = b->size(), per = w->size() / out;
      if (gamma.size() != out || beta.size() != out || mean.size() != out || var.size() != out)
        bad(where + ": statistics size mismatch");
      for (std::size_t o = 0; o < out; ++o) {
        if (var.data[o] + eps <= 0) bad(where + ": non-positive variance");
        const double s = gamma.data[o] / std::sqrt(var.data[o] + eps);
        for (std::size_t i = 0; i < per; ++i) (*w)[o * per + i] *= s;
        (*b)[o] = ((*b)[o] - mean.data[o]) * s + beta.data[o];
      }
      out_chain(n, {0.0, 1.0});
    } else if (op == "AveragePool") {
      no_hwc();
      const Value& v = chain(n, 0);
      if (!pad.empty()) bad(where + ": average pooling over a padded input is not supported (only Pad of zeros)");
      materialize(v);
      auto ks = ints_attr(n, "kernel_shape", {});
      auto strides = ints_attr(n, "strides", ks);
      for (auto q : ints_attr(n, "pads", {0, 0, 0, 0}))
        if (q != 0) bad(where + ": padded average pooling is not supported");
      if (int_attr(n, "ceil_mode", 0) != 0) bad(where + ": ceil_mode is not supported");
      if (ks.size() != 2 || strides.size() != 2) bad(where + ": kernel_shape and strides must have 2 values");
      if (flat) bad(where + ": pooling after Flatten");
      SumPool sp{small(ks[0], "kernel"), small(ks[1], "kernel"), small(strides[0], "stride"), small(strides[1], "stride")};
      pending /= double(sp.kernel_h) * sp.kernel_w;
      push(sp);
      out_chain(n, {0.0, 1.0});
    } else if (op == "Flatten") {
      const Value& v = chain(n, 0);
      if (!pad.empty()) bad(where + ": a Pad is only supported directly before Conv or AveragePool");
      if (int_attr(n, "axis", 1) != 1) bad(where + ": only Flatten(axis = 1) is supported");
      flat = true;
      out_chain(n, v.poly);
    } else if (op == "Reshape") {
      const Value& v = chain(n, 0);
      if (!pad.empty()) bad(where + ": a Pad is only supported directly before Conv or AveragePool");
      auto target = ints_of(get(n, 1));
      const auto in = current_dims();
      const auto total = std::int64_t(cur.size());
      // Resolve 0 (copy), the symbolic batch and -1 (inferred); the result must keep the batch
      // axis first and either flatten C, H, W or restate the shape.
      std::int64_t known = 1;
      int infer = -1;
      bool batch_seen = false;
      for (std::size_t i = 0; i < target.size(); ++i) {
        std::int64_t& t = target[i];
        if (t == 0 && i < in.size()) t = in[i];
        if (t == kBatch) {
          if (i != 0) bad(where + ": the batch axis must stay first");
          batch_seen = true;
        } else if (t == -1) {
          if (infer >= 0) bad(where + ": more than one -1");
          infer = int(i);
        } else if (t < 1 || t > kMaxDim * std::int64_t(kMaxDim)) {
          bad(where + ": bad target dimension " + std::to_string(t));
        } else if (i > 0 || batch_seen) {
          known *= t;
        } else {
          if (t != 1) bad(where + ": the first axis (batch) becomes " + std::to_string(t) + "; only batch-first reshapes are supported");
          batch_seen = true;  // a fixed batch of 1
        }
      }
      if (infer == 0) {
        batch_seen = true;  // [-1, F]: the batch is inferred
      } else if (infer > 0) {
        if (known == 0 || total % known) bad(where + ": -1 cannot be inferred");
        target[std::size_t(infer)] = total / known;
        known = total;
      }
      if (!batch_seen || known != total) bad(where + ": reshape does not keep C x H x W = " + std::to_string(total) + " values per image");
      if (target.size() == 2) flat = true;
      else if (target.size() == 4 && !hwc && target[1] == cur.c && target[2] == cur.h && target[3] == cur.w) flat = false;
      else if (target.size() == 4 && hwc && target[1] == cur.h && target[2] == cur.w && target[3] == cur.c) flat = false;
      else bad(where + ": reshape to a different image shape is not supported (only flattening)");
      out_chain(n, v.poly);
    } else {
      bad(where + ": unsupported operator " + op +
          " (supported: Conv, Gemm, MatMul, BatchNormalization, AveragePool, Pad (zeros, before Conv/AveragePool), "
          "polynomials written with Add, Sub, Mul, Div, Pow, Neg; Flatten, Reshape and shape arithmetic (Shape, Gather, "
          "Unsqueeze, Squeeze, Concat, Slice, Cast); Identity, Dropout, a final Softmax. Activations must be polynomials)");
    }
  }
  if (g.output_size() != 1) bad("the graph must have exactly one output");
  where = "graph output " + g.output(0).name();
  auto it = val.find(g.output(0).name());
  if (it == val.end()) bad(where + " is not produced by any node");
  if (it->second.kind != Value::chain) bad(where + " is not computed from the image");
  if (it->second.gen != gen) bad(where + " is not the last layer's output (branches are not supported)");
  if (hwc) bad(where + " is in N, H, W, C layout (a Transpose without the dense layer it prepares)");
  for (const auto& s : softmax_outputs)
    if (s != g.output(0).name()) bad("Softmax " + s + " is only supported as the graph's output");
  materialize(it->second);
  if (m.layers.empty()) bad("graph has no layers");
  if (pending != 1.0) bad("graph ends with average pooling");
  m.meta.architecture = "onnx";
  m.meta.created_by = "hecnn onnx import 0.2.0";
  int degree = 0;
  bool squares = true;
  for (const auto& l : m.layers)
    if (const auto* p = std::get_if<Poly>(&l)) {
      degree = std::max(degree, int(p->coeffs.size()) - 1);
      squares = squares && p->coeffs == std::vector<double>{0, 0, 1};
    }
  if (squares) m.meta.activation = {"square", "exact", 2, 0, 0};
  else m.meta.activation = {"custom", "exact", degree, 0, 0};
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
