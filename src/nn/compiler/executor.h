// The one interpreter loop: runs a compiled Program in a Schedule's order on a
// backend. Real BFV and CKKS (nn/runtime), the cleartext simulators
// (nn/runtime/simulator.h) and the compiler's cost counter (cost(), compiler.h) are
// backends of this loop; they differ only in what a value is and what the five
// operations do.
//
// A backend B provides
//   using Value = ...;                         one element of a tensor (a slot vector)
//   static constexpr bool kHasLevels;          values live at levels (HE, cost counter)
//   static constexpr bool kParallel;           operations may run from several threads
//   void align(Value& v, std::size_t level)    bring v down to `level` data primes
//                                              (values unchanged: mod-switch)
//   std::vector<Value> linear(const Instr& ins, const std::vector<const std::vector<Value>*>& srcs)
//                                              ins.rows / ins.bias(_real) of this group only
//                                              (ins.size == rows), srcs[k] = tensor of
//                                              ins.inputs[k], aligned to the level before the
//                                              instruction's rescales
//   void product(const Instr& ins, std::vector<Value>& a, const std::vector<Value>* b)
//                                              a[k] *= b[k], or a[k]^2 when b is null
//   void relinearize(const Instr& ins, std::vector<Value>& a)
//   void finish(const Instr& ins, std::vector<Value>& out)
//                                              after every instruction: CKKS sets the exact
//                                              scale and drops ins.rescale primes
// mod_switch instructions are alignment alone (the operand is brought to ins.level).
//
// The loop owns the bookkeeping: operands are brought to the level before each
// instruction's rescales (only elements a group reads), an element is moved rather
// than copied into its last reader, elements are freed as the schedule says, and
// per-layer timings and progress (elements done / total) are reported.
// Thread safety: execute() may run concurrently on distinct backends or on one
// backend whose operations are const and thread-safe.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "math/parallel.h"
#include "nn/compiler/program.h"
#include "nn/compiler/schedule.h"

namespace hecnn::nn::compiler {

// Per-layer timing of a run.
struct LayerTiming {
  std::string layer;               // e.g. "m0/conv1", "ensemble"
  double seconds = 0;              // wall clock
  double cpu_seconds = 0;          // process CPU time (all threads) while the layer ran
  std::size_t ciphertexts_out = 0;
};

// Progress callback: (elements done, elements total, label of the current instruction).
using Progress = std::function<void(std::size_t, std::size_t, const std::string&)>;

// Layer name of an instruction label: its first two path parts ("m0/conv1/relin" -> "m0/conv1"),
// "ensemble" for the coordinator's instructions.
std::string layer_of(const std::string& label);

// Process CPU time, all threads (getrusage).
double process_cpu_seconds();

// Adds one instruction's times to its layer's entry (created on first use).
void add_timing(std::vector<LayerTiming>& timings, const std::string& label, double wall, double cpu, std::size_t outs);

struct ExecOptions {
  bool keep_all = false;                     // keep every tensor (the schedule must keep them too)
  std::vector<LayerTiming>* timings = nullptr;
  Progress progress;
};

namespace detail {
// An instruction restricted to some of its outputs (linear rows and biases of `els`).
Instr restrict_linear(const Instr& ins, const std::vector<std::uint32_t>& els);
}  // namespace detail

// Runs the schedule's instructions with `given` tensors (id, one value per element) as
// their sources: the whole plan from the input (execute below), or one party's part of it
// (parts.h: a member from the input, the combiner from the members' outputs). Returns
// every tensor: the outputs the schedule computes and the given ones (and with keep_all
// every computed tensor) complete, the others empty. Throws std::invalid_argument when a
// given tensor has the wrong size or the schedule reads a tensor it neither computes nor
// is given.
template <class B>
std::vector<std::vector<typename B::Value>> execute_given(const Program& prog, const Schedule& sch, const B& backend,
                                                          std::vector<std::pair<int, std::vector<typename B::Value>>> given,
                                                          const ExecOptions& opt = {}) {
  using Value = typename B::Value;
  using Tensor = std::vector<Value>;
  const std::size_t count = prog.instrs.size();
  if (count == 0) throw std::invalid_argument("execute: empty program");
  if (sch.frees.size() != sch.steps.size()) throw std::invalid_argument("execute: malformed schedule");
  std::vector<bool> available(count, false);
  for (const auto& [t, v] : given) {
    if (t < 0 || std::size_t(t) >= count) throw std::invalid_argument("execute: given tensor " + std::to_string(t) + " is not in the program");
    if (v.size() != prog.instrs[std::size_t(t)].size) {
      throw std::invalid_argument("execute: tensor " + std::to_string(t) + " (" + prog.instrs[std::size_t(t)].label + ") has " +
                                  std::to_string(v.size()) + " elements, the program expects " + std::to_string(prog.instrs[std::size_t(t)].size));
    }
    available[std::size_t(t)] = true;
  }
  {
    std::vector<bool> computed(count, false);
    for (const auto& step : sch.steps)
      for (const auto& g : step) computed[std::size_t(g.instr)] = true;
    for (const auto& step : sch.steps)
      for (const auto& g : step)
        for (int t : prog.instrs[std::size_t(g.instr)].inputs)
          if (!available[std::size_t(t)] && !computed[std::size_t(t)]) {
            throw std::invalid_argument("execute: " + prog.instrs[std::size_t(g.instr)].label + " reads tensor " + std::to_string(t) + " (" +
                                        prog.instrs[std::size_t(t)].label + "), which is neither given nor computed");
          }
  }
  auto for_each = [](std::size_t n, auto&& f) {
    if constexpr (B::kParallel) math::parallel_for(n, f);
    else for (std::size_t k = 0; k < n; ++k) f(k);
  };

  // Readers left per element: an operand is moved into its last reader.
  std::vector<std::size_t> base(count + 1, 0);
  for (std::size_t i = 0; i < count; ++i) base[i + 1] = base[i] + prog.instrs[i].size;
  std::vector<std::uint32_t> refs(base[count], 0);
  std::vector<bool> keep(count, opt.keep_all);
  for (const auto& o : prog.outputs) keep[std::size_t(o.tensor)] = true;
  for (const auto& step : sch.steps)
    for (const auto& g : step) {
      const Instr& ins = prog.instrs.at(std::size_t(g.instr));
      for (std::uint32_t o : g.elements) {
        if (ins.op == OpKind::linear) {
          for (const auto& t : ins.rows.at(o)) ++refs[base[std::size_t(ins.inputs[std::size_t(t.input)])] + std::size_t(t.index)];
        } else {
          for (int t : ins.inputs) ++refs[base[std::size_t(t)] + o];
        }
      }
    }

  std::vector<Tensor> val(count);
  for (std::size_t i = 0; i < count; ++i) val[i].resize(prog.instrs[i].size);
  for (auto& [t, v] : given) val[std::size_t(t)] = std::move(v);

  // Element e of tensor t at `level` (moved out when this is its last reader).
  auto operand = [&](int t, std::uint32_t e, std::size_t level) {
    Value& src = val[std::size_t(t)][e];
    const bool last = !keep[std::size_t(t)] && refs[base[std::size_t(t)] + e] == 1;
    Value x = last ? std::move(src) : src;
    if constexpr (B::kHasLevels) {
      if (std::size_t(prog.instrs[std::size_t(t)].level) > level) backend.align(x, level);
    }
    return x;
  };

  std::size_t done = 0;
  const std::size_t total = base[count] - base[1];
  for (std::size_t s = 0; s < sch.steps.size(); ++s) {
    for (const auto& g : sch.steps[s]) {
      const std::size_t i = std::size_t(g.instr);
      const Instr& ins = prog.instrs[i];
      const auto& els = g.elements;
      if (opt.progress) opt.progress(done, total, ins.label);
      const auto t0 = std::chrono::steady_clock::now();
      const double c0 = opt.timings ? process_cpu_seconds() : 0.0;
      const std::size_t level = std::size_t(ins.level + ins.rescale);  // before this instruction's rescales
      Tensor y;
      switch (ins.op) {
        case OpKind::input: throw std::logic_error("execute: second input instruction");
        case OpKind::linear: {
          const bool whole = els.size() == ins.size;
          Instr sub;
          if (!whole) sub = detail::restrict_linear(ins, els);
          const Instr& run = whole ? ins : sub;
          std::vector<const Tensor*> srcs(ins.inputs.size(), nullptr);
          std::vector<Tensor> switched;
          switched.reserve(ins.inputs.size());
          for (std::size_t k = 0; k < ins.inputs.size(); ++k) {
            if (srcs[k]) continue;
            const int t = ins.inputs[k];
            bool above = false;
            if constexpr (B::kHasLevels) above = std::size_t(prog.instrs[std::size_t(t)].level) > level;
            if (!above) {
              srcs[k] = &val[std::size_t(t)];
              continue;
            }
            // Only the elements these rows read are brought down, once per tensor (it may be
            // listed as several inputs); an element these rows read for the last time is
            // moved, not copied.
            std::vector<std::uint32_t> need;
            for (const auto& row : run.rows)
              for (const auto& term : row)
                if (ins.inputs[std::size_t(term.input)] == t) need.push_back(std::uint32_t(term.index));
            std::sort(need.begin(), need.end());
            std::vector<std::uint32_t> reads;
            std::vector<std::uint32_t> uniq;
            for (std::size_t j = 0; j < need.size(); ++j) {
              if (j == 0 || need[j] != need[j - 1]) {
                uniq.push_back(need[j]);
                reads.push_back(0);
              }
              ++reads.back();
            }
            Tensor x(val[std::size_t(t)].size());
            for_each(uniq.size(), [&](std::size_t j) {
              const std::uint32_t e = uniq[j];
              Value& src = val[std::size_t(t)][e];
              if (!keep[std::size_t(t)] && refs[base[std::size_t(t)] + e] == reads[j]) x[e] = std::move(src);
              else x[e] = src;
              backend.align(x[e], level);
            });
            switched.push_back(std::move(x));
            for (std::size_t k2 = k; k2 < ins.inputs.size(); ++k2)
              if (ins.inputs[k2] == t) srcs[k2] = &switched.back();
          }
          y = backend.linear(run, srcs);
          if (y.size() != els.size()) throw std::logic_error("execute: backend linear returned a wrong count");
          for (const auto& row : run.rows)
            for (const auto& term : row) --refs[base[std::size_t(ins.inputs[std::size_t(term.input)])] + std::size_t(term.index)];
          break;
        }
        case OpKind::square:
        case OpKind::multiply: {
          const int ta = ins.inputs.at(0), tb = ins.inputs.at(ins.op == OpKind::square ? 0 : 1);
          const bool same = ta == tb;
          y.resize(els.size());
          Tensor b(same ? 0 : els.size());
          for_each(els.size(), [&](std::size_t k) {
            y[k] = operand(ta, els[k], level);
            if (!same) b[k] = operand(tb, els[k], level);
          });
          backend.product(ins, y, same ? nullptr : &b);
          for (std::uint32_t e : els)
            for (int t : ins.inputs) --refs[base[std::size_t(t)] + e];
          break;
        }
        case OpKind::relinearize:
        case OpKind::mod_switch: {
          y.resize(els.size());
          for_each(els.size(), [&](std::size_t k) { y[k] = operand(ins.inputs.at(0), els[k], level); });
          if (ins.op == OpKind::relinearize) backend.relinearize(ins, y);
          for (std::uint32_t e : els) --refs[base[std::size_t(ins.inputs[0])] + e];
          break;
        }
      }
      backend.finish(ins, y);
      for (std::size_t k = 0; k < els.size(); ++k) val[i][els[k]] = std::move(y[k]);
      done += els.size();
      if (opt.timings) {
        const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        add_timing(*opt.timings, ins.label, dt, process_cpu_seconds() - c0, ins.size);
      }
    }
    for (const auto& [t, e] : sch.frees[s]) val[std::size_t(t)][e] = Value();
  }
  if (opt.progress) opt.progress(total, total, "done");
  for (std::size_t t = 0; t < count; ++t)
    if (!keep[t]) Tensor().swap(val[t]);
  return val;
}

// Runs `prog` on `input` (one value per element of the input tensor). Returns every
// tensor: the outputs (and with keep_all every tensor) complete, the others empty.
template <class B>
std::vector<std::vector<typename B::Value>> execute(const Program& prog, const Schedule& sch, const B& backend,
                                                    std::vector<typename B::Value> input, const ExecOptions& opt = {}) {
  if (prog.instrs.empty()) throw std::invalid_argument("execute: empty program");
  if (input.size() != prog.instrs[0].size) {
    throw std::invalid_argument("execute: the input has " + std::to_string(input.size()) + " elements, the program expects " +
                                std::to_string(prog.instrs[0].size));
  }
  std::vector<std::pair<int, std::vector<typename B::Value>>> given;
  given.emplace_back(0, std::move(input));
  return execute_given(prog, sch, backend, std::move(given), opt);
}

}  // namespace hecnn::nn::compiler
