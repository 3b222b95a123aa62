#include "nn/runtime/quantization.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <vector>

#include "math/parallel.h"
#include "nn/model/forward.h"
#include "nn/model/quant_rules.h"
#include "nn/runtime/inference.h"
#include "nn/runtime/simulator.h"

namespace hecnn::nn::runtime {

using compiler::CompileError;
using compiler::CompileOptions;
using compiler::Program;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::size_t kChunk = 1024;  // images per simulated slot vector
constexpr double kFreeCost = 0.005;   // "free" bits: predicted cost within 0.5% of the plan's
constexpr int kMaxExtra = 16;         // the uniform search raises every knob by at most this much

struct Knob {
  std::string name;  // "input" or a layer
  int lo = 0, hi = 0;
};

// Bits per knob, in the order of the knob list.
using Config = std::vector<int>;

struct Trial {
  Config bits;
  bool compiled = false;
  std::string error;
  Program prog;
  double cost = kInf;
  bool simulated = false;
  std::vector<double> deficit;  // per output: share of images whose prediction differs from the float model's
  double worst_deficit() const { return deficit.empty() ? 1.0 : *std::max_element(deficit.begin(), deficit.end()); }
  double agreement() const { return 1.0 - worst_deficit(); }
};

struct Search {
  Search(std::span<const Model> m, const compiler::EnsembleOptions& e, const CompileOptions& b, const Dataset& d,
         const QuantizationRequest& r)
      : members(m), ens(e), base(b), data(d), req(r), n(std::min(r.images, d.count())) {}
  std::span<const Model> members;
  const compiler::EnsembleOptions& ens;
  const CompileOptions& base;
  const Dataset& data;
  const QuantizationRequest& req;
  std::size_t n = 0;                 // calibration images
  std::vector<Knob> knobs;
  bool has_input = false;            // knobs[0] is the input
  std::vector<int> ref_pred;         // ref_pred[o * n + i]: the float model's prediction
  std::size_t evaluations = 0;

  CompileOptions options(const Config& b) const {
    CompileOptions o = base;
    std::size_t k = 0;
    if (has_input) o.input_bits = b[k++];
    for (; k < knobs.size(); ++k) o.layer_bits[knobs[k].name] = b[k];
    return o;
  }

  Trial compile(const Config& b) const {
    Trial t;
    t.bits = b;
    try {
      t.prog = compiler::compile(members, ens, options(b));
      t.compiled = true;
      t.cost = compiler::predicted_cost_per_image(t.prog);
    } catch (const CompileError& e) {
      t.error = e.what();
    }
    return t;
  }

  // The integer program on the calibration images (doubles: the integers' relative error
  // is 2^-50), each output's prediction against the float model's.
  void simulate(Trial& t) {
    if (!t.compiled || t.simulated) return;
    ++evaluations;
    const Program& prog = t.prog;
    const std::size_t outs = prog.outputs.size(), classes = prog.num_classes(), chunks = (n + kChunk - 1) / kChunk;
    std::vector<std::vector<std::size_t>> flips(chunks, std::vector<std::size_t>(outs, 0));
    math::parallel_for(chunks, [&](std::size_t ch) {
      const std::size_t first = ch * kChunk, m = std::min(kChunk, n - first);
      std::vector<std::vector<std::int64_t>> imgs(m);
      for (std::size_t i = 0; i < m; ++i) imgs[i] = prog.quantize_input(data.image(first + i), data.image_size());
      const auto val = simulate_real(prog, to_slots(imgs));
      std::vector<double> q(classes);
      for (std::size_t o = 0; o < outs; ++o) {
        const auto& out = val[std::size_t(prog.outputs[o].tensor)];
        for (std::size_t i = 0; i < m; ++i) {
          for (std::size_t c = 0; c < classes; ++c) q[c] = out[c][i];
          flips[ch][o] += nn::argmax(q) != ref_pred[o * n + first + i];
        }
      }
    });
    t.deficit.assign(outs, 0.0);
    for (const auto& f : flips)
      for (std::size_t o = 0; o < outs; ++o) t.deficit[o] += double(f[o]) / double(n);
    t.simulated = true;
  }

  std::string describe(const Config& b) const {
    std::string s;
    for (std::size_t k = 0; k < knobs.size(); ++k) s += (k ? ", " : "") + knobs[k].name + " " + std::to_string(b[k]);
    return s;
  }

  void report(const std::string& what, const Trial& t) const {
    if (!req.log) return;
    std::string line = "quantization: " + what + " [" + describe(t.bits) + "]: ";
    char b[160];
    if (!t.compiled) {
      line += "does not compile";
    } else {
      if (t.simulated) {
        std::snprintf(b, sizeof b, "agreement %.2f%%, ", 100 * t.agreement());
        line += b;
      }
      const auto& p = t.prog.params;
      std::snprintf(b, sizeof b, "%zu x %d-bit CRT primes, N = %zu, predicted cost %.3g", p.plain_moduli.size(),
                    int(std::ceil(std::log2(double(p.plain_moduli.at(0))))), p.poly_degree, t.cost);
      line += b;
    }
    req.log(line);
  }
};

// The weights of a knob's conv or dense layer ("m0/conv1": member 0's first conv).
const std::vector<double>& layer_weights(std::span<const Model> members, const compiler::QuantKnob& knob) {
  const std::string name = knob.name.substr(knob.name.find('/') + 1);
  const bool conv = name.rfind("conv", 0) == 0;
  const int index = std::stoi(name.substr(conv ? 4 : 5));
  int seen = 0;
  for (const auto& l : members[std::size_t(knob.member)].layers) {
    if (const auto* c = std::get_if<Conv2d>(&l); c && conv && ++seen == index) return c->weight;
    if (const auto* d = std::get_if<Dense>(&l); d && !conv && ++seen == index) return d->weight;
  }
  throw std::logic_error("quantization knob " + knob.name + " names no layer");
}

}  // namespace

compiler::Program choose_quantization(std::span<const Model> members, const compiler::EnsembleOptions& ens,
                                      const CompileOptions& base, const Dataset& calibration, const QuantizationRequest& req) {
  if (!compiler::integer_scheme(base.scheme)) throw std::invalid_argument("choose_quantization: BFV and BGV programs only");
  if (!(req.target > 0 && req.target <= 1)) throw std::invalid_argument("agreement target must lie in (0, 1] (e.g. 0.999 for 99.9%)");
  if (!(req.unseen_factor >= 1)) throw std::invalid_argument("choose_quantization: unseen_factor must be at least 1");
  if (members.empty()) throw std::invalid_argument("no model given");
  if (calibration.count() == 0 || req.images == 0) throw std::invalid_argument("choosing the quantization needs calibration images");
  if (calibration.image_size() != members[0].input.shape.size())
    throw std::invalid_argument("the calibration images have " + std::to_string(calibration.image_size()) + " values, the model expects " +
                                std::to_string(members[0].input.shape.size()));

  Search s(members, ens, base, calibration, req);
  // Knobs start at the defaults (cheap already) and only rise; the input stops at 8 bits
  // (exact pixels). Knobs the caller fixed are not knobs.
  Config b0;
  if (req.search_input) {
    s.knobs.push_back({"input", base.input_bits, 8});
    b0.push_back(base.input_bits);
    s.has_input = true;
  }
  for (const auto& k : compiler::quantization_knobs(members)) {
    if (k.weights ? !req.search_weights : !req.search_coeffs) continue;
    if (base.layer_bits.count(k.name)) continue;
    const int bits = k.weights ? base.weight_bits : base.coeff_bits;
    // Weights already on a grid (quantization-aware training, train/qat.h) are held exactly
    // from that many bits on: more bits would cost without changing a value.
    int hi = 24;
    if (k.weights) {
      const int g = nn::grid_bits(layer_weights(members, k));
      if (g > 0) {
        hi = std::max(bits, g);
        if (req.log) req.log("quantization: " + k.name + " weights lie on a " + std::to_string(g) + "-bit grid; held at most " +
                std::to_string(hi) + " bits");
      }
    }
    s.knobs.push_back({k.name, bits, hi});
    b0.push_back(bits);
  }
  Trial t0 = s.compile(b0);
  if (!t0.compiled) throw CompileError(t0.error);
  const std::size_t outs = t0.prog.outputs.size();

  // Float predictions (once): member logits and combined scores, as the program's outputs.
  s.ref_pred.assign(outs * s.n, 0);
  math::parallel_for(s.n, [&](std::size_t i) {
    const auto r = float_reference(t0.prog, members, calibration.image(i));
    for (std::size_t o = 0; o < outs; ++o) s.ref_pred[o * s.n + i] = nn::argmax(r[o]);
  });
  s.simulate(t0);
  s.report("defaults", t0);

  const double allowed = (1.0 - req.target) / req.unseen_factor;
  auto meets = [&](const Trial& t) { return t.simulated && t.worst_deficit() <= allowed + 1e-12; };
  Trial best = meets(t0) ? t0 : Trial{};  // cheapest that meets the target
  Trial closest = t0;                     // highest agreement (when none meets it)
  auto consider = [&](const Trial& t) {
    if (!t.simulated) return;
    if (meets(t) && (!best.simulated || t.cost < best.cost || (t.cost == best.cost && t.agreement() > best.agreement()))) best = t;
    if (t.agreement() > closest.agreement() || (t.agreement() == closest.agreement() && t.cost < closest.cost)) closest = t;
  };
  const std::size_t K = s.knobs.size();
  std::vector<int> cap(K);  // a knob held where raising it further leaves no parameters
  for (std::size_t k = 0; k < K; ++k) cap[k] = s.knobs[k].hi;
  auto raised = [&](int extra) {
    Config b = b0;
    for (std::size_t k = 0; k < K; ++k) b[k] = std::min(cap[k], b0[k] + extra);
    return b;
  };

  if (K > 0 && !meets(t0)) {
    // 1. Every knob `extra` bits above its default: the smallest extra that meets the target
    // (doubling, then bisection). Where an extra leaves no parameters (plaintext too large,
    // or a constant past 53 bits at depth), knobs are held one by one at the last extra that
    // compiled until the rest compiles.
    int lo = 0, hi = -1;  // extra lo fails the target; hi meets it (-1: none found)
    for (int extra = 1; extra <= kMaxExtra; extra = std::min(2 * extra, kMaxExtra + 1)) {
      Trial t = s.compile(raised(extra));
      if (!t.compiled) {
        s.report("every knob +" + std::to_string(extra), t);
        const Config good = raised(lo);
        for (std::size_t k = 0; k < K && !t.compiled; ++k) {
          if (cap[k] <= good[k]) continue;
          cap[k] = good[k];
          t = s.compile(raised(extra));
        }
        if (!t.compiled || raised(extra) == good) break;  // nothing left to raise
      }
      s.simulate(t);
      s.report("every knob +" + std::to_string(extra) + " (where it has parameters)", t);
      consider(t);
      if (meets(t)) {
        hi = extra;
        break;
      }
      lo = extra;
    }
    while (hi > 0 && hi - lo > 1) {
      const int mid = (lo + hi) / 2;
      Trial t = s.compile(raised(mid));
      if (!t.compiled) break;
      s.simulate(t);
      s.report("every knob +" + std::to_string(mid), t);
      consider(t);
      (meets(t) ? hi : lo) = mid;
    }
  }

  if (K > 0 && best.simulated) {
    // 2. Per layer, cheaper: lower one knob at a time (the ones that cost most output bits
    // first) while the target still holds and the predicted cost falls.
    for (int pass = 0; pass < 2; ++pass) {
      bool lowered = false;
      for (std::size_t k = 0; k < K; ++k) {
        Config b = best.bits;
        if (b[k] <= s.knobs[k].lo) continue;
        --b[k];
        Trial t = s.compile(b);
        if (!t.compiled || t.cost >= best.cost * (1 - kFreeCost)) continue;
        s.simulate(t);
        s.report("lower " + s.knobs[k].name, t);
        const double before = best.cost;
        consider(t);
        lowered |= best.cost < before;
      }
      if (!lowered) break;
    }
  }

  if (K > 0) {
    // 3. Free bits: every knob takes the bits it can have without raising the predicted cost
    // (compile only), then one simulation confirms. Not past 125 bits of plaintext modulus
    // where the plan was below: the client would then decode and check every score with
    // multi-word integers (simulator.h: needs_wide_integers), which the cost model does not
    // count (`hecnn demo --count 10000` at 3 x 47-bit primes: 49 s of its 118 s went to the
    // client's decoding and checks, against 11 s of 55 s at 2 x 46-bit primes).
    const Trial start = best.simulated ? best : closest;
    const bool narrow = !needs_wide_integers(start.prog);
    Config b = start.bits;
    bool grew = false;
    for (std::size_t k = 0; k < K; ++k) {
      for (int extra = 0; extra < 8 && b[k] < s.knobs[k].hi; ++extra) {  // (a held knob may still rise here, alone)
        Config c = b;
        ++c[k];
        const Trial t = s.compile(c);
        if (!t.compiled || t.cost > start.cost * (1 + kFreeCost) || (narrow && needs_wide_integers(t.prog))) break;
        b = c;
        grew = true;
      }
    }
    if (grew) {
      Trial t = s.compile(b);
      s.simulate(t);
      s.report("free bits", t);
      // Same cost, more bits: kept when it still meets the target (or agrees more).
      if (meets(t) || (!best.simulated && t.agreement() >= closest.agreement())) (best.simulated ? best : closest) = t;
    }
  }

  Trial& chosen = best.simulated ? best : closest;
  Program prog = std::move(chosen.prog);
  auto& q = prog.quantization;
  q.searched = true;
  // (The bits themselves the compiler recorded.)
  q.target = req.target;
  q.calibration_target = 1.0 - allowed;
  q.calibration_images = s.n;
  q.agreement = chosen.agreement();
  q.default_agreement = t0.agreement();
  q.cost = chosen.cost;
  q.default_cost = t0.cost;
  q.target_met = meets(chosen);
  q.evaluations = s.evaluations;
  prog.description += "; quantization chosen on " + std::to_string(s.n) + " calibration images";
  return prog;
}

}  // namespace hecnn::nn::runtime
