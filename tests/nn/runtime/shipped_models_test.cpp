// The shipped model files (models/) compiled for BFV at the fixed default bits, run by
// the exact cleartext interpreter on 300 real test images and checked against the float
// model: every score equals nn::forward of the network quantized by compiler.h's rules
// (float_oracle.h), stays within the worst-case quantization bound, and the predictions
// agree with the float model's on at least 98% of the images (measured on the full test
// sets: 99.73% CryptoNets, 97.38% TenSEAL-1 on Fashion-MNIST; docs/quantization.md).
// TenSEAL-2 and the CryptoDL networks are too deep for BFV at these bits (refused).
// The encrypted runs of the same files are in shipped_models_ci_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "nn/compiler/compiler.h"
#include "nn/model/dataset.h"
#include "nn/model/forward.h"
#include "nn/model/model_io.h"
#include "nn/runtime/simulator.h"
#include "nn/float_oracle.h"
#include "nn/test_models.h"

namespace hecnn::nn::runtime {
namespace {

struct Shipped {
  std::string name;
  std::vector<std::string> files;   // models/<file>; several: an ensemble (mean)
  std::string dataset;
  double min_agreement;             // share of images whose prediction equals the float model's
};
void PrintTo(const Shipped& s, std::ostream* os) { *os << s.name; }

class ShippedModels : public ::testing::TestWithParam<Shipped> {};

TEST_P(ShippedModels, ExactProgramEqualsRuleQuantizedFloatModel) {
  const Shipped& c = GetParam();
  std::vector<Model> models;
  for (const auto& f : c.files) {
    const std::string path = testing::model_path(f);
    HECNN_REQUIRE_OR_SKIP(!path.empty(), "models/" + f);
    models.push_back(read_model(path));
  }
  HECNN_REQUIRE_OR_SKIP(testing::have_dataset(c.dataset), c.dataset + " test set");
  const Dataset ds = load_named_dataset(c.dataset, false);
  const std::size_t count = 300, size = ds.image_size();
  ASSERT_EQ(size, models[0].input.shape.size());

  const testing::QuantBits bits;  // the fixed defaults 5 / 6 / 8
  compiler::CompileOptions opt;
  opt.input_bits = bits.input;
  opt.weight_bits = bits.weight;
  opt.coeff_bits = bits.coeff;
  const auto prog = compiler::compile(models, {}, opt);
  ASSERT_FALSE(needs_wide_integers(prog)) << "the exact interpreter needs <= 125-bit integers";
  std::vector<std::vector<std::int64_t>> imgs;
  for (std::size_t i = 0; i < count; ++i) imgs.push_back(prog.quantize_input(ds.image(i), size));
  const auto exact = simulate_exact(prog, to_slots(imgs));

  std::vector<testing::QuantizedModel> qm;
  for (std::size_t m = 0; m < models.size(); ++m) qm.push_back(testing::quantize_model(models[m], int(m), bits));
  for (const auto& out : prog.outputs) {
    SCOPED_TRACE("output " + out.name);
    std::size_t agree = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const std::span<const std::uint8_t> raw(ds.image(i), size);
      const auto [q, ref] = testing::output_oracle(models, qm, raw, bits, out.member, out.combiner);
      double magnitude = 1;
      for (double v : q) magnitude = std::max(magnitude, std::fabs(v));
      std::vector<double> got(q.size());
      for (std::size_t k = 0; k < q.size(); ++k) {
        got[k] = double(exact[std::size_t(out.tensor)][k][i]) / out.scale;
        ASSERT_NEAR(got[k], q[k], 1e-9 * magnitude) << "image " << i << ", class " << k;
        ASSERT_LE(std::fabs(got[k] - ref.value[k]), ref.error[k] * (1 + 1e-9)) << "image " << i << ", class " << k;
      }
      agree += argmax(got) == argmax(ref.value);
    }
    const double share = double(agree) / double(count);
    EXPECT_GE(share, c.min_agreement) << agree << " of " << count << " images agree with the float model";
    ::testing::Test::RecordProperty("agreement_" + out.name, std::to_string(share));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Bfv, ShippedModels,
    ::testing::Values(Shipped{"CryptonetsMnist", {"cryptonets-x2-mnist.hecnn"}, "mnist", 0.98},
                      Shipped{"DefaultEnsembleMnist", {"default/member0.hecnn", "default/member1.hecnn", "default/member2.hecnn"},
                              "mnist", 0.98},
                      Shipped{"Tenseal1Fashion", {"fashion-tenseal1-x2.hecnn"}, "fashion-mnist", 0.95}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace hecnn::nn::runtime
