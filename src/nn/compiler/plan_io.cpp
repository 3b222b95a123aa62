#include "nn/compiler/plan_io.h"

#include <blake2.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "fhe/wire/bytes.h"
#include "fhe/wire/error.h"
#include "math/he_standard.h"
#include "math/primes.h"
#include "nn/model/model_io.h"
#include "nn/compiler/plan_codec.h"

namespace hecnn::nn::compiler {
namespace {

constexpr char kMagic[8] = {'H', 'E', 'C', 'N', 'N', 'P', 'L', 'N'};
using detail::In;
using detail::kMaxString;
using detail::Out;
constexpr std::size_t kMaxInstrs = std::size_t(1) << 20;
constexpr std::size_t kMaxInputs = 4096;
constexpr std::size_t kMaxPrimes = 64;
constexpr std::size_t kMaxMembers = 1024;

[[noreturn]] void bad(const std::string& what) { throw PlanError("plan: " + what); }

void digest(const std::uint8_t* data, std::size_t n, std::uint8_t out[detail::kFrameDigestBytes]) {
  if (blake2b(out, data, nullptr, detail::kFrameDigestBytes, n, 0) != 0) bad("BLAKE2b failed");
}

void write_instr(Out& o, const Instr& ins) {
  o.w.u8(std::uint8_t(ins.op));
  o.str(ins.label);
  o.i32(ins.member);
  o.count(ins.inputs.size());
  for (int t : ins.inputs) o.i32(t);
  o.count(ins.size);
  o.shape(ins.shape);
  o.count(ins.rows.size());
  for (const auto& row : ins.rows) {
    o.count(row.size());
    for (const auto& t : row) {
      o.i32(t.input);
      o.i32(t.index);
      o.i64(t.weight);
      o.f64(t.real);
    }
  }
  o.count(ins.bias.size());
  for (__int128 b : ins.bias) {
    const auto u = static_cast<unsigned __int128>(b);
    o.w.u64(std::uint64_t(u));
    o.w.u64(std::uint64_t(u >> 64));
  }
  o.f64s(ins.bias_real);
  o.i32(ins.weight_bits);
  o.f64(ins.scale);
  o.f64(ins.log2_bound);
  o.f64(ins.log2_weight_norm);
  o.i32(ins.depth);
  o.i32(ins.parts);
  o.i32(ins.level);
  o.b(ins.is_layer_end);
  o.i32(ins.rescale);
  o.f64(ins.factor);
  o.f64s(ins.input_mult);
  o.f64(ins.log2_message);
  o.b(ins.log2_calibrated.has_value());
  o.f64(ins.log2_calibrated.value_or(0.0));
}

Instr read_instr(In& in) {
  Instr ins;
  const auto op = in.r.u8("op");
  if (op > std::uint8_t(OpKind::mod_switch)) in.r.fail("unknown instruction kind " + std::to_string(op));
  ins.op = OpKind(op);
  ins.label = in.str("label");
  ins.member = in.i32("member");
  ins.inputs.resize(in.count("inputs", 4, kMaxInputs));
  for (auto& t : ins.inputs) t = in.i32("inputs");
  ins.size = in.count("size", 0, kMaxTensorElements);
  ins.shape = in.shape("shape");
  ins.rows.resize(in.count("rows", 8, kMaxTensorElements));
  for (auto& row : ins.rows) {
    row.resize(in.count("row terms", 24));
    for (auto& t : row) {
      t.input = in.i32("term input");
      t.index = in.i32("term index");
      t.weight = in.i64("term weight");
      t.real = in.f64("term real");
    }
  }
  ins.bias.resize(in.count("bias", 16, kMaxTensorElements));
  for (auto& b : ins.bias) {
    const std::uint64_t lo = in.r.u64("bias"), hi = in.r.u64("bias");
    b = static_cast<__int128>((static_cast<unsigned __int128>(hi) << 64) | lo);
  }
  ins.bias_real = in.f64s("bias_real");
  ins.weight_bits = in.i32("weight_bits");
  ins.scale = in.f64("scale");
  ins.log2_bound = in.f64("log2_bound");
  ins.log2_weight_norm = in.f64("log2_weight_norm");
  ins.depth = in.i32("depth");
  ins.parts = in.i32("parts");
  ins.level = in.i32("level");
  ins.is_layer_end = in.b("is_layer_end");
  ins.rescale = in.i32("rescale");
  ins.factor = in.f64("factor");
  ins.input_mult = in.f64s("input_mult");
  ins.log2_message = in.f64("log2_message");
  const bool has_cal = in.b("has_calibration");
  const double cal = in.f64("log2_calibrated");
  if (has_cal) ins.log2_calibrated = cal;
  return ins;
}

// ---- validation ----------------------------------------------------------------------

void check_finite(double v, const std::string& what) {
  if (!std::isfinite(v)) bad(what + " is not a finite number");
}

// A 128-bit secure chain of distinct NTT primes for degree n (special prime last).
void check_chain(std::size_t n, const std::vector<std::uint64_t>& q, const char* what) {
  const int max_bits = math::max_coeff_bits_128(n);
  if (max_bits == 0) bad(std::string(what) + ": polynomial degree " + std::to_string(n) + " is not one of 1024 .. 32768");
  if (q.size() < 2) bad(std::string(what) + ": the coefficient modulus needs at least two primes (data + special)");
  double bits = 0;
  std::set<std::uint64_t> seen;
  for (auto p : q) {
    if (p < 2 || p >= (std::uint64_t(1) << 61) || (p - 1) % (2 * n) != 0 || !math::is_prime(p))
      bad(std::string(what) + ": " + std::to_string(p) + " is not an NTT prime (1 mod 2N, below 2^61)");
    if (!seen.insert(p).second) bad(std::string(what) + ": prime " + std::to_string(p) + " appears twice");
    bits += std::log2(double(p));
  }
  if (std::ceil(bits - 1e-9) > max_bits)
    bad(std::string(what) + ": coefficient modulus of " + std::to_string(int(std::ceil(bits))) + " bits at N = " + std::to_string(n) +
        " is below 128-bit security (at most " + std::to_string(max_bits) + " bits)");
}

}  // namespace

void validate_program(const Program& p) {
  const bool ckks = p.scheme == Scheme::ckks;
  if (!integer_scheme(p.scheme) && !ckks) bad("unknown scheme");
  if (p.description.size() > kMaxString) bad("description too long");
  if (p.input_shape.size() == 0) bad("empty input shape");
  check_finite(p.input_scale, "input_scale");
  check_finite(p.input_quant, "input_quant");
  if (!(p.input_quant > 0) || !(p.input_scale > 0)) bad("input_scale and input_quant must be positive");
  if (p.members < 1 || std::size_t(p.members) > kMaxMembers) bad("members = " + std::to_string(p.members) + " is out of range");
  if (!p.member_weights.empty() && p.member_weights.size() != std::size_t(p.members)) bad("member_weights does not have one weight per member");
  for (double w : p.member_weights) check_finite(w, "member weight");
  check_finite(p.temperature, "temperature");
  std::size_t data_primes = 0;
  if (ckks) {
    check_chain(p.ckks.poly_degree, p.ckks.coeff_modulus, "CKKS parameters");
    check_finite(p.ckks.input_factor, "input_factor");
    if (!(p.ckks.input_factor > 0)) bad("input_factor must be positive");
    check_finite(p.ckks.noise_log2, "noise_log2");
    data_primes = p.ckks.coeff_modulus.size() - 1;
  } else {
    check_chain(p.params.poly_degree, p.params.coeff_modulus, p.scheme == Scheme::bgv ? "BGV parameters" : "BFV parameters");
    if (p.params.plain_moduli.empty() || p.params.plain_moduli.size() > 16) bad("BFV: 1 to 16 plaintext primes expected");
    for (auto t : p.params.plain_moduli)
      if (t < 3 || t >= (std::uint64_t(1) << 60) || (t - 1) % (2 * p.params.poly_degree) != 0 || !math::is_prime(t))
        bad("BFV: plaintext modulus " + std::to_string(t) + " is not a batching prime (1 mod 2N, below 2^60)");
    data_primes = p.params.coeff_modulus.size() - 1;
  }

  const auto& I = p.instrs;
  if (I.size() < 2 || I.size() > kMaxInstrs) bad(std::to_string(I.size()) + " instructions is out of range");
  for (std::size_t i = 0; i < I.size(); ++i) {
    const Instr& ins = I[i];
    const std::string at = "instruction " + std::to_string(i) + " (" + ins.label + ")";
    if (ins.label.size() > kMaxString) bad(at + ": label too long");
    if ((i == 0) != (ins.op == OpKind::input)) bad(at + ": the input must be instruction 0 and only it");
    if (ins.size == 0 || ins.size != ins.shape.size() || ins.size > kMaxTensorElements) bad(at + ": size does not match its shape");
    if (ins.member < -1 || ins.member >= p.members) bad(at + ": member " + std::to_string(ins.member) + " is out of range");
    if (ins.parts != 2 && ins.parts != 3) bad(at + ": ciphertext parts must be 2 or 3");
    if (ins.level < 1 || std::size_t(ins.level) > data_primes) bad(at + ": level " + std::to_string(ins.level) + " is outside the prime chain");
    if (ins.rescale < 0 || std::size_t(ins.rescale) > data_primes - std::size_t(ins.level)) bad(at + ": rescales go beyond the prime chain");
    if (!ckks && ins.rescale != 0) bad(at + ": BFV and BGV instructions do not rescale");
    if (ckks && ins.op == OpKind::mod_switch) bad(at + ": CKKS programs have no mod_switch instructions");
    for (double v : {ins.scale, ins.log2_bound, ins.log2_weight_norm, ins.factor, ins.log2_message}) check_finite(v, at + ": a scale or bound");
    if (!(ins.factor > 0) || !(ins.scale > 0)) bad(at + ": scale and factor must be positive");
    if (ins.log2_calibrated) check_finite(*ins.log2_calibrated, at + ": calibrated range");
    if (i == 0) {
      if (!ins.inputs.empty()) bad(at + ": the input reads nothing");
      if (ins.size != p.input_shape.size()) bad(at + ": size differs from the input shape");
      continue;
    }
    std::size_t arity_min = 1, arity_max = 1;
    if (ins.op == OpKind::linear) arity_max = kMaxInputs;
    if (ins.op == OpKind::multiply) arity_min = arity_max = 2;
    if (ins.inputs.size() < arity_min || ins.inputs.size() > arity_max) bad(at + ": wrong number of inputs for " + op_name(ins.op));
    const std::size_t before = std::size_t(ins.level + ins.rescale);
    for (int t : ins.inputs) {
      if (t < 0 || std::size_t(t) >= i) bad(at + ": input " + std::to_string(t) + " is not an earlier instruction");
      if (std::size_t(I[std::size_t(t)].level) < before) bad(at + ": input " + std::to_string(t) + " is at a lower level than the operation");
      if (ins.op != OpKind::linear && I[std::size_t(t)].size != ins.size) bad(at + ": input " + std::to_string(t) + " has a different size");
    }
    if (ins.op != OpKind::linear) {
      if (!ins.rows.empty() || !ins.bias.empty() || !ins.bias_real.empty() || !ins.input_mult.empty())
        bad(at + ": only linear instructions carry weights");
      continue;
    }
    if (ins.rows.size() != ins.size) bad(at + ": " + std::to_string(ins.rows.size()) + " rows for " + std::to_string(ins.size) + " outputs");
    if (ckks) {
      if (ins.bias_real.size() != ins.size || !ins.bias.empty()) bad(at + ": CKKS needs one real bias per output");
      for (double b : ins.bias_real) check_finite(b, at + ": bias");
      if (ins.input_mult.size() != ins.inputs.size()) bad(at + ": one input multiplier per input expected");
      for (double m : ins.input_mult)
        if (!std::isfinite(m) || !(m > 0)) bad(at + ": an input multiplier is not a positive finite number");
    } else if (ins.bias.size() != ins.size || !ins.bias_real.empty()) {
      bad(at + ": BFV needs one integer bias per output");
    }
    for (const auto& row : ins.rows) {
      for (const auto& term : row) {
        if (term.input < 0 || std::size_t(term.input) >= ins.inputs.size()) bad(at + ": a term reads input " + std::to_string(term.input));
        const auto& src = I[std::size_t(ins.inputs[std::size_t(term.input)])];
        if (term.index < 0 || std::size_t(term.index) >= src.size)
          bad(at + ": a term reads element " + std::to_string(term.index) + " of a tensor of " + std::to_string(src.size));
        check_finite(term.real, at + ": weight");
      }
    }
  }
  if (p.outputs.empty()) bad("no outputs");
  for (const auto& o : p.outputs) {
    if (o.tensor < 1 || std::size_t(o.tensor) >= I.size()) bad("output " + o.name + " refers to tensor " + std::to_string(o.tensor));
    if (o.member < -1 || o.member >= p.members) bad("output " + o.name + ": member out of range");
    if (I[std::size_t(o.tensor)].size != I[std::size_t(p.outputs.back().tensor)].size) bad("outputs have different class counts");
    check_finite(o.scale, "output " + o.name + " scale");
    check_finite(o.log2_bound, "output " + o.name + " bound");
    if (!(o.scale > 0)) bad("output " + o.name + ": scale must be positive");
    if (!o.combiner.empty() && o.combiner != "mean" && o.combiner != "weighted" && o.combiner != "poly-softmax" &&
        o.combiner != "normalized" && o.combiner != "stacked")
      bad("output " + o.name + ": unknown combiner '" + o.combiner + "'");
  }
  if (p.keys.size() > 16) bad("too many key names");
  {
    const auto& pr = p.privacy;
    if (!pr.mechanism.empty() && pr.mechanism != "laplace" && pr.mechanism != "gaussian") bad("unknown privacy mechanism '" + pr.mechanism + "'");
    check_finite(pr.epsilon, "privacy epsilon");
    check_finite(pr.delta, "privacy delta");
    if (pr.active() && !(pr.epsilon > 0)) bad("privacy epsilon must be positive");
    if (pr.mechanism == "gaussian" && !(pr.delta > 0 && pr.delta < 1)) bad("privacy delta must lie in (0, 1)");
    for (const auto& o : p.outputs) {
      check_finite(o.dp_sensitivity, "output dp_sensitivity");
      check_finite(o.dp_noise_scale, "output dp_noise_scale");
      check_finite(o.dp_noise_bound, "output dp_noise_bound");
      if (o.dp_sensitivity < 0 || o.dp_noise_scale < 0 || o.dp_noise_bound < 0) bad("output " + o.name + ": negative noise parameters");
      if (o.dp_noise_scale > 0 && (!pr.active() || o.combiner.empty())) bad("output " + o.name + ": noise without a privacy mechanism or on a member output");
    }
  }
  if (!p.member_digests.empty() && p.member_digests.size() != std::size_t(p.members)) bad("member_digests does not have one digest per member");
  for (const auto& d : p.member_digests)
    if (d.size() != 64 || d.find_first_not_of("0123456789abcdef") != std::string::npos) bad("a member digest is not 64 hex digits");
  const auto& q = p.quantization;
  for (double v : {q.target, q.agreement, q.calibration_target, q.default_agreement, q.cost, q.default_cost}) check_finite(v, "quantization figures");
  if (q.target < 0 || q.target > 1 || q.agreement < 0 || q.agreement > 1 || q.default_agreement < 0 || q.default_agreement > 1)
    bad("quantization: agreement figures must lie in [0, 1]");
  for (const auto& [name, bits] : q.layer_bits)
    if (bits < 0 || bits > 24 || name.empty()) bad("quantization: layer bits out of range");
}

std::string model_fingerprint(const Model& model) {
  const std::string bytes = serialize_model(model, DType::f64);
  std::uint8_t d[detail::kFrameDigestBytes];
  digest(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), d);
  return detail::to_hex(d, sizeof d);
}

std::vector<std::uint8_t> serialize_plan(const Program& p) {
  Out o;
  detail::begin_framed(o, kMagic, kPlanFormatVersion);
  o.str(p.description);
  o.shape(p.input_shape);
  o.f64(p.input_scale);
  o.f64(p.input_quant);
  o.i32(p.members);
  o.f64s(p.member_weights);
  o.f64(p.temperature);
  o.w.u8(std::uint8_t(p.scheme));
  o.count(p.params.poly_degree);
  o.u64s(p.params.coeff_modulus);
  o.u64s(p.params.plain_moduli);
  o.count(p.ckks.poly_degree);
  o.u64s(p.ckks.coeff_modulus);
  o.b(p.ckks.complex_packing);
  o.f64(p.ckks.input_factor);
  o.f64(p.ckks.noise_log2);
  o.f64(p.ckks.overflow_margin_bits);
  o.f64(p.predicted_precision_bits);
  o.f64(p.predicted_final_budget);
  o.count(p.keys.size());
  for (const auto& k : p.keys) o.str(k);
  o.count(p.member_digests.size());
  for (const auto& d : p.member_digests) o.str(d);
  o.count(p.instrs.size());
  for (const auto& ins : p.instrs) write_instr(o, ins);
  o.count(p.outputs.size());
  for (const auto& out : p.outputs) {
    o.i32(out.tensor);
    o.str(out.name);
    o.i32(out.member);
    o.f64(out.scale);
    o.f64(out.log2_bound);
    o.str(out.combiner);
  }
  const auto& q = p.quantization;
  o.b(q.searched);
  o.i32(q.input_bits);
  o.i32(q.weight_bits);
  o.i32(q.coeff_bits);
  o.count(q.layer_bits.size());
  for (const auto& [name, bits] : q.layer_bits) {
    o.str(name);
    o.i32(bits);
  }
  o.f64(q.target);
  o.count(q.calibration_images);
  o.f64(q.agreement);
  o.f64(q.calibration_target);
  o.f64(q.default_agreement);
  o.f64(q.cost);
  o.f64(q.default_cost);
  o.b(q.target_met);
  o.count(q.evaluations);
  // Version 3: output privacy.
  o.str(p.privacy.mechanism);
  o.f64(p.privacy.epsilon);
  o.f64(p.privacy.delta);
  for (const auto& out : p.outputs) {
    o.f64(out.dp_sensitivity);
    o.f64(out.dp_noise_scale);
    o.f64(out.dp_noise_bound);
  }
  return detail::finish_framed(o);
}

Program parse_plan(std::span<const std::uint8_t> bytes) {
  std::uint32_t version = 0;
  const auto payload = detail::open_framed(bytes, kMagic, 2, kPlanFormatVersion, "plan", "HECNNPLN", version);
  Program p;
  try {
    In in{wire::ByteReader(payload, "plan")};
    p.description = in.str("description");
    p.input_shape = in.shape("input_shape");
    p.input_scale = in.f64("input_scale");
    p.input_quant = in.f64("input_quant");
    p.members = in.i32("members");
    p.member_weights = in.f64s("member_weights");
    p.temperature = in.f64("temperature");
    const auto scheme = in.r.u8("scheme");
    if (scheme > std::uint8_t(Scheme::bgv)) bad("unknown scheme " + std::to_string(scheme) + " (0 BFV, 1 CKKS, 2 BGV)");
    p.scheme = Scheme(scheme);
    p.params.poly_degree = in.count("bfv poly_degree", 0, 1 << 20);
    p.params.coeff_modulus = in.u64s("bfv coeff_modulus", kMaxPrimes);
    p.params.plain_moduli = in.u64s("bfv plain_moduli", kMaxPrimes);
    p.ckks.poly_degree = in.count("ckks poly_degree", 0, 1 << 20);
    p.ckks.coeff_modulus = in.u64s("ckks coeff_modulus", kMaxPrimes);
    p.ckks.complex_packing = in.b("complex_packing");
    p.ckks.input_factor = in.f64("input_factor");
    p.ckks.noise_log2 = in.f64("noise_log2");
    p.ckks.overflow_margin_bits = in.f64("overflow_margin_bits");
    p.predicted_precision_bits = in.f64("predicted_precision_bits");
    p.predicted_final_budget = in.f64("predicted_final_budget");
    p.keys.resize(in.count("keys", 4, 16));
    for (auto& k : p.keys) k = in.str("key");
    p.member_digests.resize(in.count("member_digests", 4, kMaxMembers));
    for (auto& d : p.member_digests) d = in.str("member digest");
    const std::size_t n = in.count("instructions", 64, kMaxInstrs);
    p.instrs.reserve(n);
    for (std::size_t i = 0; i < n; ++i) p.instrs.push_back(read_instr(in));
    p.outputs.resize(in.count("outputs", 32, kMaxInstrs));
    for (auto& o : p.outputs) {
      o.tensor = in.i32("output tensor");
      o.name = in.str("output name");
      o.member = in.i32("output member");
      o.scale = in.f64("output scale");
      o.log2_bound = in.f64("output bound");
      o.combiner = in.str("output combiner");
    }
    auto& q = p.quantization;
    q.searched = in.b("quantization searched");
    q.input_bits = in.i32("quantization input_bits");
    q.weight_bits = in.i32("quantization weight_bits");
    q.coeff_bits = in.i32("quantization coeff_bits");
    q.layer_bits.resize(in.count("quantization layer_bits", 8, kMaxInstrs));
    for (auto& [name, bits] : q.layer_bits) {
      name = in.str("quantization layer name");
      bits = in.i32("quantization layer bits");
    }
    q.target = in.f64("quantization target");
    q.calibration_images = in.count("quantization calibration_images", 0, std::size_t(1) << 40);
    q.agreement = in.f64("quantization agreement");
    q.calibration_target = in.f64("quantization calibration_target");
    q.default_agreement = in.f64("quantization default_agreement");
    q.cost = in.f64("quantization cost");
    q.default_cost = in.f64("quantization default_cost");
    q.target_met = in.b("quantization target_met");
    q.evaluations = in.count("quantization evaluations", 0, std::size_t(1) << 40);
    if (version >= 3) {
      p.privacy.mechanism = in.str("privacy mechanism");
      p.privacy.epsilon = in.f64("privacy epsilon");
      p.privacy.delta = in.f64("privacy delta");
      for (auto& o : p.outputs) {
        o.dp_sensitivity = in.f64("output dp_sensitivity");
        o.dp_noise_scale = in.f64("output dp_noise_scale");
        o.dp_noise_bound = in.f64("output dp_noise_bound");
      }
    }
    in.r.expect_end();
  } catch (const wire::FormatError& e) {
    throw PlanError(e.what());
  }
  validate_program(p);
  return p;
}

void write_plan(const Program& prog, const std::string& path) { detail::write_file_atomic(path, serialize_plan(prog)); }

Program read_plan(const std::string& path) {
  const auto bytes = detail::read_file_bounded(path, kMaxPlanFileBytes);
  try {
    return parse_plan(bytes);
  } catch (const PlanError& e) {
    throw PlanError(path + ": " + e.what());
  }
}

namespace detail {

void check_coeff_chain(std::size_t n, const std::vector<std::uint64_t>& q, const char* what) { check_chain(n, q, what); }

std::string to_hex(const std::uint8_t* p, std::size_t n) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += hex[p[i] >> 4];
    s += hex[p[i] & 15];
  }
  return s;
}

std::string framed_digest_hex(const std::vector<std::uint8_t>& framed) {
  return to_hex(framed.data() + framed.size() - kFrameDigestBytes, kFrameDigestBytes);
}

void begin_framed(Out& o, const char magic[8], std::uint32_t version) {
  for (int i = 0; i < 8; ++i) o.w.u8(std::uint8_t(magic[i]));
  o.w.u32(version);
  o.w.u32(0);
  o.w.u64(0);  // payload length, patched by finish_framed
}

std::vector<std::uint8_t> finish_framed(Out& o) {
  o.w.patch_u64(16, o.w.size() - kFrameHeaderBytes);
  std::uint8_t d[kFrameDigestBytes];
  digest(o.w.buffer().data(), o.w.size(), d);
  o.w.bytes(std::span<const std::uint8_t>(d, kFrameDigestBytes));
  return o.w.take();
}

std::span<const std::uint8_t> open_framed(std::span<const std::uint8_t> bytes, const char magic[8], std::uint32_t version, const char* what,
                                          const char* magic_name) {
  std::uint32_t got = 0;
  return open_framed(bytes, magic, version, version, what, magic_name, got);
}

std::span<const std::uint8_t> open_framed(std::span<const std::uint8_t> bytes, const char magic[8], std::uint32_t min_version,
                                          std::uint32_t version, const char* what, const char* magic_name, std::uint32_t& got) {
  const std::string w(what);
  auto fail = [&](const std::string& m) -> void { throw PlanError(w + ": " + m); };
  if (bytes.size() < kFrameHeaderBytes + kFrameDigestBytes) fail("file of " + std::to_string(bytes.size()) + " bytes is too short to be a " + w + " file");
  if (std::memcmp(bytes.data(), magic, 8) != 0) fail("not a hecnn " + w + " file (magic is not " + magic_name + ")");
  std::uint64_t payload = 0;
  try {
    wire::ByteReader head(bytes.subspan(8, 16), what);
    const auto v = head.u32("version");
    if (v < min_version || v > version) {
      fail("format version " + std::to_string(v) + " is not supported (this build reads version " +
           (min_version == version ? std::to_string(version) : std::to_string(min_version) + " to " + std::to_string(version)) + ")");
    }
    got = v;
    if (head.u32("flags") != 0) fail("unknown flags set");
    payload = head.u64("payload length");
  } catch (const wire::FormatError& e) {
    fail(e.what());
  }
  if (payload != bytes.size() - kFrameHeaderBytes - kFrameDigestBytes)
    fail("payload length " + std::to_string(payload) + " does not match the file (" + std::to_string(bytes.size()) + " bytes; truncated or extended)");
  std::uint8_t d[kFrameDigestBytes];
  digest(bytes.data(), kFrameHeaderBytes + std::size_t(payload), d);
  if (std::memcmp(d, bytes.data() + kFrameHeaderBytes + payload, kFrameDigestBytes) != 0) fail("checksum mismatch: the file is corrupt");
  return bytes.subspan(kFrameHeaderBytes, std::size_t(payload));
}

std::vector<std::uint8_t> read_file_bounded(const std::string& path, std::size_t max_bytes) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw PlanError(path + ": cannot read: " + ec.message());
  if (size > max_bytes) throw PlanError(path + ": " + std::to_string(size) + " bytes is larger than the limit of " + std::to_string(max_bytes));
  std::vector<std::uint8_t> bytes(size);
  std::ifstream f(path, std::ios::binary);
  if (!f || !f.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(size))) throw PlanError(path + ": cannot read the file");
  return bytes;
}

void write_file_atomic(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw PlanError(path + ": cannot create the file");
    f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    f.close();
    if (!f) {
      std::remove(tmp.c_str());
      throw PlanError(path + ": write failed (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw PlanError(path + ": cannot replace the file: " + ec.message());
  }
}

}  // namespace detail

}  // namespace hecnn::nn::compiler
