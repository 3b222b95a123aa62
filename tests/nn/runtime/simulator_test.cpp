#include <gtest/gtest.h>

#include <cmath>

#include "math/primes.h"
#include "nn/compiler/compiler.h"
#include "nn/model/forward.h"
#include "nn/runtime/simulator.h"
#include "nn/test_models.h"

namespace hecnn::nn::runtime {
namespace {

TEST(Crt, CenteredReconstruction) {
  const auto ps = math::ntt_primes(30, 4096, 3);
  for (std::int64_t v : {std::int64_t(0), std::int64_t(1), std::int64_t(-1), std::int64_t(123456789012345), -std::int64_t(987654321098765)}) {
    std::vector<std::uint64_t> r;
    for (auto p : ps) r.push_back(std::uint64_t(((v % std::int64_t(p)) + std::int64_t(p)) % std::int64_t(p)));
    EXPECT_TRUE(crt_centered(r, ps) == i128(v)) << v;
  }
}

// The wide CRT equals the 128-bit one where both apply, and reconstructs values
// of 170 bits (six 30-bit primes) exactly, sign included; ordering is numeric.
TEST(Crt, WideReconstructionBeyond128Bits) {
  const auto ps = math::ntt_primes(30, 4096, 6);
  const std::vector<std::uint64_t> ps3(ps.begin(), ps.begin() + 3);
  for (std::int64_t v : {std::int64_t(0), std::int64_t(-7), std::int64_t(123456789012345), -std::int64_t(987654321098765)}) {
    std::vector<std::uint64_t> r;
    for (auto p : ps3) r.push_back(std::uint64_t(((v % std::int64_t(p)) + std::int64_t(p)) % std::int64_t(p)));
    const WideInt w = crt_centered_wide(r, ps3);
    EXPECT_EQ(w.to_double(), double(crt_centered(r, ps3))) << v;
    EXPECT_EQ(w.negative, v < 0) << v;
  }
  // x = 3^100 (159 bits) and -x: residues from BigUInt, back through the wide CRT.
  math::BigUInt x(1);
  for (int i = 0; i < 100; ++i) x.mul(3);
  math::BigUInt M(1);
  for (auto p : ps) M.mul(p);
  std::vector<std::uint64_t> pos, neg;
  for (auto p : ps) {
    const std::uint64_t m = x.mod(p);
    pos.push_back(m);
    neg.push_back(m == 0 ? 0 : p - m);
  }
  const WideInt a = crt_centered_wide(pos, ps), b = crt_centered_wide(neg, ps);
  EXPECT_FALSE(a.negative);
  EXPECT_TRUE(a.magnitude == x);
  EXPECT_TRUE(b.negative);
  EXPECT_TRUE(b.magnitude == x);
  EXPECT_TRUE(b < a);
  EXPECT_FALSE(a < b);
  std::vector<std::uint64_t> one(ps.size(), 1);
  const WideInt c = crt_centered_wide(one, ps);  // 1
  EXPECT_TRUE(c < a && b < c);
  EXPECT_NEAR(a.to_double(), std::pow(3.0, 100), std::pow(3.0, 100) * 1e-15);
}

// The simulator mod t equals the exact integers mod t, and the exact integers
// divided by the output scale follow the float model closely at high precision.
TEST(Simulator, ModMatchesExactAndFloat) {
  const Model m = testing::small_cryptonets(9);
  compiler::CompileOptions opt;
  opt.weight_bits = 8;
  opt.input_bits = 8;
  const auto prog = compiler::compile(std::span(&m, 1), {}, opt);
  const std::size_t count = 6;
  const auto raw = testing::random_images(count, 144, 3);
  std::vector<std::vector<std::int64_t>> imgs;
  for (std::size_t i = 0; i < count; ++i) imgs.push_back(prog.quantize_input(raw.data() + i * 144, 144));
  const auto slots = to_slots(imgs);
  const auto exact = simulate_exact(prog, slots);
  const auto& out = prog.outputs[0];
  for (auto t : prog.params.plain_moduli) {
    const auto mod = simulate_mod(prog, slots, t);
    for (std::size_t c = 0; c < exact[out.tensor].size(); ++c)
      for (std::size_t s = 0; s < count; ++s) {
        i128 e = exact[out.tensor][c][s] % i128(t);
        if (e < 0) e += t;
        EXPECT_EQ(std::uint64_t(e), mod[out.tensor][c][s]);
      }
  }
  for (std::size_t s = 0; s < count; ++s) {
    const auto ref = forward(m, prepare_input(m, std::span<const std::uint8_t>(raw.data() + s * 144, 144)));
    double mx = 0;
    for (double v : ref) mx = std::max(mx, std::fabs(v));
    for (std::size_t c = 0; c < ref.size(); ++c) {
      const double q = double(exact[out.tensor][c][s]) / out.scale;
      EXPECT_NEAR(q, ref[c], 0.02 * mx + 1e-3) << "class " << c << " image " << s;
    }
  }
}

}  // namespace
}  // namespace hecnn::nn::runtime
