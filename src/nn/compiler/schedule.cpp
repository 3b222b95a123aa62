#include "nn/compiler/schedule.h"

#include <algorithm>
#include <map>

#include "nn/compiler/compiler.h"

namespace hecnn::nn::compiler {

namespace {

// Calls f(tensor, element) for every ciphertext that element o of instruction i reads.
template <typename F>
void for_each_read(const Program& prog, std::size_t i, std::uint32_t o, F&& f) {
  const Instr& ins = prog.instrs[i];
  switch (ins.op) {
    case OpKind::input: break;
    case OpKind::linear:
      for (const auto& t : ins.rows[o]) f(ins.inputs[std::size_t(t.input)], std::uint32_t(t.index));
      break;
    case OpKind::square:
    case OpKind::relinearize:
    case OpKind::mod_switch: f(ins.inputs[0], o); break;
    case OpKind::multiply:
      f(ins.inputs[0], o);
      f(ins.inputs[1], o);
      break;
  }
}

// Position-major key of element e of tensor t: (row, column, channel).
std::uint64_t spatial_key(const Program& prog, int t, std::uint32_t e) {
  const Shape& s = prog.instrs[std::size_t(t)].shape;
  if (s.h <= 1 && s.w <= 1) return e;
  const std::uint64_t hw = std::uint64_t(s.h) * std::uint64_t(s.w);
  const std::uint64_t c = e / hw, pos = e % hw;
  return pos * std::uint64_t(std::max(s.c, 1)) + c;
}

}  // namespace

Schedule make_schedule(const Program& prog, bool streaming, bool keep_all, std::size_t step_elements) {
  Schedule sch;
  sch.streaming = streaming;
  const std::size_t n = prog.instrs.size();
  if (n == 0) return sch;
  std::vector<std::size_t> base(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) base[i + 1] = base[i] + prog.instrs[i].size;
  const std::size_t nodes = base[n];
  std::vector<bool> keep(n, keep_all);
  for (const auto& o : prog.outputs) keep[std::size_t(o.tensor)] = true;

  // The order of the (non-input) elements.
  std::vector<std::pair<int, std::uint32_t>> order;
  order.reserve(nodes - base[1]);
  if (!streaming) {
    for (std::size_t i = 1; i < n; ++i)
      for (std::uint32_t e = 0; e < prog.instrs[i].size; ++e) order.push_back({int(i), e});
  } else {
    std::vector<bool> seen(nodes, false);
    for (std::size_t e = 0; e < base[1]; ++e) seen[e] = true;  // the uploaded input
    struct Frame {
      int t;
      std::uint32_t e;
      std::vector<std::pair<int, std::uint32_t>> kids;
      std::size_t next = 0;
    };
    std::vector<Frame> stack;
    auto push = [&](int t, std::uint32_t e) {
      Frame f{t, e, {}, 0};
      for_each_read(prog, std::size_t(t), e, [&](int s, std::uint32_t x) { f.kids.push_back({s, x}); });
      std::stable_sort(f.kids.begin(), f.kids.end(), [&](const auto& a, const auto& b) {
        return spatial_key(prog, a.first, a.second) < spatial_key(prog, b.first, b.second);
      });
      stack.push_back(std::move(f));
    };
    for (const auto& out : prog.outputs) {
      const int t = out.tensor;
      for (std::uint32_t e = 0; e < prog.instrs[std::size_t(t)].size; ++e) {
        if (seen[base[std::size_t(t)] + e]) continue;
        seen[base[std::size_t(t)] + e] = true;
        push(t, e);
        while (!stack.empty()) {
          Frame& f = stack.back();
          if (f.next < f.kids.size()) {
            const auto [s, x] = f.kids[f.next++];
            if (!seen[base[std::size_t(s)] + x]) {
              seen[base[std::size_t(s)] + x] = true;
              push(s, x);
            }
            continue;
          }
          order.push_back({f.t, f.e});
          stack.pop_back();
        }
      }
    }
  }

  // Steps: layer order one instruction each; streaming, runs of step_elements.
  std::size_t at = 0;
  while (at < order.size()) {
    std::size_t end = at;
    if (!streaming) {
      while (end < order.size() && order[end].first == order[at].first) ++end;
    } else {
      end = std::min(order.size(), at + std::max<std::size_t>(1, step_elements));
    }
    std::map<int, std::vector<std::uint32_t>> groups;
    for (std::size_t k = at; k < end; ++k) groups[order[k].first].push_back(order[k].second);
    std::vector<ScheduleGroup> step;
    for (auto& [i, els] : groups) {
      std::sort(els.begin(), els.end());
      step.push_back({i, std::move(els)});
    }
    sch.steps.push_back(std::move(step));
    at = end;
  }

  // Reference counts, frees and the memory they imply.
  std::vector<std::uint32_t> refs(nodes, 0);
  for (std::size_t i = 1; i < n; ++i)
    for (std::uint32_t o = 0; o < prog.instrs[i].size; ++o)
      for_each_read(prog, i, o, [&](int t, std::uint32_t e) { ++refs[base[std::size_t(t)] + e]; });
  auto bytes_of = [&](int t) {
    const Instr& ins = prog.instrs[std::size_t(t)];
    return ciphertext_bytes(prog.poly_degree(), std::max(ins.level, 1), std::max(ins.parts, 2));
  };
  std::size_t live = prog.instrs[0].size * bytes_of(0), live_cts = prog.instrs[0].size;
  sch.peak_bytes = live;
  sch.peak_ciphertexts = live_cts;
  sch.frees.resize(sch.steps.size());
  for (std::size_t s = 0; s < sch.steps.size(); ++s) {
    for (const auto& g : sch.steps[s]) {
      live += g.elements.size() * bytes_of(g.instr);
      live_cts += g.elements.size();
    }
    sch.peak_bytes = std::max(sch.peak_bytes, live);
    sch.peak_ciphertexts = std::max(sch.peak_ciphertexts, live_cts);
    for (const auto& g : sch.steps[s])
      for (std::uint32_t o : g.elements)
        for_each_read(prog, std::size_t(g.instr), o, [&](int t, std::uint32_t e) {
          if (--refs[base[std::size_t(t)] + e] == 0 && !keep[std::size_t(t)]) {
            sch.frees[s].push_back({t, e});
            live -= bytes_of(t);
            --live_cts;
          }
        });
  }
  return sch;
}

std::size_t schedule_peak_bytes(const Program& prog, bool streaming) { return make_schedule(prog, streaming).peak_bytes; }

}  // namespace hecnn::nn::compiler
