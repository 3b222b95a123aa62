// The float-model oracle for BFV runs (fast cases in float_oracle_test.cpp, heavier ones in
// float_oracle_ci_test.cpp): every decrypted score (a) equals nn::forward of the network
// quantized by the rules compiler.h states (float_oracle.h), to double rounding, and (b)
// lies within the worst-case quantization bound of the float model derived from the bits.
// Neither reads the compiled program. A case names its models, combiners, bits, CRT primes.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "nn/compiler/compiler.h"
#include "nn/model/forward.h"
#include "nn/runtime/inference.h"
#include "nn/float_oracle.h"
#include "nn/test_models.h"

namespace hecnn::nn::runtime::oracle {

using compiler::Combiner;
using testing::QuantBits;

struct Case {
  std::string name;
  std::function<std::vector<Model>()> models;
  QuantBits bits;
  std::vector<Combiner> combiners;   // ensembles only
  int max_plain_bits = 0;            // > 0: forces several CRT primes
  double temperature = 6.0;          // poly-softmax
};
inline void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

inline const std::vector<double> kWeights = {0.9, 0.6};

inline void expect_float_oracle(const Case& c) {
  const std::vector<Model> models = c.models();
  compiler::CompileOptions opt;
  opt.input_bits = c.bits.input;
  opt.weight_bits = c.bits.weight;
  opt.coeff_bits = c.bits.coeff;
  opt.layer_bits = c.bits.layer;
  opt.max_plain_bits = c.max_plain_bits;
  compiler::EnsembleOptions ens;
  if (!c.combiners.empty()) {
    ens.combiners = c.combiners;
    ens.weights = kWeights;
    ens.temperature = c.temperature;
  }
  const auto prog = compiler::compile(models, ens, opt);
  if (c.max_plain_bits > 0) {
    ASSERT_GE(prog.params.plain_moduli.size(), 2u) << "the case asks for several CRT primes";
  }

  const std::size_t count = 24, size = models[0].input.shape.size();
  const auto images = testing::random_images(count, size, 5);
  InferOptions io;
  io.noise_budget = false;
  const InferReport rep = run_bfv(prog, models, images.data(), count, size, nullptr, io);
  ASSERT_EQ(rep.outputs.size(), prog.outputs.size());

  std::vector<testing::QuantizedModel> qm;
  for (std::size_t m = 0; m < models.size(); ++m) qm.push_back(testing::quantize_model(models[m], int(m), c.bits));
  double worst_ratio = 0;  // largest |decrypted - float| / bound
  for (std::size_t o = 0; o < prog.outputs.size(); ++o) {
    const auto& out = prog.outputs[o];
    SCOPED_TRACE("output " + out.name);
    ASSERT_EQ(rep.outputs[o].scores.size(), count);
    double max_bound = 0, max_score = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const std::span<const std::uint8_t> raw(images.data() + i * size, size);
      const auto [exact, ref] = testing::output_oracle(models, qm, raw, c.bits, out.member, out.combiner, kWeights,
                                                       ens.weight_bits, c.temperature);
      const auto& got = rep.outputs[o].scores[i];
      ASSERT_EQ(got.size(), ref.value.size());
      double magnitude = 1;
      for (double v : exact) magnitude = std::max(magnitude, std::fabs(v));
      for (std::size_t k = 0; k < got.size(); ++k) {
        // Exact integers against the rule-quantized float network: double rounding only.
        ASSERT_NEAR(got[k], exact[k], 1e-9 * magnitude) << "image " << i << ", class " << k << " (quantized network by the rules)";
        const double err = std::fabs(got[k] - ref.value[k]);
        ASSERT_LE(err, ref.error[k] * (1 + 1e-9) + 1e-9)
            << "image " << i << ", class " << k << ": decrypted " << got[k] << ", float " << ref.value[k];
        worst_ratio = std::max(worst_ratio, err / std::max(ref.error[k], 1e-300));
        max_bound = std::max(max_bound, ref.error[k]);
        max_score = std::max(max_score, std::fabs(ref.value[k]));
      }
    }
    if (std::getenv("HECNN_PRINT_BOUNDS"))
      std::printf("[oracle] %s %s: bound %.3g of scores up to %.3g (%.1f%%)\n", c.name.c_str(), out.name.c_str(), max_bound,
                  max_score, 100 * max_bound / max_score);
  }
  if (std::getenv("HECNN_PRINT_BOUNDS")) std::printf("[oracle] %s: worst error / bound %.3f\n", c.name.c_str(), worst_ratio);
}

inline std::vector<Model> one(Model m) { return {std::move(m)}; }

}  // namespace hecnn::nn::runtime::oracle
