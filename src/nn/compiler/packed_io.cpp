#include "nn/compiler/packed_io.h"

#include <cmath>
#include <limits>
#include <set>

#include "fhe/wire/error.h"
#include "nn/compiler/plan_codec.h"
#include "nn/compiler/plan_io.h"

namespace hecnn::nn::compiler {

namespace {

using detail::In;
using detail::Out;

constexpr char kMagic[8] = {'H', 'E', 'C', 'N', 'N', 'P', 'K', 'D'};
constexpr std::size_t kMaxMembers = 1024, kMaxOps = 4096, kMaxPrimes = 64, kMaxList = std::size_t(1) << 24;

[[noreturn]] void bad(const std::string& what) { throw PlanError("packed plan: " + what); }

void i32s(Out& o, const std::vector<std::int32_t>& v) {
  o.count(v.size());
  for (auto x : v) o.i32(x);
}
std::vector<std::int32_t> i32s(In& in, std::string_view f) {
  std::vector<std::int32_t> v(in.count(f, 4, kMaxList));
  for (auto& x : v) x = in.i32(f);
  return v;
}

void write_layout(Out& o, const PackedLayout& l) {
  o.count(l.dims.size());
  for (int d : l.dims) o.i32(d);
  o.count(l.strides.size());
  for (auto s : l.strides) o.i64(s);
  o.i64(l.base);
  o.count(l.count);
  o.b(l.box);
  o.count(l.positions.size());
  for (auto p : l.positions) o.i64(p);
  o.count(l.lane);
  o.count(l.cts);
  o.count(l.period);
  o.b(l.clean);
}
PackedLayout read_layout(In& in) {
  PackedLayout l;
  l.dims.resize(in.count("layout dims", 4, 16));
  for (auto& d : l.dims) d = in.i32("layout dims");
  l.strides.resize(in.count("layout strides", 8, 16));
  for (auto& s : l.strides) s = in.i64("layout strides");
  l.base = in.i64("layout base");
  l.count = in.count("layout count", 0, kMaxList);
  l.box = in.b("layout box");
  l.positions.resize(in.count("layout positions", 8, kMaxList));
  for (auto& p : l.positions) p = in.i64("layout positions");
  l.lane = in.count("layout lane", 0, 1 << 15);
  l.cts = in.count("layout cts", 0, 1 << 16);
  l.period = in.count("layout period", 0, 1 << 15);
  l.clean = in.b("layout clean");
  return l;
}

void write_program(Out& o, const PackedProgram& p) {
  o.str(p.description);
  o.shape(p.input_shape);
  o.f64(p.input_raw_scale);
  o.f64(p.input_offset);
  o.count(p.poly_degree);
  o.u64s(p.coeff_modulus);
  o.f64(p.input_scale);
  write_layout(o, p.input_layout);
  i32s(o, p.input_source);
  o.str(p.input_packing);
  o.count(p.ops.size());
  for (const auto& op : p.ops) {
    o.w.u8(std::uint8_t(op.kind));
    o.str(op.label);
    o.str(op.lowering);
    o.count(op.in_cts);
    o.count(op.out_cts);
    o.count(op.outs.size());
    for (const auto& giants : op.outs) {
      o.count(giants.size());
      for (const auto& g : giants) {
        o.i32(g.step);
        o.count(g.diags.size());
        for (const auto& d : g.diags) {
          o.w.u32(d.in_ct);
          o.i32(d.baby);
          o.f64s(d.values);
        }
      }
    }
    i32s(o, op.folds);
    o.count(op.bias.size());
    for (const auto& b : op.bias) o.f64s(b);
    o.i32(op.degree);
    o.f64(op.a);
    o.f64(op.b);
    i32s(o, op.steps);
    o.i32(op.level_in);
    o.i32(op.level_out);
    o.f64(op.scale_in);
    o.f64(op.scale_out);
    o.f64(op.scalar_scale);
    write_layout(o, op.layout);
    o.f64(op.log2_max);
  }
  write_layout(o, p.output_layout);
  o.f64(p.output_mult);
  o.f64(p.output_add);
  o.count(p.num_classes);
  i32s(o, p.rotation_steps);
  o.b(p.needs_relin);
  o.f64(p.predicted_precision_bits);
  o.i32(p.headroom_bits);
  o.count(p.member_digests.size());
  for (const auto& d : p.member_digests) o.str(d);
  o.count(p.images_per_ciphertext);
  o.count(p.rotation_paths.size());
  for (const auto& r : p.rotation_paths) {
    o.i32(r.step);
    i32s(o, r.keys);
  }
}

PackedProgram read_program(In& in, std::uint32_t version) {
  PackedProgram p;
  p.description = in.str("description");
  p.input_shape = in.shape("input_shape");
  p.input_raw_scale = in.f64("input_raw_scale");
  p.input_offset = in.f64("input_offset");
  p.poly_degree = in.count("poly_degree", 0, 1 << 20);
  p.coeff_modulus = in.u64s("coeff_modulus", kMaxPrimes);
  p.input_scale = in.f64("input_scale");
  p.input_layout = read_layout(in);
  p.input_source = i32s(in, "input_source");
  p.input_packing = in.str("input_packing");
  p.ops.resize(in.count("ops", 64, kMaxOps));
  for (auto& op : p.ops) {
    const auto kind = in.r.u8("op kind");
    if (kind > std::uint8_t(PackedOpKind::replicate)) in.r.fail("unknown op kind " + std::to_string(kind));
    op.kind = PackedOpKind(kind);
    op.label = in.str("op label");
    op.lowering = in.str("op lowering");
    op.in_cts = in.count("op in_cts", 0, 1 << 16);
    op.out_cts = in.count("op out_cts", 0, 1 << 16);
    op.outs.resize(in.count("op outs", 8, 1 << 16));
    for (auto& giants : op.outs) {
      giants.resize(in.count("giants", 12, kMaxList));
      for (auto& g : giants) {
        g.step = in.i32("giant step");
        g.diags.resize(in.count("diags", 16, kMaxList));
        for (auto& d : g.diags) {
          d.in_ct = in.r.u32("diag in_ct");
          d.baby = in.i32("diag baby");
          d.values = in.f64s("diag values");
        }
      }
    }
    op.folds = i32s(in, "folds");
    op.bias.resize(in.count("bias", 8, 1 << 16));
    for (auto& b : op.bias) b = in.f64s("bias");
    op.degree = in.i32("degree");
    op.a = in.f64("a");
    op.b = in.f64("b");
    op.steps = i32s(in, "steps");
    op.level_in = in.i32("level_in");
    op.level_out = in.i32("level_out");
    op.scale_in = in.f64("scale_in");
    op.scale_out = in.f64("scale_out");
    op.scalar_scale = in.f64("scalar_scale");
    op.layout = read_layout(in);
    op.log2_max = in.f64("log2_max");
  }
  p.output_layout = read_layout(in);
  p.output_mult = in.f64("output_mult");
  p.output_add = in.f64("output_add");
  p.num_classes = in.count("num_classes", 0, 1 << 16);
  p.rotation_steps = i32s(in, "rotation_steps");
  p.needs_relin = in.b("needs_relin");
  p.predicted_precision_bits = in.f64("predicted_precision_bits");
  p.headroom_bits = in.i32("headroom_bits");
  p.member_digests.resize(in.count("member_digests", 4, kMaxMembers));
  for (auto& d : p.member_digests) d = in.str("member digest");
  p.images_per_ciphertext = in.count("images_per_ciphertext", 0, 1 << 15);
  if (version >= 2) {
    p.rotation_paths.resize(in.count("rotation_paths", 8, kMaxList));
    for (auto& r : p.rotation_paths) {
      r.step = in.i32("rotation path step");
      r.keys = i32s(in, "rotation path keys");
    }
  }
  return p;
}

void finite(double v, const std::string& what) {
  if (!std::isfinite(v)) bad(what + " is not a finite number");
}

void check_layout(const PackedLayout& l, std::size_t lane, const std::string& what) {
  if (l.lane != lane) bad(what + ": lane " + std::to_string(l.lane) + " is not the plan's " + std::to_string(lane));
  if (l.cts == 0 || l.cts > 4096) bad(what + ": " + std::to_string(l.cts) + " ciphertexts is out of range");
  if (l.count == 0 || l.count > l.cts * lane) bad(what + ": " + std::to_string(l.count) + " elements do not fit its ciphertexts");
  if (l.period > lane) bad(what + ": period beyond the lane");
  if (l.positions.empty()) {
    if (!l.box || l.dims.size() != l.strides.size() || l.dims.empty()) bad(what + ": neither positions nor a box");
    std::size_t n = 1;
    for (int d : l.dims) {
      if (d < 1 || d > kMaxDim) bad(what + ": a dimension out of range");
      n *= std::size_t(d);
      if (n > (std::size_t(1) << 40)) bad(what + ": too many elements");
    }
    if (l.count > n) bad(what + ": more elements than its box");
  } else if (l.positions.size() != l.count) {
    bad(what + ": " + std::to_string(l.positions.size()) + " positions for " + std::to_string(l.count) + " elements");
  }
  const std::int64_t limit = std::int64_t(l.cts * lane);
  for (std::size_t e = 0; e < l.count; ++e) {
    const std::int64_t pos = l.position(e);
    if (pos < 0 || pos >= limit) bad(what + ": element " + std::to_string(e) + " lies outside its ciphertexts");
  }
}

}  // namespace

void validate_packed(const PackedProgram& p, bool public_only) {
  if (p.poly_degree < 1024 || p.poly_degree > 32768 || (p.poly_degree & (p.poly_degree - 1)) != 0)
    bad("polynomial degree " + std::to_string(p.poly_degree) + " is not a power of two in 1024 .. 32768");
  detail::check_coeff_chain(p.poly_degree, p.coeff_modulus, "packed plan");
  const std::size_t lane = p.lane();
  const int top = p.data_primes();
  if (p.images_per_ciphertext == 0 || (p.images_per_ciphertext & (p.images_per_ciphertext - 1)) != 0 || p.images_per_ciphertext > lane)
    bad("images_per_ciphertext must be a power of two up to the lane");
  for (double v : {p.input_raw_scale, p.input_offset, p.input_scale, p.output_mult, p.output_add, p.predicted_precision_bits}) finite(v, "a scale or map");
  if (!(p.input_scale > 0)) bad("the input scale must be positive");
  const std::size_t image_lane = p.image_lane();
  check_layout(p.input_layout, image_lane, "input layout");
  if (p.input_source.size() != p.input_layout.size()) bad("input_source does not have one entry per input element");
  for (auto s : p.input_source)
    if (s < -1 || (s >= 0 && std::size_t(s) >= p.input_shape.size())) bad("an input source lies outside the image");
  check_layout(p.output_layout, image_lane, "output layout");
  if (p.num_classes == 0 || p.num_classes > p.output_layout.size()) bad("num_classes does not fit the output layout");
  for (auto s : p.rotation_steps)
    if (s == 0 || std::size_t(std::abs(std::int64_t(s))) >= lane) bad("rotation step " + std::to_string(s) + " outside the lane");
  for (const auto& d : p.member_digests)
    if (d.size() != 64 || d.find_first_not_of("0123456789abcdef") != std::string::npos) bad("a member digest is not 64 hex digits");
  {
    // Composed steps: ascending, each a sum of the plan's keys equal to the step mod the lane.
    const std::set<std::int64_t> keys(p.rotation_steps.begin(), p.rotation_steps.end());
    const std::int64_t ln = std::int64_t(lane);
    std::int64_t prev = 0;
    for (const auto& r : p.rotation_paths) {
      const std::string at = "rotation path of step " + std::to_string(r.step);
      if (r.step <= prev || r.step >= ln) bad(at + ": steps must be ascending residues of the lane");
      prev = r.step;
      if (keys.count(r.step)) bad(at + ": the step has its own key");
      if (r.keys.size() < 2 || r.keys.size() > 64) bad(at + ": " + std::to_string(r.keys.size()) + " keys (2 to 64 expected)");
      std::int64_t sum = 0;
      for (auto k : r.keys) {
        if (!keys.count(k)) bad(at + ": key " + std::to_string(k) + " is not one of the plan's keys");
        sum += k;
      }
      if (((sum % ln) + ln) % ln != r.step) bad(at + ": its keys do not add up to the step");
    }
  }
  if (public_only) {
    if (!p.ops.empty()) bad("a public plan carries no ops");
    return;
  }
  if (p.ops.empty()) bad("no ops");
  std::size_t cts = p.input_layout.cts;
  int level = top;
  for (std::size_t i = 0; i < p.ops.size(); ++i) {
    const auto& op = p.ops[i];
    const std::string at = "op " + std::to_string(i) + " (" + op.label + ")";
    if (op.in_cts != cts) bad(at + ": reads " + std::to_string(op.in_cts) + " ciphertexts, the previous op writes " + std::to_string(cts));
    if (op.level_in != level || op.level_out < 1 || op.level_out > op.level_in) bad(at + ": levels outside the chain or out of order");
    for (double v : {op.a, op.b, op.scale_in, op.scale_out, op.scalar_scale, op.log2_max}) finite(v, at + ": a coefficient or scale");
    if (!(op.scale_in > 0) || !(op.scale_out > 0)) bad(at + ": scales must be positive");
    check_layout(op.layout, image_lane, at + " layout");
    if (op.layout.cts != op.out_cts) bad(at + ": its layout has " + std::to_string(op.layout.cts) + " ciphertexts, the op writes " + std::to_string(op.out_cts));
    auto step_ok = [&](std::int64_t s) { return std::size_t(std::abs(s)) < lane; };
    switch (op.kind) {
      case PackedOpKind::linear:
        if (op.outs.size() != op.out_cts) bad(at + ": one giant list per output ciphertext expected");
        if (!op.bias.empty() && op.bias.size() != op.out_cts) bad(at + ": one bias per output ciphertext expected");
        for (const auto& b : op.bias) {
          if (!b.empty() && b.size() != lane) bad(at + ": a bias is not one lane long");
          for (double v : b) finite(v, at + ": a bias value");
        }
        for (const auto& giants : op.outs)
          for (const auto& g : giants) {
            if (!step_ok(g.step)) bad(at + ": a giant step outside the lane");
            for (const auto& d : g.diags) {
              if (d.in_ct >= op.in_cts) bad(at + ": a diagonal reads input ciphertext " + std::to_string(d.in_ct));
              if (!step_ok(d.baby)) bad(at + ": a baby step outside the lane");
              if (d.values.size() != lane) bad(at + ": a diagonal is not one lane long");
              for (double v : d.values) finite(v, at + ": a diagonal value");
            }
          }
        for (auto f : op.folds)
          if (!step_ok(f)) bad(at + ": a fold outside the lane");
        break;
      case PackedOpKind::poly:
        if (op.degree != 2 && op.degree != 3) bad(at + ": polynomial degree must be 2 or 3");
        if (op.in_cts != op.out_cts) bad(at + ": a polynomial keeps its ciphertexts");
        break;
      case PackedOpKind::replicate:
        if (op.in_cts != op.out_cts) bad(at + ": replicate keeps its ciphertexts");
        for (auto s : op.steps)
          if (!step_ok(s)) bad(at + ": a replicate step outside the lane");
        break;
    }
    cts = op.out_cts;
    level = op.level_out;
  }
  if (cts != p.output_layout.cts) bad("the last op writes " + std::to_string(cts) + " ciphertexts, the output layout has " + std::to_string(p.output_layout.cts));
}

std::vector<std::uint8_t> serialize_packed(const PackedEnsemble& ens) {
  Out o;
  detail::begin_framed(o, kMagic, kPackedPlanFormatVersion);
  o.count(ens.members.size());
  for (const auto& m : ens.members) write_program(o, m);
  o.f64s(ens.weights);
  o.str(ens.combiner);
  i32s(o, ens.rotation_steps);
  return detail::finish_framed(o);
}

PackedEnsemble parse_packed(std::span<const std::uint8_t> bytes) {
  std::uint32_t version = 0;
  const auto payload = detail::open_framed(bytes, kMagic, 1, kPackedPlanFormatVersion, "packed plan", "HECNNPKD", version);
  PackedEnsemble ens;
  try {
    In in{wire::ByteReader(payload, "packed plan")};
    ens.members.resize(in.count("members", 64, kMaxMembers));
    for (auto& m : ens.members) m = read_program(in, version);
    ens.weights = in.f64s("weights");
    ens.combiner = in.str("combiner");
    ens.rotation_steps = i32s(in, "rotation_steps");
    in.r.expect_end();
  } catch (const wire::FormatError& e) {
    throw PlanError(e.what());
  }
  if (ens.members.empty()) bad("no members");
  if (ens.weights.size() != ens.members.size()) bad("one weight per member expected");
  for (double w : ens.weights) finite(w, "a member weight");
  if (ens.combiner != "mean" && ens.combiner != "weighted") bad("unknown combiner '" + ens.combiner + "'");
  const bool pub = ens.members[0].ops.empty();
  for (const auto& m : ens.members) {
    validate_packed(m, pub);
    if (m.poly_degree != ens.members[0].poly_degree || m.coeff_modulus != ens.members[0].coeff_modulus)
      bad("members with different parameters");
  }
  for (auto s : ens.rotation_steps)
    if (s == 0 || std::size_t(std::abs(std::int64_t(s))) >= ens.members[0].lane()) bad("rotation step outside the lane");
  return ens;
}

void write_packed_plan(const PackedEnsemble& ens, const std::string& path) { detail::write_file_atomic(path, serialize_packed(ens)); }

PackedEnsemble read_packed_plan(const std::string& path) {
  const auto bytes = detail::read_file_bounded(path, kMaxPlanFileBytes);
  try {
    return parse_packed(bytes);
  } catch (const PlanError& e) {
    throw PlanError(path + ": " + e.what());
  }
}

PackedEnsemble as_ensemble(const PackedProgram& prog) {
  PackedEnsemble e;
  e.members = {prog};
  e.weights = {1.0};
  e.combiner = "mean";
  e.rotation_steps = prog.rotation_steps;
  return e;
}

PackedEnsemble public_packed(const PackedEnsemble& ens) {
  PackedEnsemble pub = ens;
  for (auto& m : pub.members) m.ops.clear();
  pub.members.resize(1);  // members share parameters, packing and output layout
  pub.weights = {1.0};
  return pub;
}

std::string packed_plan_id(const PackedEnsemble& ens) { return detail::framed_digest_hex(serialize_packed(ens)); }

}  // namespace hecnn::nn::compiler
