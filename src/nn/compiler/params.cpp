// Parameter choice (plaintext CRT primes, N, coefficient modulus, levels) and the
// cost counter: the compiler's own interpreter of the program.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "fhe/bfv/presets.h"
#include "math/primes.h"
#include "nn/compiler/params_internal.h"
#include "nn/compiler/executor.h"
#include "nn/compiler/schedule.h"

namespace hecnn::nn::compiler {

namespace {
constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr double kMulExtra = 0.0;  // bits lost per multiplication beyond log2 t + log2 N (measured: -1)
}  // namespace

double NoiseModel::log2_q(int level) const {
  double s = 0;
  for (int i = 0; i < level; ++i) s += std::log2(double(primes[i]));
  return s;
}

double NoiseModel::fresh(int level) const { return log2_q(level) - log2_t - (0.5 * std::log2(double(n)) + 2.0); }

namespace {
double switch_budget(const NoiseModel& m, double b, int from, int to) {
  if (to >= from) return b;
  return std::min(b - (m.log2_q(from) - m.log2_q(to)), m.log2_q(to) - m.log2_t - (0.5 * std::log2(double(m.n)) + 5));
}
}  // namespace

namespace {

// log2(2^a + 2^b)
double log2_add(double a, double b) {
  const double hi = std::max(a, b), lo = std::min(a, b);
  return hi + std::log2(1.0 + std::exp2(lo - hi));
}

// BGV phase bounds (log2 |m + t e|). Fresh public-key encryption: t (e0 + u e + e1 s)
// plus the message; a mod switch adds t (d0 + d1 s) with |d| <= 1/2; key switching with
// a special prime at least as large as the data primes adds t (L digits of e / P) +
// rounding. The constants sit 1 to 2 bits above the largest phases measured at N = 8192
// and 16384 (t of 20 to 47 bits): fresh t sqrt(N) 2^0.5, after a switch t sqrt(N) 2^8 (modelled 2^2.5 and 2^9).
double bgv_fresh(const NoiseModel& m) { return m.log2_t + 0.5 * std::log2(double(m.n)) + 2.5; }
double bgv_switch_floor(const NoiseModel& m) { return m.log2_t + 0.5 * std::log2(double(m.n)) + 9.0; }
double bgv_keyswitch(const NoiseModel& m, int level) {
  return m.log2_t + 0.5 * std::log2(double(m.n)) + 5.0 + std::log2(double(std::max(level, 1)));
}

// A correction factor as the exponents of q_j^-1 mod t it is made of (exact, not a
// value mod one t: equal exponents mean equal factors for every CRT prime).
using CfExponents = std::vector<int>;

double simulate_budget_bgv(const Program& prog, const NoiseModel& m, std::vector<double>* per) {
  const std::size_t count = prog.instrs.size();
  const std::size_t data = m.primes.size() - 1;
  std::vector<double> v(count, 0.0);        // log2 |phase|
  std::vector<CfExponents> cf(count, CfExponents(data, 0));
  const double log2_n = std::log2(double(m.n));
  // A phase x with factor *e switched from `from` down to `to` primes, one prime at a time.
  auto switch_down = [&](double x, int from, int to, CfExponents* e) {
    for (int l = from; l > to; --l) {
      x = log2_add(x - std::log2(double(m.primes[std::size_t(l - 1)])), bgv_switch_floor(m));
      if (e) ++(*e)[std::size_t(l - 1)];
    }
    return x;
  };
  for (std::size_t i = 0; i < count; ++i) {
    const Instr& ins = prog.instrs[i];
    // The operation runs where its inputs meet (the lowest of their levels); a drop planned
    // at this instruction (ins.level below that) switches its result down afterwards, as the
    // mod_switch instruction it becomes does.
    int at = ins.level;
    if (!ins.inputs.empty()) {
      at = prog.instrs[std::size_t(ins.inputs[0])].level;
      for (int t : ins.inputs) at = std::min(at, prog.instrs[std::size_t(t)].level);
    }
    auto input = [&](int t, CfExponents* e) {
      *e = cf[std::size_t(t)];
      return switch_down(v[std::size_t(t)], prog.instrs[std::size_t(t)].level, at, e);
    };
    double x = 0;
    CfExponents e(data, 0);
    switch (ins.op) {
      case OpKind::input: x = bgv_fresh(m); break;
      case OpKind::linear: {
        double in = kNegInf;
        std::vector<CfExponents> groups;  // distinct factors among the inputs
        for (std::size_t k = 0; k < ins.inputs.size(); ++k) {
          CfExponents ek;
          in = std::max(in, input(ins.inputs[k], &ek));
          if (std::find(groups.begin(), groups.end(), ek) == groups.end()) groups.push_back(std::move(ek));
        }
        if (!groups.empty()) e = groups[0];
        // Each further factor is merged with multipliers of about sqrt(t) (the runtime's
        // rational reconstruction), at most t / 2 in all.
        const double fold = std::min(double(groups.size() > 1 ? groups.size() - 1 : 0) * (0.5 * m.log2_t + 0.5), m.log2_t - 1.0);
        x = log2_add(in + std::max(0.0, ins.log2_weight_norm) + fold + 0.5, m.log2_t);  // + the bias, below t
        break;
      }
      case OpKind::square:
      case OpKind::multiply: {
        CfExponents eb;
        const int a = ins.inputs.at(0), b = ins.op == OpKind::square ? a : ins.inputs.at(1);
        const double va = input(a, &e), vb = input(b, &eb);
        for (std::size_t j = 0; j < data; ++j) e[j] += eb[j];
        // Product of two phases: sqrt(N) growth plus a bit (measured: + 0.5 log2 N - 1.5 at
        // N = 8192 and 16384, tests/nn/runtime/bgv_backend_test.cpp).
        x = va + vb + 0.5 * log2_n + 1.0;
        break;
      }
      case OpKind::relinearize: x = log2_add(input(ins.inputs.at(0), &e), bgv_keyswitch(m, at)); break;
      case OpKind::mod_switch: x = input(ins.inputs.at(0), &e); break;
    }
    v[i] = switch_down(x, at, ins.level, &e);
    cf[i] = std::move(e);
  }
  std::vector<double> b(count);
  for (std::size_t i = 0; i < count; ++i) b[i] = m.log2_q(prog.instrs[i].level) - 1.0 - v[i];
  double out = std::numeric_limits<double>::infinity();
  for (const auto& o : prog.outputs) out = std::min(out, b[std::size_t(o.tensor)]);
  if (per) *per = std::move(b);
  return out;
}

}  // namespace

double simulate_budget(const Program& prog, const NoiseModel& m, std::vector<double>* per) {
  if (m.bgv) return simulate_budget_bgv(prog, m, per);
  std::vector<double> b(prog.instrs.size(), kNegInf);
  const double mul_loss = m.log2_t + std::log2(double(m.n)) + kMulExtra;
  for (std::size_t i = 0; i < prog.instrs.size(); ++i) {
    const Instr& ins = prog.instrs[i];
    double in_b = std::numeric_limits<double>::infinity();
    for (int t : ins.inputs) in_b = std::min(in_b, switch_budget(m, b[t], prog.instrs[t].level, ins.level));
    switch (ins.op) {
      case OpKind::input: b[i] = m.fresh(ins.level); break;
      case OpKind::linear: b[i] = in_b - std::max(0.0, ins.log2_weight_norm) - 0.5; break;
      case OpKind::square:
      case OpKind::multiply: b[i] = in_b - mul_loss; break;
      case OpKind::relinearize: b[i] = std::min(in_b - 1.0, m.fresh(ins.level)); break;
      case OpKind::mod_switch: b[i] = in_b; break;  // already applied by switch_budget
    }
  }
  double out = std::numeric_limits<double>::infinity();
  for (const auto& o : prog.outputs) out = std::min(out, b[o.tensor]);
  if (per) *per = std::move(b);
  return out;
}

namespace {

// Levels: each tensor sits at min(input levels) minus its own drop.
void assign_levels(Program& prog, int top, const std::vector<int>& drop) {
  for (std::size_t i = 0; i < prog.instrs.size(); ++i) {
    Instr& ins = prog.instrs[i];
    int l = top;
    for (int t : ins.inputs) l = std::min(l, prog.instrs[t].level);
    ins.level = std::max(1, l - drop[i]);
  }
}

// Relative cost of one run of the program (one CRT prime) at degree n. Weights per
// operation from bench/bfv_ops_bench and bench/bgv_ops_bench (single thread, N = 8192):
// a BGV product is a tensor product in NTT form (about 20x cheaper than BFV's), its mod
// switch needs NTTs (BFV's divides coefficients).
constexpr double kBgvSwitchWeight = 40.0;  // a BGV mod switch per prime, part and prime dropped

double unit_cost(const Program& prog, std::size_t n) {
  const bool bgv = prog.scheme == Scheme::bgv;
  const double w_mul = bgv ? 24.0 : 700.0, w_relin = bgv ? 50.0 : 42.0, w_switch = bgv ? kBgvSwitchWeight : 10.0;
  double c = 0;
  for (const auto& ins : prog.instrs) {
    const double l = ins.level;
    switch (ins.op) {
      case OpKind::input: break;
      case OpKind::linear: {
        double terms = 0;
        for (const auto& r : ins.rows) terms += double(r.size());
        c += terms * ins.parts * l * double(n);
        break;
      }
      case OpKind::square:
      case OpKind::multiply: c += double(ins.size) * w_mul * l * double(n); break;
      case OpKind::relinearize: c += double(ins.size) * w_relin * l * (l + 1) * double(n); break;
      case OpKind::mod_switch: c += double(ins.size) * w_switch * l * ins.parts * double(n); break;
    }
  }
  return c;
}

// BFV: drop after the products (the budget a product costs does not depend on the level);
// BGV also before them (after the linear instruction that feeds a product: a smaller
// phase going into the product is a smaller phase coming out).
bool can_drop_after(OpKind k, bool bgv) {
  return k == OpKind::input || k == OpKind::square || k == OpKind::multiply || k == OpKind::relinearize || (bgv && k == OpKind::linear);
}

// BGV needs its switches to stay feasible at depth: fills drop (levels assigned). First
// every free drop, in program order: one whose prime the phase exceeds by more than the
// switching floor (the budget stays, the phase and every later product's cost shrink).
// Then local search (steepest ascent): add one drop, remove one, or move one to another
// point, whichever gives the outputs the best budget (the lowest, then their sum: ensemble
// members improve one at a time), until none helps (at most 64 rounds).
void plan_bgv_drops(Program& prog, const NoiseModel& model, int top, std::vector<int>& drop) {
  std::vector<double> per;
  for (std::size_t i = 0; i < prog.instrs.size(); ++i) {
    if (!can_drop_after(prog.instrs[i].op, true)) continue;
    while (prog.instrs[i].level > 1) {
      simulate_budget(prog, model, &per);
      const int l = prog.instrs[i].level;
      const double phase = model.log2_q(l) - 1.0 - per[i];
      if (phase - std::log2(double(model.primes[std::size_t(l - 1)])) < bgv_switch_floor(model) + 1.0) break;
      ++drop[i];
      assign_levels(prog, top, drop);
    }
  }
  auto score = [&](const std::vector<int>& d) {
    assign_levels(prog, top, d);
    simulate_budget(prog, model, &per);
    double lo = std::numeric_limits<double>::infinity(), sum = 0;
    for (const auto& o : prog.outputs) {
      lo = std::min(lo, per[std::size_t(o.tensor)]);
      sum += per[std::size_t(o.tensor)];
    }
    return std::pair(lo, sum);
  };
  auto better = [](const std::pair<double, double>& a, const std::pair<double, double>& b) {
    return a.first > b.first + 0.25 || (a.first >= b.first - 0.25 && a.second > b.second + 0.25);
  };
  std::vector<std::size_t> points;
  for (std::size_t i = 0; i < prog.instrs.size(); ++i)
    if (can_drop_after(prog.instrs[i].op, true)) points.push_back(i);
  auto cur = score(drop);
  for (int round = 0; round < 64; ++round) {
    auto best = cur;
    std::vector<int> best_drop;
    auto consider = [&](const std::vector<int>& d) {
      const auto sc = score(d);
      if (better(sc, best)) {
        best = sc;
        best_drop = d;
      }
    };
    for (std::size_t a : points) {
      std::vector<int> d = drop;
      ++d[a];
      consider(d);  // add at a
      if (drop[a] == 0) continue;
      d = drop;
      --d[a];
      consider(d);  // remove at a
      for (std::size_t b : points) {
        if (b == a) continue;
        ++d[b];
        consider(d);  // move from a to b
        --d[b];
      }
    }
    if (best_drop.empty()) break;
    drop = std::move(best_drop);
    cur = best;
  }
  assign_levels(prog, top, drop);
}

struct Candidate {
  std::size_t n = 0;
  std::vector<std::uint64_t> coeff, plain;
  std::vector<int> drop;
  double budget = kNegInf;
  double cost = std::numeric_limits<double>::infinity();
};

}  // namespace

void choose_parameters(Program& prog, const CompileOptions& opt) {
  const bool bgv = prog.scheme == Scheme::bgv;
  double need = 0;  // log2 of the largest output bound
  for (const auto& o : prog.outputs) need = std::max(need, prog.instrs[o.tensor].log2_bound);
  Candidate best;
  std::string tried;
  for (std::size_t n : {std::size_t(4096), std::size_t(8192), std::size_t(16384)}) {
    if (opt.poly_degree != 0 && opt.poly_degree != n) continue;
    const auto coeff = bfv::bfv_default_primes(n);
    const int top = int(coeff.size()) - 1;
    const int q0_bits = int(std::floor(std::log2(double(coeff[0]))));
    int max_bits = std::min(60, q0_bits);  // t < q_0
    if (opt.max_plain_bits > 0) max_bits = std::min(max_bits, opt.max_plain_bits);
    const int min_bits = int(std::log2(double(n))) + 4;
    for (int m = 1; m <= 8; ++m) {
      int bits = std::max(min_bits, int(std::ceil((need + 2.0) / m)) + 1);
      Candidate c;
      c.n = n;
      c.coeff = coeff;
      for (; bits <= max_bits && c.plain.empty(); ++bits) {
        try {
          c.plain = math::ntt_primes(bits, n, std::size_t(m), coeff);
        } catch (const std::exception&) {
          // not enough batching primes of exactly this size: try one bit more
        }
      }
      --bits;
      if (c.plain.empty()) continue;
      NoiseModel model{n, coeff, std::log2(double(c.plain[0])), bgv};
      c.drop.assign(prog.instrs.size(), 0);
      assign_levels(prog, top, c.drop);
      c.budget = simulate_budget(prog, model);
      if (bgv && opt.mod_switch) {
        plan_bgv_drops(prog, model, top, c.drop);
        c.budget = simulate_budget(prog, model);
      }
      tried += "  N=" + std::to_string(n) + ", " + std::to_string(m) + " x " + std::to_string(bits) +
               "-bit plaintext primes: predicted budget " + std::to_string(int(std::floor(c.budget))) + " bits\n";
      if (c.budget < opt.budget_margin_bits) continue;
      if (opt.mod_switch) {
        // Greedy, in program order: drop primes as early as the rest of the program allows.
        for (std::size_t i = 0; i < prog.instrs.size(); ++i) {
          if (!can_drop_after(prog.instrs[i].op, bgv)) continue;
          while (prog.instrs[i].level > 1) {
            ++c.drop[i];
            assign_levels(prog, top, c.drop);
            const double b = simulate_budget(prog, model);
            if (b < opt.budget_margin_bits) {
              --c.drop[i];
              assign_levels(prog, top, c.drop);
              break;
            }
            c.budget = b;
          }
        }
      }
      const double batch = opt.batch_images ? double(opt.batch_images) : double(n);
      // BGV: the planned drops become mod_switch instructions (one prime each, with NTTs)
      // when materialised. (BFV's switches are cheap coefficient divisions, left out.)
      double switches = 0;
      for (std::size_t i = 0; bgv && i < prog.instrs.size(); ++i)
        for (int d = 0; d < c.drop[i]; ++d)
          switches += double(prog.instrs[i].size) * kBgvSwitchWeight * double(prog.instrs[i].level + d + 1) * prog.instrs[i].parts * double(n);
      c.cost = double(m) * (unit_cost(prog, n) + switches) * std::ceil(batch / double(n)) / batch;
      if (c.cost < best.cost) best = c;
    }
  }
  if (best.n == 0) {
    std::ostringstream os;
    os << "no 128-bit secure " << scheme_name(prog.scheme) << " parameters found: the outputs need " << int(std::ceil(need + 2))
       << " bits of plaintext modulus and the noise budget (margin " << opt.budget_margin_bits
       << " bits) does not allow it; try lower --input-bits / --weight-bits / --coeff-bits.\n"
       << tried;
    throw CompileError(os.str());
  }

  // Materialise: insert mod_switch instructions after the tensors that drop primes.
  const int top = int(best.coeff.size()) - 1;
  assign_levels(prog, top, best.drop);
  std::vector<Instr> out;
  std::vector<int> remap(prog.instrs.size());
  for (std::size_t i = 0; i < prog.instrs.size(); ++i) {
    Instr ins = std::move(prog.instrs[i]);
    for (int& t : ins.inputs) t = remap[t];
    const int drop = best.drop[i];
    if (ins.op == OpKind::input) {
      // The client encrypts directly at the lower level.
      out.push_back(std::move(ins));
      remap[i] = int(out.size()) - 1;
      continue;
    }
    if (drop > 0) {
      Instr ms;
      ms.op = OpKind::mod_switch;
      ms.label = ins.label + "/mod_switch";
      ms.member = ins.member;
      ms.size = ins.size;
      ms.shape = ins.shape;
      ms.scale = ins.scale;
      ms.log2_bound = ins.log2_bound;
      ms.depth = ins.depth;
      ms.parts = ins.parts;
      ms.level = ins.level;
      ms.is_layer_end = ins.is_layer_end;
      ins.level += drop;
      ins.is_layer_end = false;
      out.push_back(std::move(ins));
      ms.inputs = {int(out.size()) - 1};
      out.push_back(std::move(ms));
    } else {
      out.push_back(std::move(ins));
    }
    remap[i] = int(out.size()) - 1;
  }
  prog.instrs = std::move(out);
  for (auto& o : prog.outputs) o.tensor = remap[o.tensor];

  prog.params.poly_degree = best.n;
  prog.params.coeff_modulus = best.coeff;
  prog.params.plain_moduli = best.plain;
  NoiseModel model{best.n, best.coeff, std::log2(double(best.plain[0])), bgv};
  prog.predicted_final_budget = simulate_budget(prog, model);
  prog.keys.clear();
  bool relin = false;
  for (const auto& ins : prog.instrs) relin |= ins.op == OpKind::relinearize;
  if (relin) prog.keys.push_back("relinearization keys");
}

namespace {

// The cost counter's backend of the interpreter loop (executor.h): a value is a
// ciphertext's level and part count; every operation the HE backends would run is
// counted (zero weights skipped, operands mod-switched down to their reader's level,
// only 3-part ciphertexts relinearized).
struct CountOps {
  struct Value {
    int level = 0;
    int parts = 2;
  };
  static constexpr bool kHasLevels = true;
  static constexpr bool kParallel = false;
  bool conjugate_products = false;  // CKKS complex packing: each product operand is split
  bool switch_per_prime = false;    // BFV drops one prime per mod switch; CKKS any number at once
  Cost* c = nullptr;

  void align(Value& v, std::size_t level) const {
    if (v.level > int(level)) {
      c->mod_switches += switch_per_prime ? std::size_t(v.level - int(level)) : 1;
      v.level = int(level);
    }
  }
  std::vector<Value> linear(const Instr& ins, const std::vector<const std::vector<Value>*>& srcs) const {
    // The kernel gives every output of one call the largest part count it reads.
    int parts = 2;
    for (const auto& row : ins.rows)
      for (const auto& t : row) {
        if (t.weight == 0) continue;
        ++c->scalar_mults;
        parts = std::max(parts, (*srcs[std::size_t(t.input)])[std::size_t(t.index)].parts);
      }
    std::vector<Value> out(ins.rows.size(), Value{ins.level + ins.rescale, parts});
    for (auto b : ins.bias) c->plain_adds += b != 0;
    for (auto b : ins.bias_real) c->plain_adds += b != 0;
    return out;
  }
  void product(const Instr&, std::vector<Value>& a, const std::vector<Value>* b) const {
    c->ct_mults += a.size();
    if (conjugate_products) c->conjugations += a.size() * (b ? 2 : 1);
    for (std::size_t k = 0; k < a.size(); ++k) a[k].parts = a[k].parts + (b ? (*b)[k].parts : a[k].parts) - 1;
  }
  void relinearize(const Instr&, std::vector<Value>& a) const {
    for (auto& v : a)
      if (v.parts == 3) {
        ++c->relins;
        v.parts = 2;
      }
  }
  void finish(const Instr& ins, std::vector<Value>& y) const {
    c->rescales += y.size() * std::size_t(ins.rescale);
    for (auto& v : y) v.level = ins.level;
  }
};

}  // namespace

double predicted_cost_per_image(const Program& prog) {
  if (!integer_scheme(prog.scheme) || prog.params.poly_degree == 0) {
    throw CompileError("predicted_cost_per_image: not a BFV or BGV program with parameters");
  }
  const std::size_t n = prog.params.poly_degree;
  return double(prog.params.plain_moduli.size()) * unit_cost(prog, n) / double(n);
}

Cost cost(const Program& prog) {
  Cost c;
  const bool ckks = prog.scheme == Scheme::ckks;
  const std::size_t n = prog.poly_degree();
  const std::size_t residues = ckks ? 1 : prog.params.plain_moduli.size();
  if (prog.instrs.empty()) return c;
  for (const auto& ins : prog.instrs) c.depth = std::max(c.depth, ins.depth);
  // Operation counts: the program run through the interpreter loop on levels alone.
  {
    const CountOps ops{ckks && prog.ckks.complex_packing, !ckks, &c};
    std::vector<CountOps::Value> input(prog.instrs[0].size, CountOps::Value{prog.instrs[0].level, 2});
    execute(prog, make_schedule(prog, false), ops, std::move(input));
  }
  // Memory in layer order: every tensor live from its instruction to its last reader.
  std::vector<std::size_t> last(prog.instrs.size(), 0);
  for (std::size_t i = 0; i < prog.instrs.size(); ++i)
    for (int t : prog.instrs[i].inputs) last[t] = std::max(last[t], i);
  for (const auto& o : prog.outputs) last[o.tensor] = prog.instrs.size();
  std::size_t live_cts = 0, live_bytes = 0;
  for (std::size_t i = 0; i < prog.instrs.size(); ++i) {
    const Instr& ins = prog.instrs[i];
    live_cts += ins.size;
    live_bytes += ins.size * ciphertext_bytes(n, ins.level, ins.parts);
    c.peak_ciphertexts = std::max(c.peak_ciphertexts, live_cts);
    c.peak_bytes = std::max(c.peak_bytes, live_bytes);
    std::vector<int> uniq = ins.inputs;
    std::sort(uniq.begin(), uniq.end());
    uniq.erase(std::unique(uniq.begin(), uniq.end()), uniq.end());
    for (int t : uniq) {
      if (last[t] == i) {
        live_cts -= prog.instrs[t].size;
        live_bytes -= prog.instrs[t].size * ciphertext_bytes(n, prog.instrs[t].level, prog.instrs[t].parts);
      }
    }
  }
  const Instr& in = prog.instrs[0];
  c.input_bytes = residues * in.size * ciphertext_bytes(n, in.level, 2);
  for (const auto& o : prog.outputs) {
    const Instr& t = prog.instrs[o.tensor];
    c.output_bytes += residues * t.size * ciphertext_bytes(n, t.level, t.parts);
  }
  if (!prog.keys.empty()) {
    const std::size_t k = ckks ? prog.ckks.coeff_modulus.size() : prog.params.coeff_modulus.size();
    c.key_bytes = residues * prog.keys.size() * (k - 1) * 2 * k * n * 8;
  }
  return c;
}

namespace {
std::string mib(std::size_t b) {
  std::ostringstream os;
  os.precision(1);
  os << std::fixed << double(b) / (1024.0 * 1024.0) << " MiB";
  return os.str();
}
}  // namespace

namespace {
// " label@level" wherever the level changes, in program order.
std::string levels_line(const Program& prog) {
  std::string out;
  int last_level = -1;
  for (const auto& ins : prog.instrs) {
    if (ins.level != last_level) {
      out += " " + ins.label + "@" + std::to_string(ins.level);
      last_level = ins.level;
    }
  }
  return out;
}

std::string ckks_cost_report(const Program& prog, const Cost& c) {
  std::ostringstream os;
  const auto& p = prog.ckks;
  os << "program: " << prog.description << "\n";
  os << "CKKS parameters (128-bit security): N = " << p.poly_degree << ", primes";
  double lq = 0;
  for (auto q : p.coeff_modulus) {
    os << " " << int(std::round(std::log2(double(q))));
    lq += std::log2(double(q));
  }
  os << " bits (log2 q = " << int(std::round(lq)) << ", " << p.data_primes() << " data primes + special prime)\n";
  os << "batch: " << p.images_per_ciphertext() << " images per ciphertext ("
     << (p.complex_packing ? "two images per complex slot" : "one image per slot")
     << ", one ciphertext per input value); input factor 2^" << std::log2(p.input_factor) << "\n";
  os << "depth " << c.depth << ": " << c.scalar_mults << " ciphertext x integer products (zero weights skipped), " << c.plain_adds
     << " constant adds, " << c.ct_mults << " ciphertext multiplications, " << c.conjugations << " conjugations, " << c.relins
     << " relinearizations, " << c.rescales << " rescales\n";
  os << "predicted precision at the outputs: " << std::fixed;
  os.precision(1);
  const bool calibrated = prog.instrs[0].log2_calibrated.has_value();
  os << prog.predicted_precision_bits << " bits above the noise (assumed 2^" << p.noise_log2 << "), relative to "
     << (calibrated ? "the calibrated value ranges" : "the worst-case bounds (no calibration)") << "\n";
  const Schedule stream = make_schedule(prog, true);
  os << "memory: layer order peak " << c.peak_ciphertexts << " live ciphertexts, " << mib(c.peak_bytes) << "; streaming order peak "
     << stream.peak_ciphertexts << ", " << mib(stream.peak_bytes) << " (plus keys)\n";
  os << "transfer: encrypted input " << mib(c.input_bytes) << ", encrypted outputs " << mib(c.output_bytes)
     << ", evaluation keys " << mib(c.key_bytes) << "\n";
  os << "keys the client must provide: public parameters";
  for (const auto& k : prog.keys) os << ", " << k;
  os << "\nlevels:";
  os << levels_line(prog) << "\n";
  return os.str();
}
}  // namespace

std::string quantization_summary(const QuantizationChoice& q) {
  char line[640];
  if (!q.searched) {
    std::snprintf(line, sizeof line, "fixed bits: input %d, weights %d, coefficients %d", q.input_bits, q.weight_bits, q.coeff_bits);
    return line;
  }
  std::string bits = "input " + std::to_string(q.input_bits);
  for (const auto& [name, b] : q.layer_bits) bits += ", " + name + " " + std::to_string(b);
  std::snprintf(line, sizeof line,
                "%s bits, chosen on %zu calibration images: agreement with the float model %.2f%% there (needed %.3f%% for a target of "
                "%.2f%% on unseen images%s; the fixed defaults 5/6/8: %.2f%% there); predicted cost %.2fx the defaults'",
                bits.c_str(), q.calibration_images, 100 * q.agreement, 100 * q.calibration_target, 100 * q.target,
                q.target_met ? ", met" : ", NOT met: the best reached", 100 * q.default_agreement,
                q.default_cost > 0 ? q.cost / q.default_cost : 0.0);
  return line;
}

std::string cost_report(const Program& prog) {
  const Cost c = cost(prog);
  if (prog.scheme == Scheme::ckks) return ckks_cost_report(prog, c);
  std::ostringstream os;
  const auto& p = prog.params;
  os << "program: " << prog.description << "\n";
  os << scheme_name(prog.scheme) << " parameters (128-bit security): N = " << p.poly_degree << ", log2 q = ";
  double lq = 0;
  for (auto q : p.coeff_modulus) lq += std::log2(double(q));
  os << int(std::round(lq)) << " (" << p.coeff_modulus.size() - 1 << " data primes + special prime), plaintext modulus ";
  double lt = 0;
  for (std::size_t i = 0; i < p.plain_moduli.size(); ++i) {
    os << (i ? " x " : "") << p.plain_moduli[i];
    lt += std::log2(double(p.plain_moduli[i]));
  }
  double need = 0;
  for (const auto& o : prog.outputs) need = std::max(need, o.log2_bound);
  os << " (" << p.plain_moduli.size() << " CRT prime" << (p.plain_moduli.size() > 1 ? "s" : "") << ", " << int(lt)
     << " bits; outputs need " << int(std::ceil(need + 1)) << ")\n";
  os << "batch: " << p.poly_degree << " images per ciphertext (one image per slot, one ciphertext per input value)\n";
  os << "depth " << c.depth << "; per CRT prime: " << c.scalar_mults << " ciphertext x scalar products (zero weights skipped), "
     << c.plain_adds << " constant adds, " << c.ct_mults << " ciphertext multiplications, " << c.relins
     << " relinearizations, " << c.mod_switches << " mod switches\n";
  os << "quantization: " << quantization_summary(prog.quantization) << "\n";
  os << "predicted noise budget at the outputs: " << int(std::floor(prog.predicted_final_budget)) << " bits\n";
  os << "memory: peak " << c.peak_ciphertexts << " live ciphertexts, " << mib(c.peak_bytes)
     << " (one CRT prime at a time)\n";
  os << "transfer: encrypted input " << mib(c.input_bytes) << ", encrypted outputs " << mib(c.output_bytes)
     << ", evaluation keys " << mib(c.key_bytes) << "\n";
  os << "keys the client must provide: public parameters";
  for (const auto& k : prog.keys) os << ", " << k;
  os << " (one set per CRT prime); no Galois keys\n";
  os << "levels:";
  os << levels_line(prog) << "\n";
  return os.str();
}

}  // namespace hecnn::nn::compiler
