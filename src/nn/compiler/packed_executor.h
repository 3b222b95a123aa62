// The interpreter loop of packed (single-image) programs: runs a PackedProgram's ops
// on a backend. Real CKKS (nn/runtime/packed_backend.h), the cleartext slot simulator
// and the cost counter below are its backends; they differ only in what a value (one
// ciphertext) is and what these operations do:
//   using Value = ...;
//   std::vector<Value> rotate_many(const Value&, const std::vector<int>& steps)   hoisted
//   Value rotate(const Value&, int step)
//   Value mul_diag(const Value&, op, out_ct, giant, diag)   times the plan's diagonal
//   void add(Value& a, const Value& b)
//   void rescale(Value&)                                    drop one prime (scale / q)
//   void add_bias(Value&, op, out_ct)
//   void poly(Value&, op)                                   the whole activation
//   void align(Value&, int level)                           mod-switch down to `level`
// Rotation semantics: rot(v, d)[s] = v[s + d mod lane] (left by d).
// Backend operations must be const and thread-safe: independent rotations and giant
// groups run in parallel (math::parallel_for).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "math/parallel.h"
#include "nn/compiler/executor.h"
#include "nn/compiler/packed.h"

namespace hecnn::nn::compiler {

struct PackedExecOptions {
  std::vector<LayerTiming>* timings = nullptr;
  // (ops done, ops total, label of the current op)
  Progress progress;
  bool keep_all = false;  // return every op's result (tests), not just the last
};

// Returns the result of every op when keep_all (index i + 1 is op i's result, index 0
// the input), otherwise {input-less: the output ciphertexts only}.
template <class B>
std::vector<std::vector<typename B::Value>> run_packed(const PackedProgram& prog, const B& backend,
                                                       std::vector<typename B::Value> input,
                                                       const PackedExecOptions& opt = {}) {
  using Value = typename B::Value;
  if (input.size() != prog.input_layout.cts) {
    throw std::invalid_argument("run_packed: " + std::to_string(input.size()) + " input ciphertexts, the plan expects " +
                                std::to_string(prog.input_layout.cts));
  }
  std::vector<std::vector<Value>> kept;
  if (opt.keep_all) kept.push_back(input);
  std::vector<Value> cur = std::move(input);
  int level = prog.data_primes();
  // A rotation by the keys of its path (one key unless the step is composed).
  auto rotate_by = [&](const Value& v, std::int64_t step) {
    const std::vector<std::int32_t> path = prog.rotation_path(step);
    if (path.empty()) return v;
    Value r = backend.rotate(v, path[0]);
    for (std::size_t i = 1; i < path.size(); ++i) r = backend.rotate(r, path[i]);
    return r;
  };
  for (std::size_t oi = 0; oi < prog.ops.size(); ++oi) {
    const PackedOp& op = prog.ops[oi];
    if (opt.progress) opt.progress(oi, prog.ops.size(), op.label);
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = opt.timings ? process_cpu_seconds() : 0.0;
    if (op.level_in > level) throw std::logic_error("run_packed: op " + op.label + " above the current level");
    if (op.level_in < level) {
      for (auto& v : cur) backend.align(v, op.level_in);
      level = op.level_in;
    }
    std::vector<Value> next;
    switch (op.kind) {
      case PackedOpKind::linear: {
        if (cur.size() != op.in_cts) throw std::logic_error("run_packed: " + op.label + " input count");
        // Babies: every rotation of each input ciphertext, hoisted.
        std::vector<std::map<int, std::size_t>> baby_index(op.in_cts);
        std::vector<std::vector<int>> baby_steps(op.in_cts);
        for (const auto& out : op.outs)
          for (const auto& g : out)
            for (const auto& d : g.diags)
              if (baby_index.at(d.in_ct).emplace(d.baby, baby_steps[d.in_ct].size()).second)
                baby_steps[d.in_ct].push_back(d.baby);
        // Several input ciphertexts: one per core (each one's hoisted group then runs there).
        // A composed baby (no key of its own) is hoisted by one key of its path, then
        // rotated on by the others.
        std::vector<std::vector<Value>> babies(op.in_cts);
        math::parallel_for_dynamic(op.in_cts, [&](std::size_t c) {
          if (baby_steps[c].empty()) return;
          const BabyRotations br = plan_baby_rotations(prog, baby_steps[c]);
          if (!br.composed) {
            babies[c] = backend.rotate_many(cur[c], baby_steps[c]);
            return;
          }
          const std::vector<Value> h = backend.rotate_many(cur[c], br.hoisted);
          babies[c].resize(baby_steps[c].size());
          for (std::size_t i = 0; i < baby_steps[c].size(); ++i) {
            Value v = h[br.from[i]];
            for (int k : br.rest[i]) v = backend.rotate(v, k);
            babies[c][i] = std::move(v);
          }
        });
        next.resize(op.out_cts);
        for (std::size_t u = 0; u < op.out_cts; ++u) {
          // Giant groups are independent (their products and rotation): one per core.
          const std::size_t groups = op.outs[u].size();
          std::vector<Value> inner(groups);
          std::vector<char> inner_have(groups, 0);
          math::parallel_for_dynamic(groups, [&](std::size_t gi) {
            const PackedGiant& g = op.outs[u][gi];
            for (std::size_t di = 0; di < g.diags.size(); ++di) {
              const PackedDiag& d = g.diags[di];
              Value p = backend.mul_diag(babies[d.in_ct][baby_index[d.in_ct].at(d.baby)], oi, u, gi, di);
              if (inner_have[gi]) {
                backend.add(inner[gi], p);
              } else {
                inner[gi] = std::move(p);
                inner_have[gi] = 1;
              }
            }
            if (inner_have[gi] && g.step != 0) inner[gi] = rotate_by(inner[gi], g.step);
          });
          bool have = false;
          Value acc;
          for (std::size_t gi = 0; gi < groups; ++gi) {
            if (!inner_have[gi]) continue;
            if (have) {
              backend.add(acc, inner[gi]);
            } else {
              acc = std::move(inner[gi]);
              have = true;
            }
          }
          if (!have) throw std::logic_error("run_packed: " + op.label + " output ciphertext without terms");
          backend.rescale(acc);
          for (int f : op.folds) {
            Value r = rotate_by(acc, f);
            backend.add(acc, r);
          }
          if (!op.bias.empty() && !op.bias[u].empty()) backend.add_bias(acc, oi, u);
          next[u] = std::move(acc);
        }
        break;
      }
      case PackedOpKind::poly: {
        next = std::move(cur);
        for (auto& v : next) backend.poly(v, oi);
        break;
      }
      case PackedOpKind::replicate: {
        next = std::move(cur);
        for (auto& v : next)
          for (int s : op.steps) {
            Value r = rotate_by(v, s);
            backend.add(v, r);
          }
        break;
      }
    }
    cur = std::move(next);
    level = op.level_out;
    if (opt.keep_all) kept.push_back(cur);
    if (opt.timings) {
      const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      add_timing(*opt.timings, op.label, dt, process_cpu_seconds() - c0, cur.size());
    }
  }
  if (opt.progress) opt.progress(prog.ops.size(), prog.ops.size(), "done");
  if (opt.keep_all) return kept;
  std::vector<std::vector<Value>> out;
  out.push_back(std::move(cur));
  return out;
}

// The cleartext slot simulator: a value is the lane's real slots, exactly (no noise,
// no levels). The oracle for layouts and lowerings: its output equals the float model's.
class PackedSimulator {
 public:
  using Value = std::vector<double>;
  explicit PackedSimulator(const PackedProgram& prog) : prog_(prog) {}
  std::vector<Value> rotate_many(const Value& v, const std::vector<int>& steps) const {
    std::vector<Value> out;
    out.reserve(steps.size());
    for (int s : steps) out.push_back(rotate(v, s));
    return out;
  }
  Value rotate(const Value& v, int step) const {
    const std::int64_t n = std::int64_t(v.size());
    Value out(v.size());
    const std::int64_t s = ((std::int64_t(step) % n) + n) % n;
    for (std::int64_t i = 0; i < n; ++i) out[std::size_t(i)] = v[std::size_t((i + s) % n)];
    return out;
  }
  Value mul_diag(const Value& x, std::size_t op, std::size_t u, std::size_t g, std::size_t d) const {
    const auto& vals = prog_.ops[op].outs[u][g].diags[d].values;
    Value out(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) out[i] = x[i] * vals[i];
    return out;
  }
  void add(Value& a, const Value& b) const {
    for (std::size_t i = 0; i < a.size(); ++i) a[i] += b[i];
  }
  void rescale(Value&) const {}
  void add_bias(Value& v, std::size_t op, std::size_t u) const { add(v, prog_.ops[op].bias[u]); }
  void poly(Value& v, std::size_t op) const {
    const PackedOp& o = prog_.ops[op];
    for (auto& x : v) x = o.degree == 2 ? x * (x + o.a) : x * (x * x + o.a * x + o.b);
  }
  void align(Value&, int) const {}

 private:
  const PackedProgram& prog_;
};

}  // namespace hecnn::nn::compiler
