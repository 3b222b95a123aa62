// Slow tier: the CryptoNets model file on 2,000 real MNIST test images with CKKS
// (hecnn infer --scheme ckks defaults), complex and real packing. Skipped when the
// dataset or the model file is absent.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "nn/compiler/compiler.h"
#include "nn/model/dataset.h"
#include "nn/model/model_io.h"
#include "nn/runtime/inference.h"
#include "nn/test_models.h"

namespace hecnn::nn::runtime {
namespace {

using testing::model_path;

bool have_mnist() { return std::filesystem::exists(data_root() + "/mnist/t10k-images-idx3-ubyte"); }

class CkksMnistSlow : public ::testing::TestWithParam<bool> {};

TEST_P(CkksMnistSlow, CryptonetsAgreesWithFloatAndQuantizedModels) {
  const bool cplx = GetParam();
  const std::string path = model_path("cryptonets-x2-mnist.hecnn");
  if (!have_mnist()) GTEST_SKIP() << "MNIST not installed (run scripts/setup.sh)";
  if (path.empty()) GTEST_SKIP() << "models/cryptonets-x2-mnist.hecnn not found";
  const Model m = read_model(path);
  const Dataset test = load_named_dataset("mnist", false);
  ASSERT_EQ(test.image_size(), m.input.shape.size());
  const std::size_t count = 2000;
  ASSERT_GE(test.count(), count);

  compiler::CompileOptions opt;  // hecnn infer --scheme ckks defaults
  opt.scheme = compiler::Scheme::ckks;
  opt.complex_packing = cplx;
  opt.input_bits = 8;
  opt.weight_bits = 10;
  opt.coeff_bits = 12;
  opt.ckks_precision_bits = 24;
  opt.batch_images = count;
  const compiler::Program prog = compiler::compile(std::span(&m, 1), {}, opt);
  ASSERT_EQ(prog.scheme, compiler::Scheme::ckks);
  ASSERT_GE(prog.batch_capacity(), count) << "one batch expected";

  InferOptions io;
  io.check_quantized = true;
  const auto t0 = std::chrono::steady_clock::now();
  const auto rep = run_ckks(prog, std::span(&m, 1), test.image(0), count, test.image_size(), test.labels.data(), io);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(rep.outputs.size(), 1u);
  const auto& o = rep.outputs[0];
  std::printf("[ckks mnist] %s packing, N = %zu: %zu images, accuracy %.2f%% (float %.2f%%, quantized %.2f%%), agree float %zu, "
              "agree quantized %zu, max error %.3g of max score %.3g, %.1f s (server %.1f s)\n",
              cplx ? "complex" : "real", prog.ckks.poly_degree, count, 100.0 * double(o.correct) / double(count),
              100.0 * double(o.plain_correct) / double(count), 100.0 * double(o.quant_correct) / double(count), o.agree_float,
              o.agree_quantized, o.max_error, o.max_score, secs, rep.evaluate_s);
  EXPECT_EQ(rep.images, count);
  EXPECT_EQ(rep.batches, 1u);
  // Agreement with the quantized integer model: every prediction.
  EXPECT_EQ(o.agree_quantized, count);
  // Agreement with the float model: >= 99.9% (at most 2 of 2,000 differ, from quantization).
  EXPECT_GE(double(o.agree_float), 0.999 * double(count));
  // The decrypted scores are the quantized model's within the plan's precision (24 bits of
  // the output's worst-case bound above the noise; 10 bits of slack as in the fast tests).
  const double bound = std::exp2(prog.outputs[0].log2_bound) / prog.outputs[0].scale;
  EXPECT_LE(o.max_error, bound * std::exp2(-(opt.ckks_precision_bits - 10))) << "worst-case bound " << bound;
  EXPECT_LE(o.max_score, bound * (1 + 1e-9));
  // And the model is a real classifier: CryptoNets reaches ~98-99% on MNIST.
  EXPECT_GE(double(o.correct), 0.97 * double(count));
  EXPECT_EQ(o.correct, o.quant_correct);
}

INSTANTIATE_TEST_SUITE_P(Packing, CkksMnistSlow, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) { return std::string(info.param ? "Complex" : "Real"); });

}  // namespace
}  // namespace hecnn::nn::runtime
