#include "nn/runtime/simulator.h"

#include "math/parallel.h"

#include <cmath>
#include <stdexcept>
#include <type_traits>

#include "math/modulus.h"
#include "nn/compiler/executor.h"
#include "nn/compiler/schedule.h"

namespace hecnn::nn::runtime {

using compiler::Instr;
using compiler::OpKind;
using compiler::Program;

namespace {

struct ModRing {
  math::Modulus q;
  std::uint64_t from(__int128 v) const {
    const bool neg = v < 0;
    const unsigned __int128 m = neg ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;
    const std::uint64_t a = q.reduce(m);
    return neg ? q.neg(a) : a;
  }
  std::uint64_t add(std::uint64_t a, std::uint64_t b) const { return q.add(a, b); }
  std::uint64_t mul(std::uint64_t a, std::uint64_t b) const { return q.mul(a, b); }
};

struct ExactRing {
  i128 from(__int128 v) const { return v; }
  i128 add(i128 a, i128 b) const { return a + b; }
  i128 mul(i128 a, i128 b) const { return a * b; }
};

// The integers in double precision (relative error ~2^-50 after deep layers): the
// reference for CKKS, whose integers may pass 128 bits.
struct RealRing {
  double from(__int128 v) const { return double(v); }
  double add(double a, double b) const { return a + b; }
  double mul(double a, double b) const { return a * b; }
};

// The simulators' backend of the interpreter loop (compiler/executor.h): a value is
// one element's slot vector in Ring; no levels, no relinearization, no rescale.
template <typename T, typename Ring>
struct SimOps {
  using Value = std::vector<T>;
  static constexpr bool kHasLevels = false;
  static constexpr bool kParallel = false;
  const Program& prog;
  const Ring& ring;
  std::size_t slots;

  void align(Value&, std::size_t) const {}
  std::vector<Value> linear(const Instr& ins, const std::vector<const std::vector<Value>*>& srcs) const {
    std::vector<Value> out(ins.rows.size(), Value(slots));
    if constexpr (std::is_same_v<T, double>) {
      if (prog.scheme == compiler::Scheme::ckks) {
        // Real program: the weights the planner's integers stand for, W / input_mult
        // (the real weights themselves before planning), and the real biases.
        for (std::size_t o = 0; o < ins.rows.size(); ++o) {
          auto& y = out[o];
          const double b = ins.bias_real.empty() ? 0.0 : ins.bias_real.at(o);
          for (std::size_t s = 0; s < slots; ++s) y[s] = b;
          for (const auto& term : ins.rows[o]) {
            const auto& x = (*srcs[std::size_t(term.input)])[std::size_t(term.index)];
            const double w = ins.input_mult.empty() ? term.real : double(term.weight) / ins.input_mult.at(std::size_t(term.input));
            if (w == 0) continue;
            for (std::size_t s = 0; s < slots; ++s) y[s] += w * x[s];
          }
        }
        return out;
      }
    }
    for (std::size_t o = 0; o < ins.rows.size(); ++o) {
      auto& y = out[o];
      const T b = ring.from(ins.bias.at(o));
      for (std::size_t s = 0; s < slots; ++s) y[s] = b;
      for (const auto& term : ins.rows[o]) {
        const auto& x = (*srcs[std::size_t(term.input)])[std::size_t(term.index)];
        const T w = ring.from(term.weight);
        for (std::size_t s = 0; s < slots; ++s) y[s] = ring.add(y[s], ring.mul(w, x[s]));
      }
    }
    return out;
  }
  void product(const Instr&, std::vector<Value>& a, const std::vector<Value>* b) const {
    for (std::size_t e = 0; e < a.size(); ++e) {
      auto& x = a[e];
      const auto& y = b ? (*b)[e] : a[e];
      for (std::size_t s = 0; s < slots; ++s) x[s] = ring.mul(x[s], y[s]);
    }
  }
  void relinearize(const Instr&, std::vector<Value>&) const {}
  void finish(const Instr&, std::vector<Value>&) const {}
};

constexpr std::size_t kSlotChunk = 1024;  // slots per parallel run (a few MB of values per tensor)

template <typename T, typename Ring>
TensorValues<T> run(const Program& prog, const std::vector<std::vector<std::int64_t>>& inputs, const Ring& ring,
                    const SimulationOptions& opt) {
  if (prog.instrs.empty()) throw std::invalid_argument("simulate: empty program");
  if (inputs.size() != prog.instrs[0].size) {
    throw std::invalid_argument("simulate: input has " + std::to_string(inputs.size()) + " elements, program expects " +
                                std::to_string(prog.instrs[0].size));
  }
  const std::size_t slots = inputs.empty() ? 0 : inputs[0].size();
  for (const auto& v : inputs)
    if (v.size() != slots) throw std::invalid_argument("simulate: ragged input slots");
  const compiler::Schedule sch = compiler::make_schedule(prog, false, opt.keep_all);
  compiler::ExecOptions eo;
  eo.keep_all = opt.keep_all;
  // Slots are independent: runs of kSlotChunk slots go to the cores, then are joined.
  const std::size_t chunks = std::max<std::size_t>(1, (slots + kSlotChunk - 1) / kSlotChunk);
  std::vector<TensorValues<T>> parts(chunks);
  math::parallel_for(chunks, [&](std::size_t c) {
    const std::size_t first = c * kSlotChunk, m = chunks == 1 ? slots : std::min(kSlotChunk, slots - first);
    std::vector<std::vector<T>> in(inputs.size(), std::vector<T>(m));
    for (std::size_t e = 0; e < inputs.size(); ++e)
      for (std::size_t s = 0; s < m; ++s) in[e][s] = ring.from(inputs[e][first + s]);
    const SimOps<T, Ring> ops{prog, ring, m};
    parts[c] = compiler::execute(prog, sch, ops, std::move(in), eo);
  });
  TensorValues<T> out = std::move(parts[0]);
  for (std::size_t c = 1; c < chunks; ++c)
    for (std::size_t t = 0; t < out.size(); ++t)
      for (std::size_t e = 0; e < out[t].size(); ++e) out[t][e].insert(out[t][e].end(), parts[c][t][e].begin(), parts[c][t][e].end());
  return out;
}

}  // namespace

TensorValues<std::uint64_t> simulate_mod(const Program& prog, const std::vector<std::vector<std::int64_t>>& inputs,
                                         std::uint64_t t, const SimulationOptions& opt) {
  if (prog.scheme == compiler::Scheme::ckks) throw std::invalid_argument("simulate_mod: a CKKS program has real weights (use simulate_real)");
  return run<std::uint64_t>(prog, inputs, ModRing{math::Modulus(t)}, opt);
}

TensorValues<i128> simulate_exact(const Program& prog, const std::vector<std::vector<std::int64_t>>& inputs,
                                  const SimulationOptions& opt) {
  if (prog.scheme == compiler::Scheme::ckks) throw std::invalid_argument("simulate_exact: a CKKS program has real weights (use simulate_real)");
  for (const auto& ins : prog.instrs) {
    if (ins.log2_bound >= 125) {
      throw std::invalid_argument("simulate_exact: tensor '" + ins.label + "' may reach 2^" +
                                  std::to_string(int(std::ceil(ins.log2_bound))) + ", beyond 128-bit integers");
    }
  }
  return run<i128>(prog, inputs, ExactRing{}, opt);
}

TensorValues<double> simulate_real(const Program& prog, const std::vector<std::vector<std::int64_t>>& inputs,
                                   const SimulationOptions& opt) {
  return run<double>(prog, inputs, RealRing{}, opt);
}

std::vector<std::vector<std::int64_t>> to_slots(const std::vector<std::vector<std::int64_t>>& images) {
  if (images.empty()) return {};
  std::vector<std::vector<std::int64_t>> s(images[0].size(), std::vector<std::int64_t>(images.size()));
  for (std::size_t i = 0; i < images.size(); ++i)
    for (std::size_t e = 0; e < images[i].size(); ++e) s[e][i] = images[i][e];
  return s;
}

namespace {

// Garner's mixed-radix digits: x = a_0 + a_1 m_0 + a_2 m_0 m_1 + ..., a_i < m_i.
std::vector<std::uint64_t> garner_digits(const std::vector<std::uint64_t>& r, const std::vector<std::uint64_t>& m) {
  if (r.size() != m.size() || m.empty()) throw std::invalid_argument("crt: residue / modulus count mismatch");
  std::vector<std::uint64_t> a(m.size());
  for (std::size_t i = 0; i < m.size(); ++i) {
    math::Modulus mi(m[i]);
    // x mod m_i from the digits so far
    std::uint64_t acc = 0, prod = 1;
    for (std::size_t j = 0; j < i; ++j) {
      acc = mi.add(acc, mi.mul(mi.reduce(a[j]), prod));
      prod = mi.mul(prod, mi.reduce(m[j]));
    }
    a[i] = mi.mul(mi.sub(mi.reduce(r[i]), acc), mi.inv(prod));
  }
  return a;
}

}  // namespace

i128 crt_centered(const std::vector<std::uint64_t>& r, const std::vector<std::uint64_t>& m) {
  if (r.size() != m.size() || m.empty()) throw std::invalid_argument("crt: residue / modulus count mismatch");
  double bits = 0;
  for (auto q : m) bits += std::log2(double(q));
  if (bits > 125) throw std::invalid_argument("crt: product of plaintext primes exceeds 125 bits (use crt_centered_wide)");
  const auto a = garner_digits(r, m);
  i128 x = 0, prod = 1, M = 1;
  for (std::size_t i = 0; i < m.size(); ++i) {
    x += i128(a[i]) * prod;
    prod *= i128(m[i]);
  }
  M = prod;
  if (x > M / 2) x -= M;
  return x;
}

WideInt crt_centered_wide(const std::vector<std::uint64_t>& r, const std::vector<std::uint64_t>& m) {
  const auto a = garner_digits(r, m);
  math::BigUInt x, M(1);
  for (std::size_t i = a.size(); i-- > 0;) {  // Horner: x = (..(a_k m_{k-1} + a_{k-1}) ..) m_0 + a_0
    x.mul(m[i]);
    x.add(math::BigUInt(a[i]));
  }
  for (auto q : m) M.mul(q);
  math::BigUInt twice = x;
  twice.mul(2);
  WideInt w;
  if (M < twice) {  // x > M / 2 (M is odd): x - M
    w.negative = true;
    w.magnitude = M;
    w.magnitude.sub(x);
  } else {
    w.magnitude = std::move(x);
  }
  return w;
}

bool operator<(const WideInt& a, const WideInt& b) {
  const bool an = a.negative && !a.magnitude.is_zero(), bn = b.negative && !b.magnitude.is_zero();
  if (an != bn) return an;
  return an ? b.magnitude < a.magnitude : a.magnitude < b.magnitude;
}

bool needs_wide_integers(const Program& prog) {
  if (prog.scheme == compiler::Scheme::ckks) return false;
  double bits = 0;
  for (auto q : prog.params.plain_moduli) bits += std::log2(double(q));
  if (bits > 125) return true;
  for (const auto& ins : prog.instrs)
    if (ins.log2_bound >= 125) return true;
  return false;
}

}  // namespace hecnn::nn::runtime
