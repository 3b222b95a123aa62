// Helpers shared by the runtime tests (BFV and CKKS backends, fast and slow tiers).
#pragma once

#include <gtest/gtest.h>

#include "math/prng.h"
#include "nn/compiler/program.h"
#include "nn/runtime/bfv_backend.h"
#include "nn/runtime/simulator.h"
#include "nn/test_models.h"

namespace hecnn::nn::runtime {

// `count` random images, quantized, in the slot layout (elements x images).
inline std::vector<std::vector<std::int64_t>> quantized_batch(const compiler::Program& prog, std::size_t count, std::uint64_t seed) {
  const std::size_t size = prog.input_shape.size();
  const auto raw = testing::random_images(count, size, seed);
  std::vector<std::vector<std::int64_t>> imgs;
  for (std::size_t i = 0; i < count; ++i) imgs.push_back(prog.quantize_input(raw.data() + i * size, size));
  return to_slots(imgs);
}

// BFV and BGV: every tensor of the HE run decrypts to the simulator's values mod t, at
// its level, and the measured noise budget is at least the compiler's (pessimistic)
// prediction.
inline void expect_layer_by_layer(const compiler::Program& prog, std::size_t images) {
  math::DeterministicPrngForTests prng(7);
  BfvClient client(prog.params, !prog.keys.empty(), prng, prog.scheme);
  BfvServer server(prog, client.evaluation_keys());
  const auto slots = quantized_batch(prog, images, 11);
  for (std::size_t r = 0; r < client.residues(); ++r) {
    const auto sim = simulate_mod(prog, slots, client.plain_modulus(r), {.keep_all = true});
    const auto all = server.evaluate_all(r, client.encrypt(r, slots, prog.instrs[0].level));
    ASSERT_EQ(all.size(), prog.instrs.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      const auto dec = client.decrypt(r, all[i], images);
      ASSERT_EQ(dec.size(), sim[i].size()) << prog.instrs[i].label;
      for (std::size_t e = 0; e < dec.size(); ++e) {
        ASSERT_EQ(dec[e], sim[i][e]) << "tensor " << i << " (" << prog.instrs[i].label << "), element " << e << ", residue " << r;
        EXPECT_EQ(all[i][e].num_primes, std::size_t(prog.instrs[i].level)) << prog.instrs[i].label;
      }
    }
    for (const auto& o : prog.outputs)
      for (const auto& ct : all[o.tensor]) EXPECT_GE(client.noise_budget(r, ct), int(prog.predicted_final_budget) - 1) << o.name;
  }
}

}  // namespace hecnn::nn::runtime
