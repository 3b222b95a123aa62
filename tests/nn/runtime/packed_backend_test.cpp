// Single-image CKKS inference (runtime/packed_backend.h) against the cleartext slot
// simulator, op by op, precision in bits relative to each op's calibrated range; the
// wire round trip of the upload; keys the plan needs and the client did not send.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "math/prng.h"
#include "nn/compiler/packed.h"
#include "nn/compiler/packed_executor.h"
#include "nn/model/forward.h"
#include "nn/runtime/packed_backend.h"

namespace hecnn::nn::runtime {
namespace {

using compiler::PackedProgram;

std::vector<double> rand_vec(std::mt19937_64& rng, std::size_t n, double scale) {
  std::normal_distribution<double> d(0.0, scale);
  std::vector<double> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// conv -> act -> [pool] -> dense -> act -> dense on a small image.
Model small_net(int in_hw, int channels, int k, int stride, int pad, bool cubic, bool pool, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Model m;
  m.meta.name = "small";
  m.input.shape = {1, in_hw, in_hw};
  Conv2d c;
  c.in_channels = 1;
  c.out_channels = channels;
  c.kernel_h = c.kernel_w = k;
  c.stride_h = c.stride_w = stride;
  c.pad_h = c.pad_w = pad;
  c.weight = rand_vec(rng, std::size_t(channels) * k * k, 1.0 / k);
  c.bias = rand_vec(rng, std::size_t(channels), 0.1);
  m.layers.push_back(c);
  m.layers.push_back(cubic ? Poly{{0.1, 0.5, 0.2, -0.05}} : Poly{{0, 0, 1}});
  int hw = (in_hw + 2 * pad - k) / stride + 1;
  if (pool) {
    m.layers.push_back(SumPool{2, 2, 2, 2});
    hw /= 2;
  }
  const int flat = channels * hw * hw;
  Dense d1;
  d1.in_features = flat;
  d1.out_features = 24;
  d1.weight = rand_vec(rng, std::size_t(flat) * 24, 1.0 / std::sqrt(double(flat)));
  d1.bias = rand_vec(rng, 24, 0.1);
  m.layers.push_back(d1);
  m.layers.push_back(Poly{{0, 0, 1}});
  Dense d2;
  d2.in_features = 24;
  d2.out_features = 10;
  d2.weight = rand_vec(rng, 240, 0.2);
  d2.bias = rand_vec(rng, 10, 0.1);
  m.layers.push_back(d2);
  validate(m);
  return m;
}

double bits_vs(const std::vector<double>& got, const std::vector<double>& want, double range) {
  double err = 0;
  for (std::size_t i = 0; i < want.size(); ++i) err = std::max(err, std::abs(got[i] - want[i]));
  return err == 0 ? 60.0 : -std::log2(err / std::max(range, 1e-12));
}

struct NetCase {
  std::string name;
  int hw, ch, k, s, p;
  bool cubic, pool;
};

class PackedHe : public ::testing::TestWithParam<NetCase> {};

TEST_P(PackedHe, EveryOpMatchesTheSimulator) {
  const NetCase& c = GetParam();
  const Model m = small_net(c.hw, c.ch, c.k, c.s, c.p, c.cubic, c.pool, 3);
  compiler::PackedOptions opt;
  const PackedProgram prog = compile_packed(m, opt);
  SCOPED_TRACE(describe_packed(prog));
  math::DeterministicPrngForTests prng(5);
  PackedClient client(prog, prng);
  PackedServer server(prog, client.evaluation_keys());
  std::mt19937_64 rng(9);
  std::uniform_int_distribution<int> px(0, 255);
  std::vector<std::uint8_t> raw(m.input.shape.size());
  for (auto& v : raw) v = std::uint8_t(px(rng));
  const auto cts = client.encrypt(raw.data(), raw.size());
  const auto he = server.evaluate_all(cts);
  compiler::PackedSimulator sim(prog);
  compiler::PackedExecOptions o;
  o.keep_all = true;
  const auto ref = compiler::run_packed(prog, sim, prog.pack_input(raw.data(), raw.size()), o);
  ASSERT_EQ(he.size(), ref.size());
  for (std::size_t i = 1; i < he.size(); ++i) {
    const auto got = client.decrypt_slots(he[i]);
    const double range = std::exp2(prog.ops[i - 1].log2_max);
    for (std::size_t ct = 0; ct < got.size(); ++ct) {
      const double b = bits_vs(got[ct], ref[i][ct], range);
      // A rescale or key switch adds about N / 2 in scale units (rounding times the
      // secret): with 2^27..2^28 scales at N = 8192 that leaves 14-15 bits; 10 is the bar.
      EXPECT_GE(b, 10.0) << prog.ops[i - 1].label << " ct " << ct;
      if (std::getenv("HECNN_PRINT_BITS")) std::printf("[precision] %s: %.1f bits\n", prog.ops[i - 1].label.c_str(), b);
    }
  }
  // Class scores: the decrypted output against the float model.
  const auto scores = client.decrypt(he.back());
  const auto want = forward(m, prepare_input(m, raw));
  double mx = 1e-9;
  for (double w : want) mx = std::max(mx, std::abs(w));
  EXPECT_GE(bits_vs(scores, want, mx), 10.0);
  EXPECT_EQ(argmax(scores), argmax(want));
}

INSTANTIATE_TEST_SUITE_P(Nets, PackedHe,
                         ::testing::Values(NetCase{"Conv5x5s2p1_3ch_12x12_square", 12, 3, 5, 2, 1, false, false},
                                           NetCase{"Conv3x3s1p0_2ch_10x10_cubic_pool", 10, 2, 3, 1, 0, true, true}),
                         [](const ::testing::TestParamInfo<NetCase>& i) { return i.param.name; });

TEST(PackedHe, UploadRoundTripsThroughSealObjects) {
  const Model m = small_net(12, 3, 5, 2, 1, false, false, 4);
  const PackedProgram prog = compiler::compile_packed(m);
  math::DeterministicPrngForTests prng(6);
  PackedClient client(prog, prng);
  PackedServer server(prog, client.evaluation_keys());
  std::vector<std::uint8_t> raw(m.input.shape.size(), 0);
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = std::uint8_t((i * 37) % 256);
  const auto cts = client.encrypt(raw.data(), raw.size());
  const auto files = client.serialize(cts, wire::Compression::zstd);
  std::size_t bytes = 0;
  for (const auto& f : files) bytes += f.size();
  // Seeded: at most c0's words plus headers; zstd only shrinks it.
  EXPECT_LE(bytes, cts.size() * (prog.poly_degree * std::size_t(prog.data_primes()) * 8 + 200));
  const auto back = read_packed_ciphertexts(prog, files);
  const auto a = client.decrypt(server.evaluate(back));
  const auto b = client.decrypt(server.evaluate(cts));
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-3 * (1 + std::abs(b[i])));
}

TEST(PackedHe, StackedImagesDecryptEachToTheFloatModelsClass) {
  const Model m = small_net(12, 3, 5, 2, 1, false, false, 8);
  compiler::PackedOptions opt;
  opt.images_per_ciphertext = 4;
  const PackedProgram prog = compiler::compile_packed(m, opt);
  math::DeterministicPrngForTests prng(8);
  PackedClient client(prog, prng);
  PackedServer server(prog, client.evaluation_keys());
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> px(0, 255);
  std::vector<std::vector<std::uint8_t>> raws(4, std::vector<std::uint8_t>(m.input.shape.size()));
  std::vector<const std::uint8_t*> ptrs;
  for (auto& r : raws) {
    for (auto& v : r) v = std::uint8_t(px(rng));
    ptrs.push_back(r.data());
  }
  const auto scores = client.decrypt_images(server.evaluate(client.encrypt_images(ptrs, m.input.shape.size())), 4);
  for (std::size_t i = 0; i < 4; ++i) {
    const auto want = forward(m, prepare_input(m, raws[i]));
    double mx = 1e-9;
    for (double w : want) mx = std::max(mx, std::abs(w));
    EXPECT_GE(bits_vs(scores[i], want, mx), 8.0) << "image " << i;
  }
}

// Under a Galois-key budget (powers of two plus two keys) composed rotations, hoisted
// babies among them, give the same class scores on real CKKS; the client sends only the
// plan's keys and the server checks every path's keys.
TEST(PackedHe, ComposedRotationsUnderAKeyBudgetMatchTheFloatModel) {
  const Model m = small_net(12, 3, 5, 2, 1, false, false, 4);
  const PackedProgram free_keys = compiler::compile_packed(m);
  const std::size_t per_key = compiler::packed_galois_key_bytes(free_keys) / free_keys.rotation_steps.size();
  std::size_t powers = 0;
  for (std::size_t u = 1; u < free_keys.lane(); u <<= 1) ++powers;
  ASSERT_GT(free_keys.rotation_steps.size(), powers + 2);
  compiler::PackedOptions opt;
  opt.max_galois_key_bytes = (powers + 2) * per_key;
  const PackedProgram prog = compiler::compile_packed(m, opt);
  SCOPED_TRACE(describe_packed(prog));
  ASSERT_FALSE(prog.rotation_paths.empty());
  EXPECT_GT(compiler::count_packed(prog).composed, 0u);
  math::DeterministicPrngForTests prng(12);
  PackedClient client(prog, prng);
  EXPECT_EQ(client.evaluation_keys().galois.keys.size(), prog.rotation_steps.size());
  PackedServer server(prog, client.take_evaluation_keys());
  EXPECT_THROW(client.evaluation_keys(), std::logic_error);
  std::mt19937_64 rng(21);
  std::uniform_int_distribution<int> px(0, 255);
  for (int trial = 0; trial < 2; ++trial) {
    std::vector<std::uint8_t> raw(m.input.shape.size());
    for (auto& v : raw) v = std::uint8_t(px(rng));
    const auto scores = client.decrypt(server.evaluate(client.encrypt(raw.data(), raw.size())));
    const auto want = forward(m, prepare_input(m, raw));
    double mx = 1e-9;
    for (double w : want) mx = std::max(mx, std::abs(w));
    EXPECT_GE(bits_vs(scores, want, mx), 10.0) << "trial " << trial;
    EXPECT_EQ(argmax(scores), argmax(want));
  }
  // A key a path needs, missing: named before any work.
  const std::int32_t used_by_path = prog.rotation_paths[0].keys[0];
  std::vector<int> fewer;
  for (auto s : prog.rotation_steps)
    if (s != used_by_path) fewer.push_back(s);
  PackedClient partial(prog, prng, fewer);
  try {
    PackedServer bad(prog, partial.evaluation_keys());
    FAIL() << "a plan with a missing key was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("rotation step " + std::to_string(used_by_path)), std::string::npos) << e.what();
  }
}

// Plaintexts beyond the cache budget are encoded per image, op by op: same scores.
TEST(PackedHe, PartialPlaintextCacheGivesTheSameScores) {
  const Model m = small_net(12, 3, 5, 2, 1, false, false, 4);
  const PackedProgram prog = compiler::compile_packed(m);
  math::DeterministicPrngForTests prng(13);
  PackedClient client(prog, prng);
  PackedServer all(prog, client.evaluation_keys());
  ASSERT_TRUE(all.plaintexts_cached());
  const std::size_t some = all.plaintext_bytes() / 2;
  PackedServer part(prog, client.evaluation_keys(), some);
  EXPECT_FALSE(part.plaintexts_cached());
  EXPECT_LE(part.cached_plaintext_bytes(), some);
  std::vector<std::uint8_t> raw(m.input.shape.size());
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = std::uint8_t((i * 29) % 256);
  const auto cts = client.encrypt(raw.data(), raw.size());
  const auto a = client.decrypt(all.evaluate(cts));
  const auto b = client.decrypt(part.evaluate(cts));
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-3 * (1 + std::abs(a[i])));
}

TEST(PackedHe, MissingGaloisKeyIsNamedBeforeAnyWork) {
  const Model m = small_net(12, 3, 5, 2, 1, false, false, 4);
  const PackedProgram prog = compiler::compile_packed(m);
  ASSERT_GE(prog.rotation_steps.size(), 2u);
  std::vector<int> fewer(prog.rotation_steps.begin() + 1, prog.rotation_steps.end());
  math::DeterministicPrngForTests prng(7);
  PackedClient client(prog, prng, fewer);
  try {
    PackedServer server(prog, client.evaluation_keys());
    FAIL() << "a plan with a missing key was accepted";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("rotation step " + std::to_string(prog.rotation_steps[0])), std::string::npos) << msg;
  }
  // No relinearization key for a plan with products.
  PackedClient ok(prog, prng);
  auto keys = ok.evaluation_keys();
  keys.relin = {};
  EXPECT_THROW(PackedServer(prog, keys), std::invalid_argument);
}

}  // namespace
}  // namespace hecnn::nn::runtime
