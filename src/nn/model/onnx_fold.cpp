// Built only with ONNX support (the fuzz build globs this directory with HECNN_HAVE_ONNX=0).
#if HECNN_HAVE_ONNX
#include "nn/model/onnx_fold.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

namespace hecnn::nn::onnx_detail {

void bad(const std::string& what) { throw ModelError("ONNX: " + what); }

namespace {

template <class T>
void read_raw(const onnx::TensorProto& t, std::size_t n, Tensor& out) {
  if (t.raw_data().size() != n * sizeof(T)) bad("initializer " + t.name() + " raw data size mismatch");
  out.data.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, t.raw_data().data() + sizeof(T) * i, sizeof(T));
    out.data[i] = double(v);
  }
}

template <class R>
void read_field(const onnx::TensorProto& t, std::size_t n, const R& field, Tensor& out) {
  if (std::size_t(field.size()) != n) bad("initializer " + t.name() + " data size mismatch");
  out.data.assign(field.begin(), field.end());
}

std::size_t element_count(const std::vector<std::int64_t>& dims, const std::string& where,
                          std::size_t limit = kMaxTensorElements) {
  std::size_t n = 1;
  for (auto d : dims) {
    if (d < 0 || d > std::int64_t(kMaxTensorElements)) bad(where + ": bad dimension " + std::to_string(d));
    n *= std::size_t(d);
    if (n > limit) bad(where + ": tensor too large (" + std::to_string(limit) + " values at most)");
  }
  return n;
}

// A folded result may not be larger than its largest input or kFoldedValues, whichever is
// more: hostile graphs cannot grow tensors node by node (Concat(x, x), ConstantOfShape, ...).
constexpr std::size_t kFoldedValues = std::size_t(1) << 22;


std::vector<std::size_t> strides_of(const std::vector<std::int64_t>& dims) {
  std::vector<std::size_t> s(dims.size(), 1);
  for (std::size_t i = dims.size(); i-- > 1;) s[i - 1] = s[i] * std::size_t(dims[i]);
  return s;
}

std::int64_t axis_of(std::int64_t a, std::size_t rank, const std::string& where) {
  if (a < 0) a += std::int64_t(rank);
  if (a < 0 || a >= std::int64_t(rank)) bad(where + ": axis out of range");
  return a;
}

double arith(const std::string& op, double p, double q, const std::string& where) {
  if (p == double(kBatch) || q == double(kBatch)) return double(kBatch);
  double r = 0;
  if (op == "Add") r = p + q;
  else if (op == "Sub") r = p - q;
  else if (op == "Mul") r = p * q;
  else if (op == "Div") {
    if (q == 0) bad(where + ": division by zero");
    r = p / q;
  } else if (op == "Pow") r = std::pow(p, q);
  else if (op == "Equal") r = p == q;
  else if (op == "Max") r = std::max(p, q);
  else r = std::min(p, q);  // Min
  if (!std::isfinite(r)) bad(where + ": non-finite constant");
  return r;
}

// numpy-style broadcasting of two tensors.
Tensor broadcast(const std::string& op, const Tensor& a, const Tensor& b, const std::string& where, std::size_t limit) {
  const std::size_t rank = std::max(a.dims.size(), b.dims.size());
  std::vector<std::int64_t> da(rank, 1), db(rank, 1), out(rank, 1);
  std::copy(a.dims.begin(), a.dims.end(), da.begin() + std::ptrdiff_t(rank - a.dims.size()));
  std::copy(b.dims.begin(), b.dims.end(), db.begin() + std::ptrdiff_t(rank - b.dims.size()));
  for (std::size_t i = 0; i < rank; ++i) {
    if (da[i] != db[i] && da[i] != 1 && db[i] != 1) bad(where + ": constant shapes do not broadcast");
    out[i] = da[i] == 1 ? db[i] : da[i];
  }
  Tensor r;
  r.dims = out;
  const std::size_t n = element_count(out, where, limit);
  r.data.resize(n);
  const auto so = strides_of(out), sa = strides_of(da), sb = strides_of(db);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t ia = 0, ib = 0, rest = i;
    for (std::size_t d = 0; d < rank; ++d) {
      const std::size_t c = rest / so[d];
      rest %= so[d];
      if (da[d] != 1) ia += c * sa[d];
      if (db[d] != 1) ib += c * sb[d];
    }
    r.data[i] = arith(op, a.data[ia], b.data[ib], where);
  }
  return r;
}

const Tensor& need(const std::vector<const Tensor*>& in, std::size_t i, const std::string& where) {
  if (i >= in.size() || !in[i]) bad(where + ": input " + std::to_string(i) + " is missing");
  return *in[i];
}

}  // namespace

Tensor to_tensor(const onnx::TensorProto& t) {
  Tensor out;
  out.dims.assign(t.dims().begin(), t.dims().end());
  const std::size_t n = element_count(out.dims, "initializer " + t.name());
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      if (t.has_raw_data()) read_raw<float>(t, n, out);
      else read_field(t, n, t.float_data(), out);
      break;
    case onnx::TensorProto::DOUBLE:
      if (t.has_raw_data()) read_raw<double>(t, n, out);
      else read_field(t, n, t.double_data(), out);
      break;
    case onnx::TensorProto::INT64:  // shapes, pads, axes
      if (t.has_raw_data()) read_raw<std::int64_t>(t, n, out);
      else read_field(t, n, t.int64_data(), out);
      break;
    case onnx::TensorProto::INT32:
      if (t.has_raw_data()) read_raw<std::int32_t>(t, n, out);
      else read_field(t, n, t.int32_data(), out);
      break;
    case onnx::TensorProto::BOOL:
      if (t.has_raw_data()) read_raw<std::uint8_t>(t, n, out);
      else read_field(t, n, t.int32_data(), out);
      break;
    default:
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
std::string string_attr(const onnx::NodeProto& n, const char* name, const std::string& def) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.s();
  return def;
}

std::vector<std::int64_t> to_ints(const Tensor& t, const std::string& where) {
  std::vector<std::int64_t> r;
  r.reserve(t.size());
  for (double x : t.data) {
    if (x != std::floor(x)) bad(where + ": expected whole numbers");
    // Exporters write INT64_MAX / INT64_MIN for "to the end": saturate at +-2^62.
    constexpr double big = double(std::int64_t(1) << 62);
    r.push_back(x >= big ? (std::int64_t(1) << 62) : x <= -big ? -(std::int64_t(1) << 62) : std::int64_t(x));
  }
  return r;
}

Tensor from_ints(const std::vector<std::int64_t>& v) {
  Tensor t;
  t.dims = {std::int64_t(v.size())};
  for (auto x : v) t.data.push_back(double(x));
  return t;
}

Tensor shape_of(const onnx::NodeProto& n, const std::vector<std::int64_t>& dims) {
  const auto r = std::int64_t(dims.size());
  std::int64_t s = int_attr(n, "start", 0), e = int_attr(n, "end", r);
  s = std::clamp(s < 0 ? s + r : s, std::int64_t(0), r);
  e = std::clamp(e < 0 ? e + r : e, std::int64_t(0), r);
  return from_ints(std::vector<std::int64_t>(dims.begin() + s, dims.begin() + std::max(s, e)));
}

bool foldable(const std::string& op) {
  static const char* const ops[] = {"Identity", "Cast",  "Shape", "Size", "ConstantOfShape", "Reshape", "Transpose",
                                    "Slice",    "Concat", "Gather", "Unsqueeze", "Squeeze", "Add",   "Sub",
                                    "Mul",      "Div",   "Pow",  "Neg",  "Equal",   "Max",   "Min",  "Flatten",
                                    "Dropout"};
  return std::find(std::begin(ops), std::end(ops), op) != std::end(ops);
}

Tensor fold(const onnx::NodeProto& n, const std::vector<const Tensor*>& in, const std::string& where) {
  const std::string& op = n.op_type();
  const Tensor& x = need(in, 0, where);
  const std::size_t rank = x.dims.size();
  std::size_t limit = kFoldedValues;
  for (const Tensor* t : in)
    if (t) limit = std::max(limit, t->size());
  if (op == "Identity" || op == "Dropout") return x;
  if (op == "Cast") {
    Tensor r = x;
    const auto to = int_attr(n, "to", onnx::TensorProto::FLOAT);
    for (double& v : r.data) {
      if (to == onnx::TensorProto::INT64 || to == onnx::TensorProto::INT32 || to == onnx::TensorProto::INT16 ||
          to == onnx::TensorProto::INT8 || to == onnx::TensorProto::UINT8)
        v = std::trunc(v);
      else if (to == onnx::TensorProto::BOOL) v = v != 0;
      else if (to == onnx::TensorProto::FLOAT) v = v == double(kBatch) ? v : double(float(v));
    }
    return r;
  }
  if (op == "Shape") return shape_of(n, x.dims);
  if (op == "Size") return Tensor{{}, {double(x.size())}};
  if (op == "ConstantOfShape") {
    Tensor r;
    r.dims = to_ints(x, where);
    for (auto d : r.dims)
      if (d == kBatch) bad(where + ": a constant with the batch size as a dimension");
    double value = 0;
    for (const auto& a : n.attribute())
      if (a.name() == "value") {
        const Tensor v = to_tensor(a.t());
        if (v.size() != 1) bad(where + ": value must hold one element");
        value = v.data[0];
      }
    r.data.assign(element_count(r.dims, where, limit), value);
    return r;
  }
  if (op == "Reshape" || op == "Flatten") {
    std::vector<std::int64_t> target;
    if (op == "Flatten") {
      const std::int64_t a = int_attr(n, "axis", 1);
      const std::int64_t ax = a < 0 ? a + std::int64_t(rank) : a;
      if (ax < 0 || ax > std::int64_t(rank)) bad(where + ": axis out of range");
      std::int64_t outer = 1;
      for (std::int64_t i = 0; i < ax; ++i) outer *= x.dims[std::size_t(i)];
      target = {outer, -1};
    } else {
      target = to_ints(need(in, 1, where), where);
    }
    int infer = -1;
    std::size_t known = 1;
    for (std::size_t i = 0; i < target.size(); ++i) {
      if (target[i] == 0 && int_attr(n, "allowzero", 0) == 0) {
        if (i >= rank) bad(where + ": 0 refers to a missing dimension");
        target[i] = x.dims[i];
      }
      if (target[i] == -1) {
        if (infer >= 0) bad(where + ": more than one -1");
        infer = int(i);
      } else {
        if (target[i] < 0) bad(where + ": bad target dimension");
        known *= std::size_t(target[i]);
        if (known > kMaxTensorElements) bad(where + ": tensor too large");
      }
    }
    if (infer >= 0) {
      if (known == 0 || x.size() % known) bad(where + ": -1 cannot be inferred");
      target[std::size_t(infer)] = std::int64_t(x.size() / known);
    } else if (known != x.size()) {
      bad(where + ": reshape changes the number of values");
    }
    return Tensor{target, x.data};
  }
  if (op == "Transpose") {
    std::vector<std::int64_t> perm = ints_attr(n, "perm", {});
    if (perm.empty())
      for (std::size_t i = rank; i-- > 0;) perm.push_back(std::int64_t(i));
    if (perm.size() != rank) bad(where + ": perm has the wrong length");
    std::vector<std::int64_t> od(rank);
    std::vector<bool> used(rank, false);
    for (std::size_t i = 0; i < rank; ++i) {
      const auto p = perm[i];
      if (p < 0 || p >= std::int64_t(rank) || used[std::size_t(p)]) bad(where + ": perm is not a permutation");
      used[std::size_t(p)] = true;
      od[i] = x.dims[std::size_t(p)];
    }
    const auto si = strides_of(x.dims), so = strides_of(od);
    Tensor r{od, std::vector<double>(x.size())};
    for (std::size_t i = 0; i < x.size(); ++i) {
      std::size_t src = 0, rest = i;
      for (std::size_t d = 0; d < rank; ++d) {
        src += (rest / so[d]) * si[std::size_t(perm[d])];
        rest %= so[d];
      }
      r.data[i] = x.data[src];
    }
    return r;
  }
  if (op == "Slice") {
    std::vector<std::int64_t> starts, ends, axes, steps;
    if (in.size() > 1) {
      starts = to_ints(need(in, 1, where), where);
      ends = to_ints(need(in, 2, where), where);
      if (in.size() > 3 && in[3]) axes = to_ints(*in[3], where);
      if (in.size() > 4 && in[4]) steps = to_ints(*in[4], where);
    } else {  // opset < 10: attributes
      starts = ints_attr(n, "starts", {});
      ends = ints_attr(n, "ends", {});
      axes = ints_attr(n, "axes", {});
    }
    if (axes.empty())
      for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(std::int64_t(i));
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
      bad(where + ": starts, ends, axes and steps differ in length");
    std::vector<std::int64_t> begin(rank, 0), step(rank, 1), count(x.dims.begin(), x.dims.end());
    for (std::size_t k = 0; k < starts.size(); ++k) {
      const auto a = std::size_t(axis_of(axes[k], rank, where));
      const std::int64_t dim = x.dims[a], st = steps[k];
      if (st == 0) bad(where + ": step 0");
      auto clampi = [&](std::int64_t v, std::int64_t lo, std::int64_t hi) {
        if (v < 0) v += dim;
        return std::clamp(v, lo, hi);
      };
      std::int64_t s = 0, e = 0;
      if (st > 0) s = clampi(starts[k], 0, dim), e = clampi(ends[k], 0, dim);
      else s = clampi(starts[k], -1, dim - 1), e = clampi(ends[k], -1, dim - 1);
      // Very negative ends (INT64_MIN-like) mean "to the start": clamp handled it.
      begin[a] = s;
      step[a] = st;
      count[a] = st > 0 ? std::max<std::int64_t>(0, (e - s + st - 1) / st) : std::max<std::int64_t>(0, (s - e - st - 1) / -st);
    }
    Tensor r;
    r.dims = count;
    const std::size_t total = element_count(count, where);
    const auto si = strides_of(x.dims), so = strides_of(count);
    r.data.resize(total);
    for (std::size_t i = 0; i < total; ++i) {
      std::size_t src = 0, rest = i;
      for (std::size_t d = 0; d < rank; ++d) {
        const auto c = std::int64_t(rest / so[d]);
        rest %= so[d];
        src += std::size_t(begin[d] + c * step[d]) * si[d];
      }
      r.data[i] = x.data[src];
    }
    return r;
  }
  if (op == "Concat") {
    Tensor r = x;
    if (rank == 0) bad(where + ": Concat of scalars");
    const auto a = std::size_t(axis_of(int_attr(n, "axis", 0), rank, where));
    for (std::size_t k = 1; k < in.size(); ++k) {
      const Tensor& y = need(in, k, where);
      if (y.dims.size() != rank) bad(where + ": inputs differ in rank");
      for (std::size_t d = 0; d < rank; ++d)
        if (d != a && y.dims[d] != r.dims[d]) bad(where + ": inputs differ in shape");
      // outer x (r's block | y's block)
      std::size_t outer = 1, inner_r = 1, inner_y = 1;
      for (std::size_t d = 0; d < a; ++d) outer *= std::size_t(r.dims[d]);
      for (std::size_t d = a; d < rank; ++d) inner_r *= std::size_t(r.dims[d]), inner_y *= std::size_t(y.dims[d]);
      if (r.size() + y.size() > limit) bad(where + ": tensor too large (" + std::to_string(limit) + " values at most)");
      std::vector<double> out;
      out.reserve(r.size() + y.size());
      for (std::size_t o = 0; o < outer; ++o) {
        out.insert(out.end(), r.data.begin() + std::ptrdiff_t(o * inner_r), r.data.begin() + std::ptrdiff_t((o + 1) * inner_r));
        out.insert(out.end(), y.data.begin() + std::ptrdiff_t(o * inner_y), y.data.begin() + std::ptrdiff_t((o + 1) * inner_y));
      }
      r.data = std::move(out);
      r.dims[a] += y.dims[a];
    }
    return r;
  }
  if (op == "Gather") {
    if (rank == 0) bad(where + ": Gather from a scalar");
    const auto a = std::size_t(axis_of(int_attr(n, "axis", 0), rank, where));
    const Tensor& idx = need(in, 1, where);
    auto ids = to_ints(idx, where);
    std::size_t outer = 1, inner = 1;
    for (std::size_t d = 0; d < a; ++d) outer *= std::size_t(x.dims[d]);
    for (std::size_t d = a + 1; d < rank; ++d) inner *= std::size_t(x.dims[d]);
    const std::int64_t dim = x.dims[a];
    Tensor r;
    r.dims.assign(x.dims.begin(), x.dims.begin() + std::ptrdiff_t(a));
    r.dims.insert(r.dims.end(), idx.dims.begin(), idx.dims.end());
    r.dims.insert(r.dims.end(), x.dims.begin() + std::ptrdiff_t(a + 1), x.dims.end());
    element_count(r.dims, where, limit);
    for (std::size_t o = 0; o < outer; ++o)
      for (auto i : ids) {
        if (i < 0) i += dim;
        if (i < 0 || i >= dim) bad(where + ": index out of range");
        const std::size_t base = (o * std::size_t(dim) + std::size_t(i)) * inner;
        r.data.insert(r.data.end(), x.data.begin() + std::ptrdiff_t(base), x.data.begin() + std::ptrdiff_t(base + inner));
      }
    return r;
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    std::vector<std::int64_t> axes = in.size() > 1 && in[1] ? to_ints(*in[1], where) : ints_attr(n, "axes", {});
    Tensor r = x;
    if (op == "Unsqueeze") {
      const std::size_t out_rank = rank + axes.size();
      for (auto& a : axes) a = axis_of(a, out_rank, where);
      std::sort(axes.begin(), axes.end());
      for (auto a : axes) r.dims.insert(r.dims.begin() + a, 1);
    } else {
      if (axes.empty()) {
        r.dims.clear();
        for (auto d : x.dims)
          if (d != 1) r.dims.push_back(d);
      } else {
        for (auto& a : axes) a = axis_of(a, rank, where);
        std::sort(axes.rbegin(), axes.rend());
        for (auto a : axes) {
          if (r.dims[std::size_t(a)] != 1) bad(where + ": squeezing an axis that is not 1");
          r.dims.erase(r.dims.begin() + a);
        }
      }
    }
    return r;
  }
  if (op == "Neg") {
    Tensor r = x;
    for (double& v : r.data) v = v == double(kBatch) ? v : -v;
    return r;
  }
  // Binary arithmetic (Add, Sub, Mul, Div, Pow, Equal, Max, Min).
  return broadcast(op, x, need(in, 1, where), where, limit);
}

}  // namespace hecnn::nn::onnx_detail

#endif  // HECNN_HAVE_ONNX
