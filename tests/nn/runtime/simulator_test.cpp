#include <gtest/gtest.h>

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
