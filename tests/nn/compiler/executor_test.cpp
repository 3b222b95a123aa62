// The interpreter loop (compiler/executor.h) on test backends: results independent
// of the schedule, operands moved (not copied) into their last reader, operands
// brought down to their reader's level, and the cost counter (a backend of the loop)
// against counts derived from the program text.
#include "nn/compiler/executor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "nn/compiler/compiler.h"
#include "nn/test_models.h"

namespace hecnn::nn::compiler {
namespace {

// Integers per slot modulo 2^128 (a BFV program's integers, exactly, for small models)
// and a count of the copies the loop makes of values.
struct Tracked {
  std::vector<unsigned __int128> v;
  int level = 0;
  static inline int copies = 0;
  Tracked() = default;
  Tracked(std::vector<unsigned __int128> x, int l) : v(std::move(x)), level(l) {}
  Tracked(const Tracked& o) : v(o.v), level(o.level) { ++copies; }
  Tracked(Tracked&&) noexcept = default;
  Tracked& operator=(const Tracked& o) {
    v = o.v;
    level = o.level;
    ++copies;
    return *this;
  }
  Tracked& operator=(Tracked&&) noexcept = default;
};

struct ExactOps {
  using Value = Tracked;
  static constexpr bool kHasLevels = true;
  static constexpr bool kParallel = false;
  std::size_t slots = 0;
  mutable std::vector<std::string> order;  // labels in execution order
  mutable int below_level = 0;             // operands that reached an op above their level

  void align(Value& x, std::size_t level) const { x.level = std::min(x.level, int(level)); }
  void check(const Instr& ins, const Value& x) const { below_level += x.level != ins.level + ins.rescale; }
  std::vector<Value> linear(const Instr& ins, const std::vector<const std::vector<Value>*>& srcs) const {
    order.push_back(ins.label);
    std::vector<Value> out;
    for (std::size_t o = 0; o < ins.rows.size(); ++o) {
      std::vector<unsigned __int128> y(slots, ins.bias.empty() ? 0 : (unsigned __int128)ins.bias.at(o));
      for (const auto& t : ins.rows[o]) {
        const Value& x = (*srcs[std::size_t(t.input)])[std::size_t(t.index)];
        check(ins, x);
        for (std::size_t s = 0; s < slots; ++s) y[s] += (unsigned __int128)__int128(t.weight) * x.v[s];  // wraps: compared, not interpreted
      }
      out.emplace_back(std::move(y), ins.level);
    }
    return out;
  }
  void product(const Instr& ins, std::vector<Value>& a, const std::vector<Value>* b) const {
    order.push_back(ins.label);
    for (std::size_t k = 0; k < a.size(); ++k) {
      check(ins, a[k]);
      const auto& y = b ? (*b)[k].v : a[k].v;
      for (std::size_t s = 0; s < slots; ++s) a[k].v[s] *= y[s];
    }
  }
  void relinearize(const Instr& ins, std::vector<Value>& a) const {
    order.push_back(ins.label);
    for (const auto& x : a) check(ins, x);
  }
  void finish(const Instr& ins, std::vector<Value>& y) const {
    for (auto& x : y) x.level = ins.level;
  }
};

Program small_program(bool mod_switch) {
  const Model m = testing::deep_conv_model(5);
  CompileOptions opt;
  opt.input_bits = 2;
  opt.weight_bits = 3;
  opt.coeff_bits = 3;
  opt.mod_switch = mod_switch;
  return compile(std::span(&m, 1), {}, opt);
}

std::vector<Tracked> inputs(const Program& prog, std::size_t slots) {
  std::vector<Tracked> in;
  for (std::size_t e = 0; e < prog.instrs[0].size; ++e) {
    std::vector<unsigned __int128> v(slots);
    for (std::size_t s = 0; s < slots; ++s) v[s] = (unsigned __int128)(__int128((e * 7 + s * 3) % 9) - 4);
    in.emplace_back(std::move(v), prog.instrs[0].level);
  }
  return in;
}

TEST(Executor, StreamingAndLayerOrderGiveTheSameValues) {
  const Program prog = small_program(true);
  const ExactOps ops{4};
  const auto a = execute(prog, make_schedule(prog, false), ops, inputs(prog, 4));
  const ExactOps ops2{4};
  const auto b = execute(prog, make_schedule(prog, true, false, 3), ops2, inputs(prog, 4));
  ASSERT_EQ(a.size(), prog.instrs.size());
  for (const auto& o : prog.outputs) {
    const auto t = std::size_t(o.tensor);
    ASSERT_EQ(a[t].size(), prog.instrs[t].size);
    for (std::size_t e = 0; e < a[t].size(); ++e) EXPECT_EQ(a[t][e].v, b[t][e].v) << o.name << " element " << e;
  }
  // Streaming interleaves instructions; layer order runs each once.
  EXPECT_EQ(ops.order.size(), prog.instrs.size() - 1 - std::size_t(std::count_if(prog.instrs.begin(), prog.instrs.end(), [](const Instr& i) {
                                 return i.op == OpKind::mod_switch;
                               })));
  EXPECT_GT(ops2.order.size(), ops.order.size());
  // Tensors that are not outputs come back empty.
  std::set<int> outs;
  for (const auto& o : prog.outputs) outs.insert(o.tensor);
  for (std::size_t t = 0; t < a.size(); ++t)
    if (!outs.count(int(t))) EXPECT_TRUE(a[t].empty()) << prog.instrs[t].label;
}

TEST(Executor, MovesOperandsIntoTheirLastReaderAndKeepsAllWhenAsked) {
  const Program prog = small_program(false);
  Tracked::copies = 0;
  execute(prog, make_schedule(prog, false), ExactOps{2}, inputs(prog, 2));
  // Linear instructions read their inputs in place (all at one level without mod
  // switching); any other instruction moves its operand unless a later instruction (or
  // the outputs) still needs it, and copies it then.
  std::set<int> outs;
  for (const auto& o : prog.outputs) outs.insert(o.tensor);
  int expected = 0;
  for (std::size_t i = 1; i < prog.instrs.size(); ++i) {
    const Instr& ins = prog.instrs[i];
    if (ins.op == OpKind::linear) continue;
    const int t = ins.inputs[0];
    bool later = outs.count(t) > 0;
    for (std::size_t j = i + 1; j < prog.instrs.size(); ++j)
      for (int u : prog.instrs[j].inputs) later |= u == t;
    if (later) expected += int(ins.size);
  }
  EXPECT_GT(expected, 0);
  EXPECT_EQ(Tracked::copies, expected);
  const int moved_run = Tracked::copies;
  Tracked::copies = 0;
  ExecOptions keep;
  keep.keep_all = true;
  const auto all = execute(prog, make_schedule(prog, false, true), ExactOps{2}, inputs(prog, 2), keep);
  for (std::size_t t = 0; t < all.size(); ++t) EXPECT_EQ(all[t].size(), prog.instrs[t].size) << prog.instrs[t].label;
  EXPECT_GT(Tracked::copies, moved_run);  // kept tensors are copied into their readers
}

TEST(Executor, BringsOperandsDownToTheirReadersLevel) {
  // CKKS programs read tensors at several levels (an activation's linear part reads x
  // and x^2); BFV programs with mod switching drop primes between instructions.
  const Model m = testing::deep_conv_model(6);
  CompileOptions opt;
  opt.scheme = Scheme::ckks;
  const Program prog = compile(std::span(&m, 1), {}, opt);
  bool mixed = false;
  for (const auto& ins : prog.instrs)
    for (int t : ins.inputs) mixed |= prog.instrs[std::size_t(t)].level > ins.level + ins.rescale;
  ASSERT_TRUE(mixed) << "the test needs a program that reads tensors above their reader's level";
  for (bool streaming : {false, true}) {
    const ExactOps ops{2};
    execute(prog, make_schedule(prog, streaming, false, 5), ops, inputs(prog, 2));
    EXPECT_EQ(ops.below_level, 0) << (streaming ? "streaming" : "layer order");
  }
}

TEST(Executor, RefusesMismatchedInputs) {
  const Program prog = small_program(false);
  auto in = inputs(prog, 2);
  in.pop_back();
  EXPECT_THROW(execute(prog, make_schedule(prog, false), ExactOps{2}, std::move(in)), std::invalid_argument);
  Schedule broken = make_schedule(prog, false);
  broken.frees.pop_back();
  EXPECT_THROW(execute(prog, broken, ExactOps{2}, inputs(prog, 2)), std::invalid_argument);
}

// The cost counter is the loop on levels alone; its counts must equal those derived
// from the program text (what each HE backend does per instruction).
void expect_counts_match_program(const Program& prog) {
  const Cost c = cost(prog);
  std::size_t scalar = 0, adds = 0, mults = 0, conj = 0, rescales = 0, switches = 0, relins = 0;
  const bool cplx = prog.scheme == Scheme::ckks && prog.ckks.complex_packing;
  const bool per_prime = prog.scheme == Scheme::bfv;  // BFV mod-switches one prime at a time
  for (std::size_t i = 1; i < prog.instrs.size(); ++i) {
    const Instr& ins = prog.instrs[i];
    const int before = ins.level + ins.rescale;
    rescales += ins.size * std::size_t(ins.rescale);
    if (ins.op == OpKind::linear) {
      for (std::size_t k = 0; k < ins.inputs.size(); ++k) {
        std::set<int> read;
        for (const auto& row : ins.rows)
          for (const auto& t : row)
            if (std::size_t(t.input) == k) read.insert(t.index);
        const int gap = prog.instrs[std::size_t(ins.inputs[k])].level - before;
        if (gap > 0) switches += read.size() * std::size_t(per_prime ? gap : 1);
      }
      for (const auto& row : ins.rows)
        for (const auto& t : row) scalar += t.weight != 0;
      for (auto b : ins.bias) adds += b != 0;
      for (auto b : ins.bias_real) adds += b != 0;
      continue;
    }
    for (int t : ins.inputs) {
      const int gap = prog.instrs[std::size_t(t)].level - before;
      if (gap > 0) switches += ins.size * std::size_t(per_prime ? gap : 1);
    }
    if (ins.op == OpKind::square || ins.op == OpKind::multiply) {
      mults += ins.size;
      if (cplx) conj += ins.size * (ins.op == OpKind::square || ins.inputs[0] == ins.inputs[1] ? 1 : 2);
    }
    if (ins.op == OpKind::relinearize && prog.instrs[std::size_t(ins.inputs[0])].parts == 3) relins += ins.size;
  }
  EXPECT_EQ(c.scalar_mults, scalar);
  EXPECT_EQ(c.plain_adds, adds);
  EXPECT_EQ(c.ct_mults, mults);
  EXPECT_EQ(c.conjugations, conj);
  EXPECT_EQ(c.rescales, rescales);
  EXPECT_EQ(c.mod_switches, switches);
  EXPECT_EQ(c.relins, relins);
}

TEST(Executor, CostCounterCountsWhatTheBackendsRun_Bfv) {
  expect_counts_match_program(small_program(true));
  expect_counts_match_program(small_program(false));
}

TEST(Executor, CostCounterCountsWhatTheBackendsRun_Ckks) {
  const Model m = testing::deep_conv_model(6);
  for (bool cplx : {true, false}) {
    CompileOptions opt;
    opt.scheme = Scheme::ckks;
    opt.complex_packing = cplx;
    const Program prog = compile(std::span(&m, 1), {}, opt);
    expect_counts_match_program(prog);
  }
}

// A value that accounts for the bytes a ciphertext at its level and part count would
// hold while it exists: the memory the loop really keeps, against the schedule's estimate.
struct Blob {
  int level = 0, parts = 2;
  std::size_t n = 0;
  static inline std::size_t live = 0, peak = 0;
  std::size_t bytes() const { return n * std::size_t(level) * std::size_t(parts) * 8; }
  void add() {
    live += bytes();
    peak = std::max(peak, live);
  }
  void sub() { live -= bytes(); }
  Blob() = default;
  Blob(int l, int p, std::size_t n_) : level(l), parts(p), n(n_) { add(); }
  Blob(const Blob& o) : level(o.level), parts(o.parts), n(o.n) { add(); }
  Blob(Blob&& o) noexcept : level(o.level), parts(o.parts), n(o.n) { o.n = 0; }
  Blob& operator=(const Blob& o) {
    sub();
    level = o.level, parts = o.parts, n = o.n;
    add();
    return *this;
  }
  Blob& operator=(Blob&& o) noexcept {
    sub();
    level = o.level, parts = o.parts, n = o.n;
    o.n = 0;
    return *this;
  }
  ~Blob() { sub(); }
  void set(int l, int p) {
    sub();
    level = l, parts = p;
    add();
  }
};

struct BlobOps {
  using Value = Blob;
  static constexpr bool kHasLevels = true;
  static constexpr bool kParallel = false;
  std::size_t n = 0;
  void align(Value& v, std::size_t level) const { v.set(std::min(v.level, int(level)), v.parts); }
  std::vector<Value> linear(const Instr& ins, const std::vector<const std::vector<Value>*>& srcs) const {
    int parts = 2;
    for (const auto& row : ins.rows)
      for (const auto& t : row)
        if (t.weight != 0) parts = std::max(parts, (*srcs[std::size_t(t.input)])[std::size_t(t.index)].parts);
    std::vector<Value> out;
    out.reserve(ins.rows.size());
    for (std::size_t o = 0; o < ins.rows.size(); ++o) out.emplace_back(ins.level + ins.rescale, parts, n);
    return out;
  }
  void product(const Instr&, std::vector<Value>& a, const std::vector<Value>*) const {
    for (auto& v : a) v.set(v.level, 3);
  }
  void relinearize(const Instr&, std::vector<Value>& a) const {
    for (auto& v : a) v.set(v.level, 2);
  }
  void finish(const Instr& ins, std::vector<Value>& y) const {
    for (auto& v : y) v.set(ins.level, v.parts);
  }
};

// The schedule's memory estimate is what the loop keeps alive at step boundaries; within
// a step the loop may also hold one step's transient copies (operands switched down,
// copies for readers that are not the last). The peak must not pass the estimate by more
// than those.
TEST(Executor, LiveCiphertextBytesStayWithinTheScheduleEstimate) {
  const Model m = testing::deep_conv_model(7);
  CompileOptions opt;
  opt.scheme = Scheme::ckks;
  const Program prog = compile(std::span(&m, 1), {}, opt);
  const std::size_t n = prog.poly_degree();
  for (bool streaming : {false, true}) {
    for (std::size_t step : {std::size_t(4), std::size_t(16), std::size_t(256)}) {
      const Schedule sch = make_schedule(prog, streaming, false, step);
      Blob::live = Blob::peak = 0;
      {
        std::vector<Blob> in;
        for (std::size_t e = 0; e < prog.instrs[0].size; ++e) in.emplace_back(prog.instrs[0].level, 2, n);
        const auto out = execute(prog, sch, BlobOps{n}, std::move(in));
      }
      EXPECT_EQ(Blob::live, 0u);
      // The largest transient of one step: a step's (layer order: a layer's) worth of 3-part
      // ciphertexts at the top level.
      std::size_t widest = 0;
      for (const auto& ins : prog.instrs) widest = std::max(widest, ins.size);
      const std::size_t slack = (streaming ? std::min(step, widest) : widest) * ciphertext_bytes(n, prog.instrs[0].level, 3);
      // Moving operands into their last reader frees some inputs before the step ends, so
      // the loop may keep a little less than the estimate, never much less.
      EXPECT_GE(double(Blob::peak), 0.9 * double(sch.peak_bytes)) << (streaming ? "streaming" : "layer") << " step " << step;
      EXPECT_LE(Blob::peak, sch.peak_bytes + slack) << (streaming ? "streaming" : "layer") << " step " << step << ": measured "
                                                    << Blob::peak << " estimate " << sch.peak_bytes;
    }
  }
}

}  // namespace
}  // namespace hecnn::nn::compiler
