// Packed (single-image) programs: every lowering and layout, run on the cleartext slot
// simulator, against the float model (nn/model/forward.h) on random small networks:
// odd sizes, strides, padding, several channels, pooling, degree 2 and 3 activations.
// The simulator is exact arithmetic on the slots, so agreement is to rounding (1e-9).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "nn/compiler/packed.h"
#include "nn/compiler/packed_executor.h"
#include "nn/compiler/packed_io.h"
#include "nn/compiler/plan_io.h"
#include "nn/model/forward.h"
#include "nn/model/model_io.h"
#include "nn/test_models.h"

namespace hecnn::nn::compiler {
namespace {

// Weights scaled by 1 / sqrt(fan-in) keep the values of deep random networks bounded.
std::vector<double> rand_vec(std::mt19937_64& rng, std::size_t n, double scale) { return testing::random_vec(n, scale, rng); }

Conv2d conv(std::mt19937_64& rng, int in, int out, int k, int stride, int pad) {
  Conv2d c;
  c.in_channels = in;
  c.out_channels = out;
  c.kernel_h = c.kernel_w = k;
  c.stride_h = c.stride_w = stride;
  c.pad_h = c.pad_w = pad;
  c.weight = rand_vec(rng, std::size_t(in) * out * k * k, 1.0 / (k * std::sqrt(double(in))));
  c.bias = rand_vec(rng, std::size_t(out), 0.1);
  return c;
}

Dense dense(std::mt19937_64& rng, int in, int out) {
  Dense d;
  d.in_features = in;
  d.out_features = out;
  d.weight = rand_vec(rng, std::size_t(in) * out, 1.0 / std::sqrt(double(in)));
  d.bias = rand_vec(rng, std::size_t(out), 0.1);
  return d;
}

struct NetCase {
  std::string name;
  std::vector<std::string> layers;  // "c<in>.<out>.<k>.<s>.<p>", "d<out>", "p<k>", "sq", "poly2", "poly3", "aff"
  Shape input;
};

Model build(const NetCase& nc, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Model m;
  m.meta.name = nc.name;
  m.input.shape = nc.input;
  Shape cur = nc.input;
  for (const auto& l : nc.layers) {
    if (l[0] == 'c') {
      int in, out, k, s, p;
      std::sscanf(l.c_str(), "c%d.%d.%d.%d.%d", &in, &out, &k, &s, &p);
      m.layers.push_back(conv(rng, cur.c, out, k, s, p));
      cur = {out, (cur.h + 2 * p - k) / s + 1, (cur.w + 2 * p - k) / s + 1};
    } else if (l[0] == 'd') {
      const int out = std::stoi(l.substr(1));
      m.layers.push_back(dense(rng, int(cur.size()), out));
      cur = {out, 1, 1};
    } else if (l[0] == 'p' && l.rfind("poly", 0) != 0) {
      const int k = std::stoi(l.substr(1));
      m.layers.push_back(SumPool{k, k, k, k});
      cur = {cur.c, cur.h / k, cur.w / k};
    } else if (l == "sq") {
      m.layers.push_back(Poly{{0, 0, 1}});
    } else if (l == "poly2") {
      m.layers.push_back(Poly{{0.3, 0.5, 0.25}});
    } else if (l == "poly3") {
      m.layers.push_back(Poly{{0.1, 0.5, 0.2, -0.05}});
    } else if (l == "aff") {
      m.layers.push_back(Poly{{0.2, 1.5}});
    }
  }
  validate(m);
  return m;
}

std::vector<NetCase> cases() {
  return {
      {"CryptonetsLike_28x28_conv5x5s2p1_sq_dense_sq_dense", {"c1.5.5.2.1", "sq", "d100", "sq", "d10"}, {1, 28, 28}},
      {"Tenseal1Like_conv7x7s3_sq_dense_sq_dense", {"c1.4.7.3.0", "sq", "d64", "sq", "d10"}, {1, 28, 28}},
      {"TwoConvPool_9x9_3ch", {"c3.4.3.1.1", "poly2", "p2", "c4.6.3.1.0", "sq", "d7"}, {3, 9, 9}},
      {"OddSizes_11x7_conv4x3", {"c2.3.3.2.1", "poly3", "d13", "sq", "d5"}, {2, 11, 7}},
      {"AffineThenSquares", {"c1.2.3.1.0", "aff", "sq", "sq", "d6"}, {1, 8, 8}},
      {"DenseOnly_MLP", {"d33", "poly2", "d9"}, {1, 6, 6}},
      {"ManyChannels_exceeds_one_ciphertext", {"c1.12.3.1.1", "sq", "p2", "d10"}, {1, 24, 24}},
  };
}

class PackedSim : public ::testing::TestWithParam<NetCase> {};

TEST_P(PackedSim, MatchesTheFloatModel) {
  const NetCase& nc = GetParam();
  const Model m = build(nc, 42);
  for (bool im2col : {true, false}) {
    PackedOptions opt;
    opt.im2col = im2col;
    const PackedProgram prog = compile_packed(m, opt);
    SCOPED_TRACE(describe_packed(prog));
    PackedSimulator sim(prog);
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<int> px(0, 255);
    for (int trial = 0; trial < 3; ++trial) {
      std::vector<std::uint8_t> raw(m.input.shape.size());
      for (auto& v : raw) v = std::uint8_t(px(rng));
      const auto want = forward(m, prepare_input(m, raw));
      const auto out = run_packed(prog, sim, prog.pack_input(raw.data(), raw.size()));
      const auto got = prog.unpack_output(out.back());
      ASSERT_EQ(got.size(), want.size());
      double mx = 1e-12;
      for (double w : want) mx = std::max(mx, std::abs(w));
      for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-9 * mx) << "class " << i;
    }
    // Levels: one per linear map and square, two per cubic; scales and keys listed.
    EXPECT_EQ(prog.ops.back().level_out, 1);
    for (std::size_t i = 1; i < prog.ops.size(); ++i) EXPECT_EQ(prog.ops[i].level_in, prog.ops[i - 1].level_out);
    EXPECT_EQ(prog.ops.front().level_in, prog.data_primes());
    std::set<std::int32_t> listed(prog.rotation_steps.begin(), prog.rotation_steps.end());
    for (const auto& op : prog.ops) {
      for (const auto& out : op.outs)
        for (const auto& g : out) {
          if (g.step) EXPECT_TRUE(listed.count(g.step)) << op.label << " giant " << g.step;
          for (const auto& d : g.diags)
            if (d.baby) EXPECT_TRUE(listed.count(d.baby)) << op.label << " baby " << d.baby;
        }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Nets, PackedSim, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<NetCase>& i) { return i.param.name; });

// Galois-key budget: with room for the powers of two and two more keys, the other
// steps are composed from the keys; the result is unchanged (simulator = float model),
// every path adds up to its step, and the counter charges the extra key switches.
class PackedKeyBudget : public ::testing::TestWithParam<NetCase> {};

TEST_P(PackedKeyBudget, ComposedStepsKeepTheResult) {
  const NetCase& nc = GetParam();
  const Model m = build(nc, 42);
  const PackedProgram free_keys = compile_packed(m);
  ASSERT_FALSE(free_keys.rotation_steps.empty());
  const std::size_t per_key = packed_galois_key_bytes(free_keys) / free_keys.rotation_steps.size();
  std::size_t powers = 0;
  for (std::size_t u = 1; u < free_keys.lane(); u <<= 1) ++powers;
  const std::size_t max_keys = powers + 2;
  if (free_keys.rotation_steps.size() <= max_keys) GTEST_SKIP() << "only " << free_keys.rotation_steps.size() << " steps";
  PackedOptions opt;
  opt.poly_degree = free_keys.poly_degree;
  opt.max_galois_key_bytes = max_keys * per_key;
  const PackedProgram prog = compile_packed(m, opt);
  SCOPED_TRACE(describe_packed(prog));
  EXPECT_LE(prog.rotation_steps.size(), max_keys);
  EXPECT_LE(packed_galois_key_bytes(prog), opt.max_galois_key_bytes);
  EXPECT_FALSE(prog.rotation_paths.empty());
  EXPECT_EQ(prog.used_steps(), free_keys.used_steps());
  const std::set<std::int32_t> keys(prog.rotation_steps.begin(), prog.rotation_steps.end());
  const std::int64_t lane = std::int64_t(prog.lane());
  for (const auto& p : prog.rotation_paths) {
    EXPECT_FALSE(keys.count(p.step)) << p.step;
    std::int64_t sum = 0;
    for (auto k : p.keys) {
      EXPECT_TRUE(keys.count(k)) << "step " << p.step << " key " << k;
      sum += k;
    }
    EXPECT_EQ(((sum % lane) + lane) % lane, p.step);
  }
  for (auto s : prog.used_steps()) {
    const auto path = prog.rotation_path(s);
    if (path.size() == 1) EXPECT_TRUE(keys.count(std::int32_t(((path[0] % lane) + lane) % lane))) << s;
  }
  const PackedCounts a = count_packed(free_keys), b = count_packed(prog);
  EXPECT_EQ(a.composed, 0u);
  EXPECT_GT(b.composed, 0u);
  EXPECT_GE(b.rotations, a.rotations - a.hoisted);
  PackedSimulator sim(prog);
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> px(0, 255);
  for (int trial = 0; trial < 2; ++trial) {
    std::vector<std::uint8_t> raw(m.input.shape.size());
    for (auto& v : raw) v = std::uint8_t(px(rng));
    const auto want = forward(m, prepare_input(m, raw));
    const auto got = prog.unpack_output(run_packed(prog, sim, prog.pack_input(raw.data(), raw.size())).back());
    double mx = 1e-12;
    for (double w : want) mx = std::max(mx, std::abs(w));
    for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-9 * mx) << "class " << i;
  }
  // The paths survive the plan file; a path whose keys do not add up is refused.
  const PackedEnsemble back = parse_packed(serialize_packed(as_ensemble(prog)));
  ASSERT_EQ(back.members[0].rotation_paths.size(), prog.rotation_paths.size());
  for (std::size_t i = 0; i < prog.rotation_paths.size(); ++i) {
    EXPECT_EQ(back.members[0].rotation_paths[i].step, prog.rotation_paths[i].step);
    EXPECT_EQ(back.members[0].rotation_paths[i].keys, prog.rotation_paths[i].keys);
  }
  PackedEnsemble bad = as_ensemble(prog);
  bad.members[0].rotation_paths[0].keys.back() = bad.members[0].rotation_steps.front() == bad.members[0].rotation_paths[0].keys.back()
                                                     ? bad.members[0].rotation_steps.back()
                                                     : bad.members[0].rotation_steps.front();
  try {
    parse_packed(serialize_packed(bad));
    FAIL() << "a path that does not add up was accepted";
  } catch (const PlanError& e) {
    EXPECT_NE(std::string(e.what()).find("rotation path of step"), std::string::npos) << e.what();
  }
  // Below the powers of two: refused, naming the budget.
  opt.max_galois_key_bytes = (powers - 1) * per_key;
  try {
    compile_packed(m, opt);
    FAIL() << "a budget below the powers of two was accepted";
  } catch (const CompileError& e) {
    EXPECT_NE(std::string(e.what()).find("Galois key budget"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Nets, PackedKeyBudget, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<NetCase>& i) { return i.param.name; });

// A dense layer reading a tensor spread over the whole lane (no room for copies): the
// hybrid lowering without replication needs about one diagonal per output.
TEST(PackedPlan, DenseOverAFullLaneUsesTheHybridWithoutCopies) {
  const Model m = build({"full", {"c1.8.3.1.1", "sq", "d16", "sq", "d10"}, {1, 28, 28}}, 9);
  PackedOptions opt;
  opt.poly_degree = 16384;
  const PackedProgram prog = compile_packed(m, opt);
  SCOPED_TRACE(describe_packed(prog));
  const PackedOp* d1 = nullptr;
  for (const auto& op : prog.ops)
    if (op.label.rfind("dense1", 0) == 0 && op.kind == PackedOpKind::linear) d1 = &op;
  ASSERT_NE(d1, nullptr);
  EXPECT_EQ(d1->lowering, "hybrid");
  std::size_t diags = 0;
  for (const auto& out : d1->outs)
    for (const auto& g : out) diags += g.diags.size();
  EXPECT_LE(diags, 16u * d1->in_cts);
  PackedSimulator sim(prog);
  std::vector<std::uint8_t> raw(m.input.shape.size());
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = std::uint8_t((i * 53) % 256);
  const auto want = forward(m, prepare_input(m, raw));
  const auto got = prog.unpack_output(run_packed(prog, sim, prog.pack_input(raw.data(), raw.size())).back());
  double mx = 1e-12;
  for (double w : want) mx = std::max(mx, std::abs(w));
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-9 * mx) << "class " << i;
}

TEST(PackedPlan, CryptonetsModelFileFitsN8192WithFewRotations) {
  const std::string path = testing::model_path("cryptonets-x2-mnist.hecnn");
  HECNN_REQUIRE_OR_SKIP(!path.empty(), std::string("models/cryptonets-x2-mnist.hecnn"));
  const Model m = read_model(path);
  const PackedProgram prog = compile_packed(m);
  std::printf("%s", describe_packed(prog).c_str());
  EXPECT_EQ(prog.poly_degree, 8192u);
  EXPECT_EQ(prog.input_packing, "im2col");
  const PackedCounts c = count_packed(prog);
  EXPECT_LE(c.rotations, 80u);
  EXPECT_LE(packed_upload_bytes(prog), 2u * 1024 * 1024);
}

TEST(PackedPlan, StackedImagesEachMatchTheFloatModel) {
  const Model m = build({"s", {"c1.3.5.2.1", "sq", "d20", "poly3", "d10"}, {1, 14, 14}}, 5);
  for (std::size_t K : {2u, 8u}) {
    PackedOptions opt;
    opt.images_per_ciphertext = K;
    const PackedProgram prog = compile_packed(m, opt);
    SCOPED_TRACE(describe_packed(prog));
    EXPECT_EQ(prog.images_per_ciphertext, K);
    std::mt19937_64 rng(K);
    std::uniform_int_distribution<int> px(0, 255);
    std::vector<std::vector<std::uint8_t>> raws(K, std::vector<std::uint8_t>(m.input.shape.size()));
    std::vector<const std::uint8_t*> ptrs;
    for (auto& r : raws) {
      for (auto& v : r) v = std::uint8_t(px(rng));
      ptrs.push_back(r.data());
    }
    PackedSimulator sim(prog);
    const auto out = run_packed(prog, sim, prog.pack_inputs(ptrs, m.input.shape.size()));
    for (std::size_t i = 0; i < K; ++i) {
      const auto want = forward(m, prepare_input(m, raws[i]));
      const auto got = prog.unpack_output(out.back(), i);
      for (std::size_t c = 0; c < want.size(); ++c) EXPECT_NEAR(got[c], want[c], 1e-9 * (1 + std::abs(want[c]))) << "image " << i;
    }
    // Every rotation is K times a planned step.
    for (auto s : prog.rotation_steps) EXPECT_EQ(s % std::int32_t(K), 0) << s;
  }
}

TEST(PackedPlan, EnsembleMembersShareLayoutsAndSumToTheWeightedFloatEnsemble) {
  const NetCase arch{"e", {"c1.3.5.2.1", "sq", "d20", "sq", "d10"}, {1, 14, 14}};
  const std::vector<Model> members = {build(arch, 11), build(arch, 12), build(arch, 13)};
  for (const std::string comb : {"mean", "weighted"}) {
    const PackedEnsemble ens = compile_packed_ensemble(members, comb, {0.5, 0.3, 0.2});
    ASSERT_EQ(ens.members.size(), 3u);
    std::mt19937_64 rng(2);
    std::uniform_int_distribution<int> px(0, 255);
    std::vector<std::uint8_t> raw(members[0].input.shape.size());
    for (auto& v : raw) v = std::uint8_t(px(rng));
    std::vector<double> want(10, 0.0), got(10, 0.0);
    for (std::size_t m = 0; m < 3; ++m) {
      const auto f = forward(members[m], prepare_input(members[m], raw));
      for (std::size_t c = 0; c < 10; ++c) want[c] += ens.weights[m] * f[c];
      PackedSimulator sim(ens.members[m]);
      const auto out = run_packed(ens.members[m], sim, ens.members[m].pack_input(raw.data(), raw.size()));
      const auto g = ens.members[m].unpack_output(out.back());
      for (std::size_t c = 0; c < 10; ++c) got[c] += g[c];
    }
    for (std::size_t c = 0; c < 10; ++c) EXPECT_NEAR(got[c], want[c], 1e-9 * (1 + std::abs(want[c]))) << comb;
    EXPECT_EQ(ens.members[1].coeff_modulus, ens.members[0].coeff_modulus);
  }
  EXPECT_THROW((void)compile_packed_ensemble(members, "poly-softmax", {}), CompileError);
  EXPECT_THROW((void)compile_packed_ensemble(members, "weighted", {1, 2}), CompileError);
  // Different architectures are refused, naming what differs.
  const std::vector<Model> mixed = {build(arch, 1), build({"f", {"c1.2.3.1.0", "sq", "d10"}, {1, 14, 14}}, 2)};
  try {
    (void)compile_packed_ensemble(mixed, "mean", {});
    FAIL() << "mixed architectures accepted";
  } catch (const CompileError& e) {
    EXPECT_NE(std::string(e.what()).find("one architecture"), std::string::npos) << e.what();
  }
}

TEST(PackedPlan, RefusesWhatItCannotRun) {
  std::mt19937_64 rng(1);
  Model m;
  m.input.shape = {1, 4, 4};
  m.layers.push_back(dense(rng, 16, 4));
  m.layers.push_back(Poly{{0, 0, 0, 0, 1}});
  m.layers.push_back(dense(rng, 4, 2));
  try {
    (void)compile_packed(m);
    FAIL() << "degree 4 accepted";
  } catch (const CompileError& e) {
    EXPECT_NE(std::string(e.what()).find("degree 4"), std::string::npos) << e.what();
  }
  m.layers[1] = Poly{{0, 0, 1}};
  PackedOptions opt;
  opt.images_per_ciphertext = 3;
  EXPECT_THROW((void)compile_packed(m, opt), CompileError);
  opt = {};
  opt.poly_degree = 1000;
  EXPECT_THROW((void)compile_packed(m, opt), CompileError);
  const PackedProgram prog = compile_packed(m);
  std::vector<std::uint8_t> wrong(15);
  EXPECT_THROW((void)prog.pack_input(wrong.data(), wrong.size()), CompileError);
}

// Packed plan files (packed_io.h): every test network round-trips to the same bytes and
// the same simulated outputs; corrupt, truncated and inconsistent plans are refused.
TEST_P(PackedSim, PlanFileRoundTrips) {
  const NetCase& nc = GetParam();
  // The largest case compiles for 18 s; the others cover every op kind and lowering.
  if (nc.name.find("ManyChannels") != std::string::npos) return;
  const Model m = build(nc, 43);
  const PackedEnsemble ens = as_ensemble(compile_packed(m));
  const auto bytes = serialize_packed(ens);
  const PackedEnsemble back = parse_packed(bytes);
  EXPECT_EQ(serialize_packed(back), bytes);
  EXPECT_EQ(packed_plan_id(back), packed_plan_id(ens));
  std::vector<std::uint8_t> raw(m.input.shape.size());
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = std::uint8_t((i * 37) % 256);
  PackedSimulator a(ens.members[0]), b(back.members[0]);
  const auto x = ens.members[0].pack_input(raw.data(), raw.size());
  EXPECT_EQ(ens.members[0].unpack_output(run_packed(ens.members[0], a, x).back()),
            back.members[0].unpack_output(run_packed(back.members[0], b, x).back()));
  // Public plan: no ops, still valid for a client.
  const auto pub = parse_packed(serialize_packed(public_packed(ens)));
  EXPECT_TRUE(pub.members[0].ops.empty());
  EXPECT_EQ(pub.members[0].rotation_steps, ens.members[0].rotation_steps);
  // Damage.
  auto flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x40;
  EXPECT_THROW(parse_packed(flipped), PlanError);
  EXPECT_THROW(parse_packed(std::span(bytes).first(bytes.size() - 1)), PlanError);
  PackedEnsemble broken = ens;
  for (auto& op : broken.members[0].ops)
    if (op.kind == PackedOpKind::linear && !op.outs.empty() && !op.outs[0].empty() && !op.outs[0][0].diags.empty()) {
      op.outs[0][0].diags[0].values.pop_back();
      break;
    }
  EXPECT_THROW(parse_packed(serialize_packed(broken)), PlanError);
  broken = ens;
  broken.members[0].ops[0].in_cts += 1;
  EXPECT_THROW(parse_packed(serialize_packed(broken)), PlanError);
  broken = ens;
  broken.members[0].coeff_modulus.back() += 2;  // not an NTT prime
  EXPECT_THROW(parse_packed(serialize_packed(broken)), PlanError);
}

}  // namespace
}  // namespace hecnn::nn::compiler