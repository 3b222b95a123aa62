#include "nn/compiler/parts.h"

#include <algorithm>

#include "nn/compiler/plan_codec.h"
#include "nn/compiler/plan_io.h"

namespace hecnn::nn::compiler {

namespace {

[[noreturn]] void bad(const std::string& what) { throw PlanError("plan parts: " + what); }

// The part of the instructions `mine` selects; every tensor they read must be computed by
// the part or be one of `allowed_given`.
ProgramPart make_part(const Program& prog, int member, const std::vector<bool>& mine, const std::vector<bool>& allowed_given) {
  ProgramPart part;
  part.member = member;
  part.runs = mine;
  std::vector<bool> given(prog.instrs.size(), false);
  for (std::size_t i = 0; i < prog.instrs.size(); ++i) {
    if (!mine[i]) continue;
    for (int t : prog.instrs[i].inputs) {
      const auto u = std::size_t(t);
      if (mine[u]) continue;
      if (!allowed_given[u]) {
        bad("instruction " + std::to_string(i) + " (" + prog.instrs[i].label + ") of " +
            (member < 0 ? std::string("the combiner") : "member " + std::to_string(member)) + " reads tensor " + std::to_string(t) +
            " (" + prog.instrs[u].label + "), which that party neither computes nor receives");
      }
      given[u] = true;
    }
  }
  for (std::size_t t = 0; t < given.size(); ++t)
    if (given[t]) part.given.push_back(int(t));
  for (std::size_t k = 0; k < prog.outputs.size(); ++k)
    if (mine[std::size_t(prog.outputs[k].tensor)]) part.outputs.push_back(int(k));
  return part;
}

}  // namespace

ProgramPart member_part(const Program& prog, int member) {
  if (member < 0 || member >= prog.members) bad("member " + std::to_string(member) + " is not one of the plan's " + std::to_string(prog.members));
  std::vector<bool> mine(prog.instrs.size(), false), allowed(prog.instrs.size(), false);
  for (std::size_t i = 1; i < prog.instrs.size(); ++i) mine[i] = prog.instrs[i].member == member;
  // A single model's instructions may be untagged: they are all the member's.
  if (prog.members == 1)
    for (std::size_t i = 1; i < prog.instrs.size(); ++i) mine[i] = true;
  allowed[0] = true;
  auto part = make_part(prog, member, mine, allowed);
  if (part.outputs.empty()) bad("member " + std::to_string(member) + " produces no output");
  return part;
}

ProgramPart combiner_part(const Program& prog) {
  std::vector<bool> mine(prog.instrs.size(), false), allowed(prog.instrs.size(), false);
  if (prog.members > 1)
    for (std::size_t i = 1; i < prog.instrs.size(); ++i) mine[i] = prog.instrs[i].member == -1;
  for (const auto& o : prog.outputs)
    if (o.member >= 0) allowed[std::size_t(o.tensor)] = true;
  return make_part(prog, -1, mine, allowed);
}

Schedule restrict_schedule(const Schedule& sch, const ProgramPart& part) {
  Schedule out;
  out.streaming = sch.streaming;
  out.peak_bytes = sch.peak_bytes;
  out.peak_ciphertexts = sch.peak_ciphertexts;
  std::vector<std::pair<int, std::uint32_t>> pending;  // frees of dropped steps
  for (std::size_t s = 0; s < sch.steps.size(); ++s) {
    std::vector<ScheduleGroup> groups;
    for (const auto& g : sch.steps[s])
      if (std::size_t(g.instr) < part.runs.size() && part.runs[std::size_t(g.instr)]) groups.push_back(g);
    for (const auto& f : sch.frees[s]) {
      const auto t = std::size_t(f.first);
      const bool given = std::find(part.given.begin(), part.given.end(), f.first) != part.given.end();
      if ((t < part.runs.size() && part.runs[t]) || given) pending.push_back(f);
    }
    if (groups.empty()) continue;
    out.steps.push_back(std::move(groups));
    out.frees.push_back(std::move(pending));
    pending.clear();
  }
  if (!pending.empty() && !out.frees.empty()) out.frees.back().insert(out.frees.back().end(), pending.begin(), pending.end());
  return out;
}

Program public_plan(const Program& prog) {
  Program pub;
  pub.description = prog.description;
  pub.input_shape = prog.input_shape;
  pub.input_scale = prog.input_scale;
  pub.input_quant = prog.input_quant;
  pub.members = prog.members;
  pub.member_weights = prog.member_weights;
  pub.temperature = prog.temperature;
  pub.scheme = prog.scheme;
  pub.params = prog.params;
  pub.ckks = prog.ckks;
  pub.predicted_precision_bits = prog.predicted_precision_bits;
  pub.predicted_final_budget = prog.predicted_final_budget;
  pub.keys = prog.keys;
  pub.member_digests = prog.member_digests;
  pub.instrs.push_back(prog.instrs.at(0));
  const bool ckks = prog.scheme == Scheme::ckks;
  std::vector<int> remap(prog.instrs.size(), -1);
  for (const auto& o : prog.outputs) {
    const auto t = std::size_t(o.tensor);
    if (remap[t] < 0) {
      const Instr& src = prog.instrs.at(t);
      Instr ins;
      ins.op = OpKind::linear;
      ins.label = src.label;
      ins.member = src.member;
      ins.inputs = {0};
      ins.size = src.size;
      ins.shape = src.shape;
      ins.rows.assign(src.size, {Term{0, 0, 1, 1.0}});
      if (ckks) {
        ins.bias_real.assign(src.size, 0.0);
        ins.input_mult = {1.0};
      } else {
        ins.bias.assign(src.size, 0);
      }
      ins.scale = src.scale;
      ins.log2_bound = src.log2_bound;
      ins.depth = src.depth;
      ins.parts = src.parts;
      ins.level = src.level;
      ins.rescale = 0;
      ins.factor = src.factor;
      ins.log2_message = src.log2_message;
      ins.log2_calibrated = src.log2_calibrated;
      ins.is_layer_end = true;
      remap[t] = int(pub.instrs.size());
      pub.instrs.push_back(std::move(ins));
    }
    Output po = o;
    po.tensor = remap[t];
    pub.outputs.push_back(po);
  }
  validate_program(pub);
  return pub;
}

std::string plan_id(const Program& prog) { return detail::framed_digest_hex(serialize_plan(prog)); }

}  // namespace hecnn::nn::compiler
