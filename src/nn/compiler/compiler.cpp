// Lowering of models to the slot-vector program, quantization and bounds.
// Parameter choice and the cost model live in params.cpp.
#include "nn/compiler/compiler.h"
#include "nn/compiler/plan_io.h"
#include "nn/model/quant_rules.h"
#include "nn/compiler/ckks_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "nn/compiler/params_internal.h"

namespace hecnn::nn::compiler {

const char* scheme_name(Scheme s) {
  switch (s) {
    case Scheme::bfv: return "BFV";
    case Scheme::ckks: return "CKKS";
    case Scheme::bgv: return "BGV";
  }
  return "unknown";
}

Scheme parse_scheme(const std::string& s) {
  if (s == "bfv" || s == "BFV") return Scheme::bfv;
  if (s == "ckks" || s == "CKKS") return Scheme::ckks;
  if (s == "bgv" || s == "BGV") return Scheme::bgv;
  throw CompileError("unknown scheme '" + s + "' (bfv, bgv, ckks)");
}

const char* op_name(OpKind k) {
  switch (k) {
    case OpKind::input: return "input";
    case OpKind::linear: return "linear";
    case OpKind::square: return "square";
    case OpKind::multiply: return "multiply";
    case OpKind::relinearize: return "relinearize";
    case OpKind::mod_switch: return "mod_switch";
  }
  return "?";
}

const char* combiner_name(Combiner c) {
  switch (c) {
    case Combiner::mean: return "mean";
    case Combiner::weighted_mean: return "weighted";
    case Combiner::poly_softmax: return "poly-softmax";
    case Combiner::normalized: return "normalized";
    case Combiner::stacked: return "stacked";
  }
  return "?";
}

NoiseParameters dp_noise(const OutputPrivacy& p, double sensitivity) {
  if (!(sensitivity > 0) || !std::isfinite(sensitivity)) throw CompileError("differential privacy: the sensitivity must be positive and finite");
  if (!(p.epsilon > 0) || !std::isfinite(p.epsilon)) throw CompileError("differential privacy: epsilon must be positive");
  NoiseParameters n;
  if (p.mechanism == "laplace") {
    n.scale = sensitivity / p.epsilon;
    n.bound = 64 * std::log(2.0) * n.scale;  // P(|X| > B) = exp(-B / b) = 2^-64
  } else if (p.mechanism == "gaussian") {
    if (!(p.delta > 0 && p.delta < 1)) throw CompileError("differential privacy: the Gaussian mechanism needs delta in (0, 1)");
    if (p.epsilon > 1)
      throw CompileError("differential privacy: the Gaussian mechanism's sigma = S sqrt(2 ln(1.25/delta)) / epsilon holds for "
                         "epsilon <= 1; use --dp-mechanism laplace for larger epsilon");
    n.scale = sensitivity * std::sqrt(2 * std::log(1.25 / p.delta)) / p.epsilon;
    n.bound = n.scale * std::sqrt(2 * 65 * std::log(2.0));  // 2 exp(-B^2 / 2 sigma^2) = 2^-64
  } else {
    throw CompileError("differential privacy: unknown mechanism '" + p.mechanism + "' (laplace, gaussian)");
  }
  return n;
}

Combiner parse_combiner(const std::string& s) {
  if (s == "mean") return Combiner::mean;
  if (s == "weighted" || s == "weighted-mean" || s == "weighted_mean") return Combiner::weighted_mean;
  if (s == "poly-softmax" || s == "poly_softmax" || s == "softmax") return Combiner::poly_softmax;
  if (s == "normalized" || s == "normalised") return Combiner::normalized;
  if (s == "stacked") return Combiner::stacked;
  throw CompileError("unknown ensemble combiner '" + s + "' (mean, weighted, poly-softmax, normalized, stacked)");
}

std::vector<std::int64_t> Program::quantize_input(const std::uint8_t* raw, std::size_t bytes) const {
  if (bytes != input_shape.size()) {
    throw CompileError("image has " + std::to_string(bytes) + " values, the model expects " +
                       std::to_string(input_shape.c) + "x" + std::to_string(input_shape.h) + "x" +
                       std::to_string(input_shape.w) + " = " + std::to_string(input_shape.size()));
  }
  std::vector<std::int64_t> x(bytes);
  for (std::size_t i = 0; i < bytes; ++i) x[i] = std::llround(double(raw[i]) * input_quant);
  return x;
}

namespace {

// Exact scale bookkeeping: scale = R^p * 2^a with R = 1 / input.scale (e.g. 255).
struct Scale {
  int p = 0;
  int a = 0;
};

// Guaranteed integer range [lo, hi] of every element (interval arithmetic): tighter
// than |x| <= B because pixels and squares are nonnegative.
struct Value {
  int tensor = -1;
  Scale scale;
  double bound = 0;             // max |integer| over all elements
  std::vector<double> lo, hi;   // per element
  double L(std::size_t i) const { return lo.empty() ? -bound : lo[i]; }
  double H(std::size_t i) const { return hi.empty() ? bound : hi[i]; }
};

// A quantized constant beyond what the integer program can hold (BFV scales multiply
// with depth); compile() turns it into a CompileError that names the depth and the bits.
struct ConstantTooLarge : CompileError {
  ConstantTooLarge(const std::string& w, double v, int limit)
      : CompileError(w + ": quantized constant does not fit in " + std::to_string(limit) + " bits"), where(w),
        bits(std::isfinite(v) ? std::log2(std::max(std::fabs(v), 1.0)) + 1 : 1e9), limit_bits(limit) {}
  std::string where;
  double bits;     // signed bits the constant needs
  int limit_bits;  // what the program can hold there
};

// Multiplicative depth of a model: ceil(log2 d) per polynomial activation of degree d >= 2.
int model_depth(const Model& m) {
  int depth = 0;
  for (const auto& layer : m.layers)
    if (const auto* p = std::get_if<Poly>(&layer)) {
      int d = int(p->coeffs.size()) - 1;
      while (d > 1 && p->coeffs[std::size_t(d)] == 0) --d;
      if (d >= 2) depth += int(std::ceil(std::log2(double(d))));
    }
  return depth;
}

double max_abs(const std::vector<double>& lo, const std::vector<double>& hi) {
  double b = 0;
  for (std::size_t i = 0; i < lo.size(); ++i) b = std::max({b, std::fabs(lo[i]), std::fabs(hi[i])});
  return b;
}

// Bias constants: any size up to 2^120 (they are only needed modulo t, and exactly in the simulator).
__int128 to_wide(double v, const std::string& where) {
  if (!std::isfinite(v) || std::fabs(v) > 1.0e36) throw ConstantTooLarge(where, v, 120);
  return static_cast<__int128>(std::round(v));
}

// Lowers layers to instructions. BFV: integer program, scales multiply (Scale);
// CKKS: real program, every tensor but the input at scale 1, real weights and biases.
class Lowering {
 public:
  Lowering(Program& prog, const CompileOptions& opt, double r) : prog_(prog), opt_(opt), r_(r), ckks_(opt.scheme == Scheme::ckks) {}

  double real_scale(Scale s) const { return std::pow(r_, s.p) * std::ldexp(1.0, s.a); }
  bool ckks() const { return ckks_; }
  // log2 of a bound on |value|: BFV integers at least 1; CKKS real values may be small
  // (precision is relative to them), down to 2^kCkksMinLog2Range.
  double log2_bound(double bound) const { return std::log2(std::max(bound, ckks_ ? std::exp2(kCkksMinLog2Range) : 1.0)); }
  // Scale of a linear layer's output whose weights were quantized at 2^k (BFV); CKKS: 1.
  Scale weighted(Scale in, int k) const { return ckks_ ? Scale{0, 0} : Scale{in.p, in.a + k}; }

  int emit(Instr ins) {
    ins.shape = ins.shape.size() == ins.size ? ins.shape : Shape{int(ins.size), 1, 1};
    int depth = 0, parts = 2;
    for (int in : ins.inputs) {
      depth = std::max(depth, prog_.instrs[in].depth);
      parts = std::max(parts, prog_.instrs[in].parts);
    }
    if (ins.op == OpKind::square || ins.op == OpKind::multiply) {
      ins.depth = depth + 1;
      ins.parts = 3;
    } else if (ins.op == OpKind::relinearize) {
      ins.depth = depth;
      ins.parts = 2;
    } else {
      ins.depth = depth;
      ins.parts = ins.op == OpKind::input ? 2 : parts;
    }
    prog_.instrs.push_back(std::move(ins));
    return int(prog_.instrs.size()) - 1;
  }

  // Makes sure `v` is a 2-part ciphertext tensor (before a multiplication).
  Value relinearized(Value v, int member, const std::string& label) {
    if (prog_.instrs[v.tensor].parts == 2) return v;
    Instr ins;
    ins.op = OpKind::relinearize;
    ins.label = label + "/relin";
    ins.member = member;
    ins.inputs = {v.tensor};
    ins.size = prog_.instrs[v.tensor].size;
    ins.shape = prog_.instrs[v.tensor].shape;
    ins.scale = prog_.instrs[v.tensor].scale;
    ins.log2_bound = prog_.instrs[v.tensor].log2_bound;
    v.tensor = emit(std::move(ins));
    return v;
  }

  // Linear over (possibly several) inputs. rows use Term::input as an index into `ins`;
  // bias[o] is the constant at the output's scale (BFV: rounded to an integer).
  // weight_bits: CKKS quantization of the real weights (Instr::weight_bits).
  Value linear(const std::vector<Value>& ins_v, std::vector<std::vector<Term>> rows, const std::vector<double>& bias_in,
               Scale out_scale, Shape shape, int member, const std::string& label, int weight_bits = 0) {
    std::vector<double> bias(bias_in);
    Instr ins;
    ins.weight_bits = ckks_ ? weight_bits : 0;
    if (ckks_) {
      ins.bias_real = bias;
    } else {
      ins.bias.resize(bias.size());
      for (std::size_t o = 0; o < bias.size(); ++o) {
        ins.bias[o] = to_wide(bias[o], label + " bias");
        bias[o] = double(ins.bias[o]);
      }
    }
    ins.op = OpKind::linear;
    ins.label = label;
    ins.member = member;
    for (const auto& v : ins_v) ins.inputs.push_back(v.tensor);
    ins.size = rows.size();
    ins.shape = shape;
    double norm = 1;
    std::vector<double> lo(rows.size()), hi(rows.size());
    for (std::size_t o = 0; o < rows.size(); ++o) {
      double l = bias[o], h = l, n = 0;
      for (const auto& t : rows[o]) {
        const double w = t.real;
        const auto& v = ins_v[t.input];
        const std::size_t i = std::size_t(t.index);
        if (w > 0) {
          l += w * v.L(i);
          h += w * v.H(i);
        } else {
          l += w * v.H(i);
          h += w * v.L(i);
        }
        n += w * w;
      }
      lo[o] = l;
      hi[o] = h;
      norm = std::max(norm, std::sqrt(n));
    }
    const double bound = max_abs(lo, hi);
    ins.rows = std::move(rows);
    ins.scale = real_scale(out_scale);
    ins.log2_bound = log2_bound(bound);
    ins.log2_weight_norm = std::log2(norm);
    Value out{emit(std::move(ins)), out_scale, bound, std::move(lo), std::move(hi)};
    if (!opt_.lazy_relinearize && prog_.instrs[out.tensor].parts == 3) out = relinearized(out, member, label);
    return out;
  }

  Value square(Value v, int member, const std::string& label) {
    v = relinearized(v, member, label);
    Instr ins;
    ins.op = OpKind::square;
    ins.label = label;
    ins.member = member;
    ins.inputs = {v.tensor};
    ins.size = prog_.instrs[v.tensor].size;
    ins.shape = prog_.instrs[v.tensor].shape;
    Scale s{2 * v.scale.p, 2 * v.scale.a};
    ins.scale = real_scale(s);
    std::vector<double> lo(ins.size), hi(ins.size);
    for (std::size_t i = 0; i < ins.size; ++i) {
      const double l = v.L(i), h = v.H(i);
      if (l >= 0) {
        lo[i] = l * l, hi[i] = h * h;
      } else if (h <= 0) {
        lo[i] = h * h, hi[i] = l * l;
      } else {
        lo[i] = 0, hi[i] = std::max(l * l, h * h);
      }
    }
    const double bound = max_abs(lo, hi);
    ins.log2_bound = log2_bound(bound);
    Value out{emit(std::move(ins)), s, bound, std::move(lo), std::move(hi)};
    if (!opt_.lazy_relinearize) out = relinearized(out, member, label);
    return out;
  }

  Value multiply(Value a, Value b, int member, const std::string& label) {
    a = relinearized(a, member, label + "/a");
    b = relinearized(b, member, label + "/b");
    Instr ins;
    ins.op = OpKind::multiply;
    ins.label = label;
    ins.member = member;
    ins.inputs = {a.tensor, b.tensor};
    ins.size = prog_.instrs[a.tensor].size;
    ins.shape = prog_.instrs[a.tensor].shape;
    Scale s{a.scale.p + b.scale.p, a.scale.a + b.scale.a};
    ins.scale = real_scale(s);
    std::vector<double> lo(ins.size), hi(ins.size);
    for (std::size_t i = 0; i < ins.size; ++i) {
      const double c[4] = {a.L(i) * b.L(i), a.L(i) * b.H(i), a.H(i) * b.L(i), a.H(i) * b.H(i)};
      lo[i] = *std::min_element(c, c + 4);
      hi[i] = *std::max_element(c, c + 4);
    }
    const double bound = max_abs(lo, hi);
    ins.log2_bound = log2_bound(bound);
    Value out{emit(std::move(ins)), s, bound, std::move(lo), std::move(hi)};
    if (!opt_.lazy_relinearize) out = relinearized(out, member, label);
    return out;
  }

  void mark_layer_end(int tensor) { prog_.instrs[tensor].is_layer_end = true; }

  const CompileOptions& opt() const { return opt_; }
  Program& prog() { return prog_; }

 private:
  Program& prog_;
  const CompileOptions& opt_;
  double r_;
  bool ckks_;
};

std::string fmt_double(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

// nn::weight_exponent (quant_rules.h) after a finiteness check that names the layer.
int weight_exponent(const std::vector<double>& w, int bits, const std::string& where) {
  for (double x : w)
    if (!std::isfinite(x)) throw CompileError(where + ": weight is not finite");
  return nn::weight_exponent(w, bits);
}

std::int64_t to_int(double v, const std::string& where) {
  if (!std::isfinite(v) || std::fabs(v) > 9.0e15) throw ConstantTooLarge(where, v, 53);
  return std::llround(v);
}

// A layer's bits: its CompileOptions::layer_bits entry, else the global default.
int layer_bits(const CompileOptions& opt, const std::string& where, int fallback) {
  const auto it = opt.layer_bits.find(where);
  return it == opt.layer_bits.end() ? fallback : it->second;
}

struct Member {
  Value out;
  Scale scale;
};

// CKKS: polynomial terms whose worst-case contribution is below this share of the
// largest term's are dropped (e.g. the -2.7e-18 x^3 of a fitted ReLU would cost a level).
constexpr double kNegligibleTerm = 0x1p-30;

Value lower_model(Lowering& L, const Model& m, int member, Value x, double offset) {
  auto shapes = output_shapes(m);
  Shape in = m.input.shape;
  bool first_linear = true;
  const bool ckks = L.ckks();
  const std::string prefix = "m" + std::to_string(member) + "/";
  int conv_i = 0, dense_i = 0, pool_i = 0, act_i = 0;
  // A weight term: BFV quantizes w at 2^k (nonzero integers only); CKKS keeps the real
  // weight on the input's value (the planner quantizes it).
  auto add_term = [&](std::vector<Term>& row, int index, double w, int k, double in_scale, const std::string& where) {
    if (ckks) {
      if (w != 0) row.push_back({0, index, 0, w / in_scale});
      return;
    }
    const std::int64_t q = to_int(std::ldexp(w, k), where);
    if (q != 0) row.push_back({0, index, q, double(q)});
  };
  for (std::size_t li = 0; li < m.layers.size(); ++li) {
    const Layer& layer = m.layers[li];
    const Shape out = shapes[li];
    if (const auto* c = std::get_if<Conv2d>(&layer)) {
      const std::string where = prefix + "conv" + std::to_string(++conv_i);
      const int wbits = layer_bits(L.opt(), where, L.opt().weight_bits);
      const int k = ckks ? 0 : weight_exponent(c->weight, wbits, where);
      const Scale os = L.weighted(x.scale, k);
      const double out_scale = L.real_scale(os), in_scale = L.real_scale(x.scale);
      std::vector<std::vector<Term>> rows(out.size());
      std::vector<double> bias(out.size());
      for (int oc = 0; oc < out.c; ++oc)
        for (int oy = 0; oy < out.h; ++oy)
          for (int ox = 0; ox < out.w; ++ox) {
            const std::size_t o = (std::size_t(oc) * out.h + oy) * out.w + ox;
            double wsum = 0;
            for (int ic = 0; ic < c->in_channels; ++ic)
              for (int ky = 0; ky < c->kernel_h; ++ky)
                for (int kx = 0; kx < c->kernel_w; ++kx) {
                  const int iy = oy * c->stride_h - c->pad_h + ky, ix = ox * c->stride_w - c->pad_w + kx;
                  if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) continue;
                  const double w = c->weight[((std::size_t(oc) * c->in_channels + ic) * c->kernel_h + ky) * c->kernel_w + kx];
                  if (!std::isfinite(w)) throw CompileError(where + ": weight is not finite");
                  wsum += w;
                  add_term(rows[o], int((std::size_t(ic) * in.h + iy) * in.w + ix), w, k, in_scale, where);
                }
            bias[o] = (c->bias[oc] + (first_linear ? offset * wsum : 0.0)) * out_scale;
          }
      x = L.linear({x}, std::move(rows), bias, os, out, member, where, wbits);
      first_linear = false;
    } else if (const auto* d = std::get_if<Dense>(&layer)) {
      const std::string where = prefix + "dense" + std::to_string(++dense_i);
      const int wbits = layer_bits(L.opt(), where, L.opt().weight_bits);
      const int k = ckks ? 0 : weight_exponent(d->weight, wbits, where);
      const Scale os = L.weighted(x.scale, k);
      const double out_scale = L.real_scale(os), in_scale = L.real_scale(x.scale);
      std::vector<std::vector<Term>> rows(d->out_features);
      std::vector<double> bias(d->out_features);
      for (int o = 0; o < d->out_features; ++o) {
        double wsum = 0;
        for (int i = 0; i < d->in_features; ++i) {
          const double w = d->weight[std::size_t(o) * d->in_features + i];
          if (!std::isfinite(w)) throw CompileError(where + ": weight is not finite");
          wsum += w;
          add_term(rows[o], i, w, k, in_scale, where);
        }
        bias[o] = (d->bias[o] + (first_linear ? offset * wsum : 0.0)) * out_scale;
      }
      x = L.linear({x}, std::move(rows), bias, os, out, member, where, wbits);
      first_linear = false;
    } else if (const auto* p = std::get_if<SumPool>(&layer)) {
      const std::string where = prefix + "pool" + std::to_string(++pool_i);
      if (first_linear && offset != 0) throw CompileError(where + ": an input offset before the first conv/dense is not supported");
      std::vector<std::vector<Term>> rows(out.size());
      for (int ch = 0; ch < out.c; ++ch)
        for (int oy = 0; oy < out.h; ++oy)
          for (int ox = 0; ox < out.w; ++ox) {
            auto& row = rows[(std::size_t(ch) * out.h + oy) * out.w + ox];
            for (int ky = 0; ky < p->kernel_h; ++ky)
              for (int kx = 0; kx < p->kernel_w; ++kx) {
                const int iy = oy * p->stride_h + ky, ix = ox * p->stride_w + kx;
                if (iy < in.h && ix < in.w) row.push_back({0, int((std::size_t(ch) * in.h + iy) * in.w + ix), 1, 1.0});
              }
          }
      x = L.linear({x}, std::move(rows), std::vector<double>(out.size(), 0.0), x.scale, out, member, where);
    } else if (const auto* a = std::get_if<Poly>(&layer)) {
      const std::string where = prefix + "act" + std::to_string(++act_i);
      if (first_linear && offset != 0) throw CompileError(where + ": an input offset before the first conv/dense is not supported");
      std::vector<double> c = a->coeffs;
      for (double v : c)
        if (!std::isfinite(v)) throw CompileError(where + ": activation coefficient is not finite");
      while (c.size() > 1 && c.back() == 0) c.pop_back();
      const double s = L.real_scale(x.scale);
      const int cb = layer_bits(L.opt(), where, L.opt().coeff_bits);
      // Integer coefficients (BFV) at degree d: C_j S^(d-j) 2^cb, output scale S^d 2^cb.
      auto bfv_coeffs = [&](int d) {
        std::vector<std::int64_t> w(std::size_t(d) + 1, 0);
        for (int j = 1; j <= d; ++j) w[std::size_t(j)] = to_int(std::ldexp(c[std::size_t(j)], cb) * std::pow(s, d - j), where);
        return w;
      };
      // Trailing terms that do not count are dropped, so their powers cost nothing:
      // BFV: coefficients that round to 0; CKKS: worst-case contribution below kNegligibleTerm.
      if (ckks) {
        // In log2 (worst-case bounds can pass the double range at depth).
        double lb = std::log2(std::max(1e-300, x.bound)) - std::log2(s);
        if (const auto it = L.opt().ckks_activation_log2_range.find(where); it != L.opt().ckks_activation_log2_range.end())
          lb = std::min(lb, it->second);
        if (!std::isfinite(lb)) throw CompileError(where + ": the worst-case bound on its input overflows a double (too deep)");
        auto term = [&](std::size_t j) { return c[j] == 0 ? -1e300 : std::log2(std::fabs(c[j])) + double(j) * lb; };
        double biggest = -1e300;
        for (std::size_t j = 0; j < c.size(); ++j) biggest = std::max(biggest, term(j));
        while (c.size() > 1 && term(c.size() - 1) <= std::log2(kNegligibleTerm) + biggest) c.pop_back();
      } else {
        while (c.size() > 2 && std::llround(std::ldexp(c.back(), cb)) == 0) c.pop_back();  // C_d = round(c_d 2^cb)
      }
      const int d = int(c.size()) - 1;
      if (d < 1) throw CompileError(where + ": constant activation polynomial");
      if (d > 8) throw CompileError(where + ": activation degree " + std::to_string(d) + " > 8 is not supported");
      const bool pure_square = d == 2 && c[0] == 0 && c[1] == 0 && c[2] == 1;
      if (pure_square) {
        x = L.square(x, member, where);
      } else {
        // Powers X^j by a power tree (depth ceil(log2 d)), then one linear layer over them.
        const std::vector<std::int64_t> w = ckks ? std::vector<std::int64_t>() : bfv_coeffs(d);
        auto used = [&](int j) { return ckks ? c[std::size_t(j)] != 0 : w[std::size_t(j)] != 0; };
        std::vector<bool> need(std::size_t(d) + 1, false);
        for (int j = d; j >= 2; --j) {
          if (!used(j) && !need[std::size_t(j)]) continue;
          need[std::size_t(j)] = true;
          need[std::size_t(j / 2)] = true;
          need[std::size_t(j - j / 2)] = true;
        }
        std::vector<Value> pw(std::size_t(d) + 1);
        // x itself relinearized (and so rescaled, CKKS) like the copy the products use.
        pw[1] = L.relinearized(x, member, where);
        for (int j = 2; j <= d; ++j) {
          if (!need[std::size_t(j)]) continue;
          const int h = j / 2;
          pw[std::size_t(j)] = (h == j - h) ? L.square(pw[std::size_t(h)], member, where + "/x^" + std::to_string(j))
                                            : L.multiply(pw[std::size_t(h)], pw[std::size_t(j - h)], member, where + "/x^" + std::to_string(j));
        }
        // CKKS, degree > 2: every power relinearized (and rescaled), so the combination's
        // inputs have similar factors (unrescaled products would differ by up to 2^100).
        if (ckks && d > 2)
          for (int j = 2; j <= d; ++j)
            if (used(j)) pw[std::size_t(j)] = L.relinearized(pw[std::size_t(j)], member, where + "/x^" + std::to_string(j));
        const Scale os = ckks ? Scale{0, 0} : Scale{d * x.scale.p, d * x.scale.a + cb};
        const std::size_t n_out = L.prog().instrs[x.tensor].size;
        std::vector<std::vector<Term>> rows(n_out);
        std::vector<Value> ins;
        std::vector<std::int64_t> qw;
        std::vector<double> rw;
        for (int j = 1; j <= d; ++j) {
          if (!used(j)) continue;
          ins.push_back(pw[std::size_t(j)]);
          qw.push_back(ckks ? 0 : w[std::size_t(j)]);
          rw.push_back(ckks ? c[std::size_t(j)] / std::pow(s, j) : double(w[std::size_t(j)]));
        }
        if (ins.empty()) throw CompileError(where + ": polynomial rounds to a constant at --coeff-bits");
        const double c0 = ckks ? c[0] : std::ldexp(c[0], cb) * std::pow(s, d);
        for (std::size_t i = 0; i < rows.size(); ++i)
          for (std::size_t k = 0; k < ins.size(); ++k) rows[i].push_back({int(k), int(i), qw[k], rw[k]});
        x = L.linear(ins, std::move(rows), std::vector<double>(n_out, c0), os, out, member, where, cb);
      }
    } else {
      throw CompileError(prefix + "layer " + std::to_string(li) + ": unsupported layer type");
    }
    L.mark_layer_end(x.tensor);
    in = out;
  }
  return x;
}

}  // namespace

namespace {
// Lowers members and combiners into prog.instrs / prog.outputs (r: 1 / input scale).
void lower_program(Program& prog, std::span<const Model> members, const EnsembleOptions& ens, const CompileOptions& opt, double r);
void place_relinearizations(Program& prog);
}  // namespace

std::vector<QuantKnob> quantization_knobs(std::span<const Model> members) {
  std::vector<QuantKnob> knobs;
  for (std::size_t m = 0; m < members.size(); ++m) {
    const std::string prefix = "m" + std::to_string(m) + "/";
    int conv_i = 0, dense_i = 0, act_i = 0;
    for (const auto& layer : members[m].layers) {
      if (std::holds_alternative<Conv2d>(layer)) knobs.push_back({prefix + "conv" + std::to_string(++conv_i), true, int(m)});
      else if (std::holds_alternative<Dense>(layer)) knobs.push_back({prefix + "dense" + std::to_string(++dense_i), true, int(m)});
      else if (const auto* a = std::get_if<Poly>(&layer)) {
        const std::string name = prefix + "act" + std::to_string(++act_i);
        std::vector<double> c = a->coeffs;
        while (c.size() > 1 && c.back() == 0) c.pop_back();
        const bool pure_square = c.size() == 3 && c[0] == 0 && c[1] == 0 && c[2] == 1;
        if (!pure_square) knobs.push_back({name, false, int(m)});
      }
    }
  }
  return knobs;
}

Program compile(std::span<const Model> members, const EnsembleOptions& ens, const CompileOptions& opt) {
  if (members.empty()) throw CompileError("no model to compile");
  if (opt.input_bits < 1 || opt.input_bits > 8) throw CompileError("--input-bits must be in 1..8");
  if (opt.weight_bits < 2 || opt.weight_bits > 24) throw CompileError("--weight-bits must be in 2..24");
  if (opt.coeff_bits < 0 || opt.coeff_bits > 24) throw CompileError("--coeff-bits must be in 0..24");
  if (!opt.layer_bits.empty()) {
    const auto knobs = quantization_knobs(members);
    for (const auto& entry : opt.layer_bits) {
      const std::string& name = entry.first;
      const int bits = entry.second;
      const auto it = std::find_if(knobs.begin(), knobs.end(), [&](const QuantKnob& k) { return k.name == name; });
      if (it == knobs.end()) {
        std::string known;
        for (const auto& k : knobs) known += (known.empty() ? "" : ", ") + k.name;
        throw CompileError("layer bits for '" + name + "': no such quantized layer (the members have: " + known + ")");
      }
      if (it->weights && (bits < 2 || bits > 24)) throw CompileError("layer bits for '" + name + "': weight bits must be in 2..24");
      if (!it->weights && (bits < 0 || bits > 24)) throw CompileError("layer bits for '" + name + "': coefficient bits must be in 0..24");
    }
  }
  for (std::size_t i = 0; i < members.size(); ++i) {
    try {
      validate(members[i]);
    } catch (const ModelError& e) {
      throw CompileError("member " + std::to_string(i) + ": " + e.what());
    }
    if (members[i].layers.empty()) throw CompileError("member " + std::to_string(i) + " has no layers");
    if (!(members[i].input.shape == members[0].input.shape) || members[i].input.scale != members[0].input.scale ||
        members[i].input.offset != members[0].input.offset) {
      throw CompileError("member " + std::to_string(i) + " has a different input spec from member 0");
    }
    if (members[i].num_classes() != members[0].num_classes()) {
      throw CompileError("member " + std::to_string(i) + " has " + std::to_string(members[i].num_classes()) +
                         " classes, member 0 has " + std::to_string(members[0].num_classes()));
    }
  }
  const InputSpec& spec = members[0].input;
  if (!(spec.scale > 0) || !std::isfinite(spec.scale)) throw CompileError("input scale must be positive");

  Program prog;
  prog.scheme = opt.scheme;
  prog.members = int(members.size());
  for (const auto& m : members) prog.member_digests.push_back(model_fingerprint(m));
  prog.input_shape = spec.shape;
  // X = round(raw * 2^(ib - 8)); real x = X * 2^(8 - ib) * s + offset.
  prog.input_quant = std::ldexp(1.0, opt.input_bits - 8);
  const double r = 1.0 / spec.scale;
  prog.input_scale = r * prog.input_quant;
  prog.quantization.input_bits = opt.input_bits;
  prog.quantization.weight_bits = opt.weight_bits;
  prog.quantization.coeff_bits = opt.coeff_bits;
  prog.quantization.layer_bits.assign(opt.layer_bits.begin(), opt.layer_bits.end());

  try {
    lower_program(prog, members, ens, opt, r);
  } catch (const ConstantTooLarge& e) {
    int depth = 0, at = 0;
    for (const auto& m : members) depth = std::max(depth, model_depth(m));
    for (const auto& ins : prog.instrs) at = std::max(at, ins.depth);
    char b[640];
    std::snprintf(b, sizeof b,
                  "%s cannot run this network exactly: at %s (multiplicative depth %d of the network's %d) a quantized constant "
                  "needs %.0f bits, more than the %d bits the integer program holds; %s scales multiply with depth. Use "
                  "--scheme ckks (it rescales: depth costs levels, not bits), or lower --weight-bits / --coeff-bits / --input-bits",
                  opt.scheme == Scheme::ckks ? "the CKKS lowering" : scheme_name(opt.scheme), e.where.c_str(), at, depth, e.bits,
                  e.limit_bits, opt.scheme == Scheme::bgv ? "BGV" : "BFV");
    throw CompileError(b);
  }
  if (opt.lazy_relinearize) place_relinearizations(prog);
  if (opt.scheme == Scheme::ckks) {
    plan_ckks(prog, opt);
  } else {
    choose_parameters(prog, opt);
  }
  return prog;
}

namespace {

void lower_program(Program& prog, std::span<const Model> members, const EnsembleOptions& ens, const CompileOptions& opt, double r) {
  const InputSpec& spec = members[0].input;
  Lowering L(prog, opt, r);
  Instr in;
  in.op = OpKind::input;
  in.label = "input";
  in.size = spec.shape.size();
  in.shape = spec.shape;
  in.scale = prog.input_scale;
  const double in_bound = std::ceil(255.0 * prog.input_quant);
  in.log2_bound = std::log2(std::max(in_bound, 1.0));
  const std::size_t in_size = spec.shape.size();
  Value x{L.emit(std::move(in)), Scale{1, opt.input_bits - 8}, in_bound, std::vector<double>(in_size, 0.0),
          std::vector<double>(in_size, in_bound)};

  std::vector<Value> outs;
  for (std::size_t i = 0; i < members.size(); ++i) {
    Value o = lower_model(L, members[i], int(i), x, spec.offset);
    outs.push_back(o);
    prog.outputs.push_back({o.tensor, "m" + std::to_string(i), int(i), prog.instrs[o.tensor].scale,
                            prog.instrs[o.tensor].log2_bound});
  }

  if (members.size() > 1) {
    const std::size_t classes = prog.instrs[outs[0].tensor].size;
    // Align scales: common scale R^P 2^A, member factor R^(P-p) 2^(A-a) (an integer when R is).
    Scale common{0, 0};
    for (const auto& o : outs) {
      common.p = std::max(common.p, o.scale.p);
      common.a = std::max(common.a, o.scale.a);
    }
    std::vector<std::int64_t> factor(outs.size());
    for (std::size_t i = 0; i < outs.size(); ++i) {
      factor[i] = to_int(std::pow(r, common.p - outs[i].scale.p) * std::ldexp(1.0, common.a - outs[i].scale.a),
                         "ensemble alignment");
    }
    const std::vector<Value> member_outs = outs;
    if (ens.combiners.empty()) throw CompileError("ensemble: no combiner");
    std::string names;
    for (const Combiner comb : ens.combiners) {
      std::vector<std::int64_t> mw(member_outs.size(), 1);
      Scale ens_scale = common;
      const std::string name = combiner_name(comb);
      const std::string oname = ens.combiners.size() == 1 ? std::string("ensemble") : "ens-" + name;
      Value y;
      if (comb == Combiner::weighted_mean) {
        if (ens.weights.size() != member_outs.size()) {
          throw CompileError("weighted ensemble needs " + std::to_string(member_outs.size()) + " weights, got " +
                             std::to_string(ens.weights.size()));
        }
        double wmax = 0;
        for (double w : ens.weights) {
          if (!(w >= 0) || !std::isfinite(w)) throw CompileError("ensemble weights must be finite and >= 0");
          wmax = std::max(wmax, w);
        }
        if (wmax == 0) throw CompileError("ensemble weights are all zero");
        prog.member_weights.clear();
        for (std::size_t i = 0; i < member_outs.size(); ++i) {
          mw[i] = std::llround(ens.weights[i] / wmax * std::ldexp(1.0, ens.weight_bits));
          prog.member_weights.push_back(double(mw[i]));
        }
        // BFV: scores are sum w_i z_i at 2^wb (divide by sum w for the mean); CKKS: the same real scores.
        if (!L.ckks()) ens_scale.a += ens.weight_bits;
      }
      if (comb == Combiner::poly_softmax) {
        // v_i = a_i S (2T_i + z_i - mu_i) = a_i F_i Z_i + round(a_i S (2T_i - mu_i));
        // y = sum v_i^2 = 4 S^2 sum_i a_i^2 T_i^2 (1 + (z_i - mu_i) / 2T_i)^2, a_i T_i = min T (per member).
        const std::size_t M = member_outs.size();
        std::vector<double> T(M, ens.temperature), mu(M, 0.0);
        if (!ens.temperatures.empty()) {
          if (ens.temperatures.size() != M || (!ens.temperature_shifts.empty() && ens.temperature_shifts.size() != M))
            throw CompileError("poly-softmax: " + std::to_string(M) + " members need as many temperatures (and shifts)");
          T = ens.temperatures;
          if (!ens.temperature_shifts.empty()) mu = ens.temperature_shifts;
        } else if (T[0] <= 0) {
          double zb = 0;
          for (const auto& o : member_outs) zb = std::max(zb, o.bound / L.real_scale(o.scale));
          std::fill(T.begin(), T.end(), std::max(1.0, zb / 2));
        }
        double tmin = T[0];
        for (std::size_t i = 0; i < M; ++i) {
          if (!(T[i] > 0) || !std::isfinite(T[i]) || !std::isfinite(mu[i])) throw CompileError("poly-softmax: temperatures must be finite and > 0");
          tmin = std::min(tmin, T[i]);
        }
        const bool uniform = std::all_of(T.begin(), T.end(), [&](double t) { return t == T[0]; });
        // BFV: a_i = round(2^wb min T / T_i), the squares' scale (2^wb S)^2; all equal: a_i = 1.
        const int wb = uniform ? 0 : ens.weight_bits;
        Scale shifted = common;
        if (!L.ckks()) shifted.a += wb;
        const double S = L.real_scale(shifted);
        prog.temperature = tmin;
        std::vector<Value> sq;
        for (std::size_t i = 0; i < M; ++i) {
          const double a_real = uniform ? 1.0 : tmin / T[i];
          const std::int64_t a_int = uniform ? 1 : std::max<std::int64_t>(1, std::llround(std::ldexp(a_real, wb)));
          const double a = L.ckks() ? a_real : std::ldexp(double(a_int), -wb);
          std::vector<std::vector<Term>> rows(classes);
          for (std::size_t c = 0; c < classes; ++c) {
            if (L.ckks()) rows[c].push_back({0, int(c), 0, a_real * double(factor[i])});
            else rows[c].push_back({0, int(c), factor[i] * a_int, double(factor[i] * a_int)});
          }
          Value v = L.linear({member_outs[i]}, std::move(rows), std::vector<double>(classes, a * (2 * T[i] - mu[i]) * S),
                             shifted, Shape{int(classes), 1, 1}, -1, "ensemble/" + name + "/shift" + std::to_string(i),
                             uniform ? 0 : ens.weight_bits + 2);
          sq.push_back(L.square(v, -1, "ensemble/" + name + "/square" + std::to_string(i)));
        }
        std::vector<std::vector<Term>> rows(classes);
        for (std::size_t c = 0; c < classes; ++c)
          for (std::size_t i = 0; i < sq.size(); ++i) rows[c].push_back({int(i), int(c), 1, 1.0});
        ens_scale = Scale{2 * shifted.p, 2 * shifted.a};
        y = L.linear(sq, std::move(rows), std::vector<double>(classes, 0.0), ens_scale, Shape{int(classes), 1, 1}, -1,
                     "ensemble/" + name);
      } else if (comb == Combiner::normalized || comb == Combiner::stacked) {
        const bool st = comb == Combiner::stacked;
        const auto& W = st ? ens.stacked_weights : ens.normalized_weights;
        const auto& B = st ? ens.stacked_bias : ens.normalized_bias;
        const std::size_t K = member_outs.size() * classes;
        if (W.size() != classes * K || B.size() != classes)
          throw CompileError(name + " combiner: needs " + std::to_string(classes) + " x " + std::to_string(K) + " weights and " +
                             std::to_string(classes) + " biases (fitted on validation images), got " + std::to_string(W.size()) +
                             " and " + std::to_string(B.size()));
        for (double v : B)
          if (!std::isfinite(v)) throw CompileError(name + " combiner: bias is not finite");
        if (ens.affine_weight_bits < 2 || ens.affine_weight_bits > 24) throw CompileError(name + " combiner: weight bits must be in 2..24");
        const int k = L.ckks() ? 0 : weight_exponent(W, ens.affine_weight_bits, "ensemble/" + name);
        if (!L.ckks()) ens_scale.a += k;
        const double out_scale = L.real_scale(ens_scale);
        std::vector<std::vector<Term>> rows(classes);
        for (std::size_t c = 0; c < classes; ++c)
          for (std::size_t i = 0; i < member_outs.size(); ++i)
            for (std::size_t j = 0; j < classes; ++j) {
              const double w = W[c * K + i * classes + j];
              if (w == 0) continue;
              if (L.ckks()) {
                rows[c].push_back({int(i), int(j), 0, w / L.real_scale(member_outs[i].scale)});
              } else {
                const std::int64_t q = to_int(std::ldexp(w, k), "ensemble/" + name) * factor[i];
                if (q != 0) rows[c].push_back({int(i), int(j), q, double(q)});
              }
            }
        std::vector<double> bias(classes);
        for (std::size_t c = 0; c < classes; ++c) bias[c] = B[c] * out_scale;
        y = L.linear(member_outs, std::move(rows), bias, ens_scale, Shape{int(classes), 1, 1}, -1, "ensemble/" + name,
                     ens.affine_weight_bits + 2);
      } else {
        std::vector<std::vector<Term>> rows(classes);
        for (std::size_t c = 0; c < classes; ++c)
          for (std::size_t i = 0; i < member_outs.size(); ++i)
            if (mw[i] != 0) {
              const std::int64_t q = factor[i] * mw[i];
              const bool w = comb == Combiner::weighted_mean;
              rows[c].push_back({int(i), int(c), L.ckks() ? 0 : q, L.ckks() && w ? std::ldexp(double(q), -ens.weight_bits) : double(q)});
            }
        y = L.linear(member_outs, std::move(rows), std::vector<double>(classes, 0.0), ens_scale, Shape{int(classes), 1, 1}, -1,
                     "ensemble/" + name, comb == Combiner::weighted_mean ? ens.weight_bits + 2 : 0);
      }
      NoiseParameters noise;
      double sens = 0;
      if (ens.privacy.active()) {
        const auto it = ens.dp_sensitivity.find(comb);
        if (it == ens.dp_sensitivity.end()) throw CompileError("differential privacy: no sensitivity given for the " + name + " combiner");
        sens = it->second;
        noise = dp_noise(ens.privacy, sens);
        // Scores plus noise must fit: widen the output's guaranteed range.
        const double grow = noise.bound * L.real_scale(y.scale);
        for (auto& v : y.lo) v -= grow;
        for (auto& v : y.hi) v += grow;
        y.bound += grow;
        prog.instrs[std::size_t(y.tensor)].log2_bound = L.log2_bound(y.bound);
      }
      // Relinearize the final result (smaller download); members' outputs stay as they are.
      y = L.relinearized(y, -1, "ensemble/" + name);
      L.mark_layer_end(y.tensor);
      prog.outputs.push_back({y.tensor, oname, -1, prog.instrs[y.tensor].scale, prog.instrs[y.tensor].log2_bound, name, sens,
                              noise.scale, noise.bound});
      names += (names.empty() ? "" : ", ") + name + (comb == Combiner::poly_softmax ? " T=" + fmt_double(prog.temperature) : "");
    }
    prog.description = std::to_string(members.size()) + "-member ensemble (" + names + ")";
    if (ens.privacy.active()) {
      prog.privacy = ens.privacy;
      char b[96];
      std::snprintf(b, sizeof b, ", %s DP epsilon %g", ens.privacy.mechanism.c_str(), ens.privacy.epsilon);
      prog.description += b;
    }
  } else {
    Value y = L.relinearized(outs[0], 0, "m0/output");
    L.mark_layer_end(y.tensor);
    prog.outputs[0].tensor = y.tensor;
    prog.description = members[0].meta.name.empty() ? "model" : members[0].meta.name;
  }
  prog.description += ", input " + std::to_string(opt.input_bits) + " bits, weights " + std::to_string(opt.weight_bits) + " bits";
  if (!opt.layer_bits.empty()) {
    std::string per;
    for (const auto& [name, bits] : opt.layer_bits) per += (per.empty() ? "" : ", ") + name + " " + std::to_string(bits);
    prog.description += " (" + per + ")";
  }
}


// Lazy relinearization (the lowering) relinearizes a product just before the next
// product needs it, after the chain of linear layers between them. Any point of that
// chain is correct; this moves each relinearization to the cheapest one: relinearizing
// after tensor T costs size(T) key switches, and every linear layer up to that point
// works on 3-part ciphertexts (one more polynomial per term). One key switch at l primes
// costs about 42 (l + 1) polynomial multiply-adds of one term (the cost model of
// params.cpp, l ~ 8 assumed before levels are known); never directly after the product
// (see below). Ties go to the earliest point:
// fewer 3-part ciphertexts live (memory). CryptoDL Model 2: after act1 (not conv2,
// same count), after pool1 (3,136 key switches instead of conv3's 6,272); CryptoNets
// unchanged (its dense layer is the cheapest point).
void place_relinearizations(Program& prog) {
  constexpr double kRelinTerms = 42.0 * 9.0;
  const std::size_t n = prog.instrs.size();
  std::vector<int> readers(n, 0);
  for (const auto& ins : prog.instrs) {
    std::vector<int> u = ins.inputs;
    std::sort(u.begin(), u.end());
    u.erase(std::unique(u.begin(), u.end()), u.end());
    for (int t : u) ++readers[std::size_t(t)];
  }
  for (const auto& o : prog.outputs) ++readers[std::size_t(o.tensor)];
  auto terms = [&](std::size_t t) {
    double c = 0;
    for (const auto& row : prog.instrs[t].rows) c += double(row.size());
    return c;
  };
  // The single 3-part input of linear t when t is its only reader, else -1.
  auto three_part_input = [&](std::size_t t) {
    int found = -1;
    for (int u : prog.instrs[t].inputs) {
      if (prog.instrs[std::size_t(u)].parts != 3) continue;
      if (found >= 0 && found != u) return -1;
      found = u;
    }
    return found >= 0 && readers[std::size_t(found)] == 1 ? found : -1;
  };
  std::vector<int> relin_after(n, -1);  // tensor k: relinearize right after it
  std::vector<bool> dropped(n, false);
  bool any = false;
  for (std::size_t r = 0; r < n; ++r) {
    const Instr& R = prog.instrs[r];
    if (R.op != OpKind::relinearize || R.inputs.size() != 1) continue;
    std::size_t t = std::size_t(R.inputs[0]);
    if (readers[t] != 1 || prog.instrs[t].op != OpKind::linear) continue;
    std::vector<std::size_t> chain;  // R's input first, then back towards the product
    while (true) {
      chain.push_back(t);
      if (prog.instrs[t].op != OpKind::linear) break;
      const int u = three_part_input(t);
      if (u < 0) break;
      t = std::size_t(u);
    }
    // Relinearizing after chain[k]: chain[k..] (the linear ones) run on 3 parts.
    std::vector<double> three_part(chain.size() + 1, 0.0);
    for (std::size_t k = chain.size(); k-- > 0;)
      three_part[k] = three_part[k + 1] + (prog.instrs[chain[k]].op == OpKind::linear ? terms(chain[k]) : 0.0);
    std::size_t best = 0;
    double best_cost = 0;
    for (std::size_t k = 0; k < chain.size(); ++k) {
      // Never right after the product: a 2-part product is rescaled at once, before the
      // linear layer that follows could combine it (one more level than relinearizing later).
      if (prog.instrs[chain[k]].op != OpKind::linear) continue;
      const double c = kRelinTerms * double(prog.instrs[chain[k]].size) + three_part[k];
      if (k == 0 || c <= best_cost) {
        best = k;
        best_cost = c;
      }
    }
    if (best == 0) continue;
    relin_after[chain[best]] = int(r);
    dropped[r] = true;
    any = true;
  }
  if (!any) return;
  // Rebuild with the moved relinearizations; tensor ids renumbered.
  std::vector<int> remap(n, -1);
  std::vector<Instr> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (dropped[i]) {
      remap[i] = remap[std::size_t(prog.instrs[i].inputs[0])];  // its reader now reads its input
      if (prog.instrs[i].is_layer_end) out[std::size_t(remap[i])].is_layer_end = true;
      continue;
    }
    Instr ins = std::move(prog.instrs[i]);
    for (int& t : ins.inputs) t = remap[std::size_t(t)];
    if (ins.op == OpKind::linear) {
      int parts = 2;
      for (int t : ins.inputs) parts = std::max(parts, out[std::size_t(t)].parts);
      ins.parts = parts;
    }
    out.push_back(std::move(ins));
    remap[i] = int(out.size() - 1);
    if (relin_after[i] >= 0) {
      const Instr& src = out.back();
      Instr rl;
      rl.op = OpKind::relinearize;
      rl.label = src.label + "/relin";
      rl.member = src.member;
      rl.inputs = {int(out.size() - 1)};
      rl.size = src.size;
      rl.shape = src.shape;
      rl.scale = src.scale;
      rl.log2_bound = src.log2_bound;
      rl.depth = src.depth;
      rl.parts = 2;
      rl.is_layer_end = src.is_layer_end;
      out.back().is_layer_end = false;
      out.push_back(std::move(rl));
      remap[i] = int(out.size() - 1);
    }
  }
  prog.instrs = std::move(out);
  for (auto& o : prog.outputs) o.tensor = remap[std::size_t(o.tensor)];
}

}  // namespace

std::size_t ciphertext_bytes(std::size_t n, int primes, int parts) { return n * std::size_t(primes) * std::size_t(parts) * 8; }

}  // namespace hecnn::nn::compiler
