// Quantization-aware fine-tuning (train/qat.h) and the libtorch forward pass of model files.
//
// Oracles: libtorch's conv2d / linear / avg_pool2d for nn::forward (TorchModel.*); the
// compiler's exact BFV program (runtime::simulate_exact) for what the exported model
// computes once quantized (Qat.*): its predictions must equal nn::forward of the model on the
// rounded pixels, and its scores the model's to the biases' rounding.
#include "train/qat.h"

#include "nn/compiler/compiler.h"
#include "nn/model/forward.h"
#include "nn/model/model_io.h"
#include "nn/model/quant_rules.h"
#include "nn/runtime/simulator.h"
#include "nn/test_models.h"
#include "synthetic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

namespace hecnn::train {
namespace {

// A model with every layer type: conv (stride, padding), sum pool, a cubic, dense, square, dense.
nn::Model every_layer_model(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0, 0.3);
  nn::Model m;
  m.meta.name = "every-layer";
  m.input = {{1, 8, 8}, 1.0 / 255, 0.0};
  nn::Conv2d c{1, 3, 3, 3, 2, 2, 1, 1, {}, {}};
  for (int i = 0; i < 27; ++i) c.weight.push_back(g(rng));
  for (int i = 0; i < 3; ++i) c.bias.push_back(g(rng));
  m.layers.push_back(c);                         // 3x4x4
  m.layers.push_back(nn::SumPool{2, 2, 1, 1});   // 3x3x3
  m.layers.push_back(nn::Poly{{0.1, 0.5, 0.25, -0.05}});
  nn::Dense d1{27, 12, {}, {}};
  for (int i = 0; i < 27 * 12; ++i) d1.weight.push_back(g(rng));
  for (int i = 0; i < 12; ++i) d1.bias.push_back(g(rng));
  m.layers.push_back(d1);
  m.layers.push_back(nn::Poly{{0, 0, 1}});
  nn::Dense d2{12, 10, {}, {}};
  for (int i = 0; i < 120; ++i) d2.weight.push_back(g(rng));
  for (int i = 0; i < 10; ++i) d2.bias.push_back(g(rng));
  m.layers.push_back(d2);
  nn::validate(m);
  return m;
}

// Bit-identical models (compared as f64 files, without printing megabytes on failure).
bool same_model(const nn::Model& a, const nn::Model& b) {
  return nn::serialize_model(a, nn::DType::f64) == nn::serialize_model(b, nn::DType::f64);
}

void expect_torch_equals_reference(const nn::Model& m, const std::vector<std::vector<double>>& inputs) {
  const auto t = torch_forward(m, inputs);
  ASSERT_EQ(t.size(), inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto ref = nn::forward(m, inputs[i]);
    ASSERT_EQ(t[i].size(), ref.size());
    for (std::size_t k = 0; k < ref.size(); ++k)
      ASSERT_NEAR(t[i][k], ref[k], 1e-10 * (1 + std::fabs(ref[k]))) << "input " << i << ", class " << k;
  }
}

TEST(TorchModel, ForwardEqualsReferenceForEveryLayerType) {
  const nn::Model m = every_layer_model(3);
  std::mt19937_64 rng(4);
  std::vector<std::vector<double>> inputs;
  for (int i = 0; i < 20; ++i) {
    std::vector<std::uint8_t> raw(64);
    for (auto& v : raw) v = std::uint8_t(rng() % 256);
    inputs.push_back(nn::prepare_input(m, raw));
  }
  expect_torch_equals_reference(m, inputs);
  EXPECT_THROW(torch_forward(m, {std::vector<double>(63)}), nn::ModelError);
}

TEST(TorchModel, ShippedModelsEqualReferenceOnMnist) {
  const std::string root = nn::testing::model_path("default/member0.hecnn");
  HECNN_REQUIRE_OR_SKIP(!root.empty(), "models/default/member0.hecnn");
  HECNN_REQUIRE_OR_SKIP(nn::testing::have_dataset("mnist"), "the MNIST test set");
  const nn::Dataset test = nn::load_named_dataset("mnist", false);
  for (const char* f : {"default/member0.hecnn", "default/member1.hecnn", "default/member2.hecnn", "cryptonets-x2-mnist.hecnn"}) {
    SCOPED_TRACE(f);
    const std::string path = nn::testing::model_path(f);
    HECNN_REQUIRE_OR_SKIP(!path.empty(), std::string("models/") + f);
    const nn::Model m = nn::read_model(path);
    std::vector<std::vector<double>> inputs;
    for (std::size_t i = 0; i < 50; ++i) inputs.push_back(nn::prepare_input(m, {test.image(i), test.image_size()}));
    expect_torch_equals_reference(m, inputs);
  }
}

TEST(QatBitsText, ParsesAndRefuses) {
  const QatBits b = parse_qat_bits("input=4,weight=7,coeff=10,conv1=9,m0/act2=12");
  EXPECT_EQ(b.input_bits, 4);
  EXPECT_EQ(b.weight_bits, 7);
  EXPECT_EQ(b.coeff_bits, 10);
  EXPECT_EQ(b.layer_bits.at("conv1"), 9);
  EXPECT_EQ(b.layer_bits.at("act2"), 12);
  EXPECT_EQ(parse_qat_bits(b.str()).str(), b.str());
  for (const char* bad : {"input=9", "weight=1", "weight=x", "bogus=3", "input", "=3", "conv1=25", "input=5.5"}) {
    try {
      parse_qat_bits(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("--qat-bits"), std::string::npos) << e.what();
    }
  }
  const nn::Model m = every_layer_model(1);
  EXPECT_NO_THROW(check_qat_bits(m, parse_qat_bits("conv1=7,dense2=8,act1=9")));
  EXPECT_THROW(check_qat_bits(m, parse_qat_bits("dense3=7")), std::invalid_argument);
}

// round_to_grid leaves what the compiler's rules keep: every weight W = w 2^k an integer with
// |W| <= 2^(b-1) - 1 at the layer's k, every coefficient on 2^-cb, and it is idempotent.
TEST(Qat, RoundToGridIsAFixedPointOfTheRules) {
  const nn::Model m = every_layer_model(5);
  const QatBits bits = parse_qat_bits("input=5,weight=5,coeff=6,dense2=7");
  const nn::Model q = round_to_grid(m, bits);
  int dense = 0;
  for (const auto& l : q.layers) {
    const std::vector<double>* w = nullptr;
    int b = bits.weight_bits;
    if (const auto* c = std::get_if<nn::Conv2d>(&l)) w = &c->weight;
    if (const auto* d = std::get_if<nn::Dense>(&l)) {
      w = &d->weight;
      if (++dense == 2) b = 7;
    }
    if (const auto* p = std::get_if<nn::Poly>(&l)) {
      for (std::size_t j = 1; j < p->coeffs.size(); ++j) EXPECT_EQ(std::ldexp(p->coeffs[j], 6), std::round(std::ldexp(p->coeffs[j], 6)));
    }
    if (!w) continue;
    const int k = nn::weight_exponent(*w, b);
    double top = 0;
    for (double x : *w) {
      const double W = std::ldexp(x, k);
      ASSERT_EQ(W, std::round(W));
      top = std::max(top, std::fabs(W));
    }
    EXPECT_LE(top, std::ldexp(1.0, b - 1) - 1);
    EXPECT_GT(top, (std::ldexp(1.0, b - 1) - 1) / 2) << "the grid is the coarsest the bits allow";
  }
  EXPECT_TRUE(same_model(round_to_grid(q, bits), q));
}

class QatTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { set_threads(1); }
  nn::Dataset train_ = testing::synthetic_dataset(1500, 1);
  nn::Dataset test_ = testing::synthetic_dataset(400, 2);
};

// Low bits (input 3, weights 3) on a small network: fine-tuning brings the quantized model
// close to the float one, and the compiled BFV program computes the exported model.
TEST_F(QatTest, FineTuningAtLowBitsAgreesAndTheCompilerReproducesIt) {
  TrainOptions o;
  o.arch = nn::parse_arch("input 1 8 8\nconv 4 3 pad 1\nact\npool 2\ndense 16\nact\ndense 10\n", "test");
  o.activation = parse_activation("square");
  o.epochs = 3;
  o.batch_size = 32;
  o.learning_rate = 3e-3;
  o.threads = 1;
  o.seed = 7;
  const TrainResult trained = train_model(o, train_, test_);
  ASSERT_TRUE(trained.exported);

  QatOptions q;
  q.bits = parse_qat_bits("input=3,weight=3,coeff=8");
  q.epochs = 4;
  q.batch_size = 32;
  q.learning_rate = 1e-3;
  q.threads = 1;
  const QatResult r = fine_tune_quantized(trained.model, q, train_, test_);
  EXPECT_EQ(r.test_samples, test_.count());
  EXPECT_EQ(r.epochs.size(), 4u);
  EXPECT_NEAR(r.accuracy_before, measure_quantized(trained.model, q.bits, test_).float_accuracy, 1e-12);
  EXPECT_GE(r.quantized_accuracy, 0.9);
  EXPECT_GE(r.agreement, 0.97);
  EXPECT_GE(r.quantized_accuracy, r.quantized_accuracy_before - 0.01);
  // Exported on the grid: rounding again changes nothing.
  EXPECT_TRUE(same_model(round_to_grid(r.model, q.bits), r.model));
  // ... and the weights survive the float32 model file exactly (biases and coefficients,
  // rounded at their tensors' scales, to float32's precision).
  const nn::Model back = nn::parse_model(nn::serialize_model(r.model, nn::DType::f32));
  for (std::size_t i = 0; i < back.layers.size(); ++i) {
    if (const auto* d = std::get_if<nn::Dense>(&back.layers[i])) EXPECT_EQ(d->weight, std::get<nn::Dense>(r.model.layers[i]).weight);
    if (const auto* c = std::get_if<nn::Conv2d>(&back.layers[i])) EXPECT_EQ(c->weight, std::get<nn::Conv2d>(r.model.layers[i]).weight);
  }

  // The compiler at these bits: its exact program's predictions are the model's on rounded pixels.
  nn::compiler::CompileOptions co;
  co.input_bits = 3;
  co.weight_bits = 3;
  co.coeff_bits = 8;
  const nn::Model models[] = {r.model};
  const auto prog = nn::compiler::compile(models, {}, co);
  std::vector<std::vector<std::int64_t>> imgs;
  for (std::size_t i = 0; i < test_.count(); ++i) imgs.push_back(prog.quantize_input(test_.image(i), test_.image_size()));
  const auto exact = nn::runtime::simulate_exact(prog, nn::runtime::to_slots(imgs));
  const auto& out = prog.outputs[0];
  std::size_t same = 0;
  for (std::size_t i = 0; i < test_.count(); ++i) {
    std::vector<double> x(test_.image_size());
    for (std::size_t k = 0; k < x.size(); ++k) x[k] = nn::quantized_raw(test_.image(i)[k], 3) / 255.0;
    const auto ref = nn::forward(r.model, x);
    std::vector<double> got(ref.size());
    double top = 1;
    for (double v : ref) top = std::max(top, std::fabs(v));
    for (std::size_t k = 0; k < ref.size(); ++k) {
      got[k] = double(exact[std::size_t(out.tensor)][k][i]) / out.scale;
      // The same numbers in integers and in doubles: equal to double rounding.
      EXPECT_NEAR(got[k], ref[k], 1e-9 * top) << "image " << i << ", class " << k;
    }
    same += nn::argmax(got) == nn::argmax(ref);
  }
  EXPECT_EQ(same, test_.count());
}

TEST_F(QatTest, ZeroEpochsOnlyRoundsAndBadOptionsAreRefused) {
  const nn::Model m = every_layer_model(9);
  QatOptions q;
  q.epochs = 0;
  q.bits = parse_qat_bits("weight=4");
  const QatResult r = fine_tune_quantized(m, q, train_, test_);
  EXPECT_TRUE(same_model(r.model, round_to_grid(m, q.bits)));
  EXPECT_TRUE(r.epochs.empty());
  q.learning_rate = -1;
  EXPECT_THROW(fine_tune_quantized(m, q, train_, test_), std::invalid_argument);
  q.learning_rate = 1e-3;
  q.bits.layer_bits["conv7"] = 5;
  EXPECT_THROW(fine_tune_quantized(m, q, train_, test_), std::invalid_argument);
  q.bits.layer_bits.clear();
  const nn::Dataset wrong = testing::synthetic_dataset(10, 3, 6);
  EXPECT_THROW(fine_tune_quantized(m, q, wrong, wrong), std::invalid_argument);
}

}  // namespace
}  // namespace hecnn::train
