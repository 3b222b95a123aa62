#include "train/trainer.h"

#include "nn/model/forward.h"
#include "nn/model/model_io.h"
#include "synthetic.h"

#include <gtest/gtest.h>

namespace hecnn::train {
namespace {

TrainOptions small_options(const std::string& arch_text, const std::string& act) {
  TrainOptions o;
  o.arch = nn::parse_arch(arch_text, "test");
  o.activation = parse_activation(act);
  o.epochs = 3;
  o.batch_size = 32;
  o.learning_rate = 3e-3;
  o.threads = 1;
  o.seed = 7;
  return o;
}

const char* kConvBnPool = "input 1 8 8\nconv 4 3 pad 1\nbn\nact\npool 2\ndense 16\nbn\nact\ndense 10\n";

class TrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { set_threads(1); }
  nn::Dataset train_ = testing::synthetic_dataset(1200, 1);
  nn::Dataset test_ = testing::synthetic_dataset(300, 2);
};

TEST_F(TrainerTest, LearnsAndExportMatchesLibtorch) {
  // BN folding and sum pooling at export: the exported model must reproduce libtorch's predictions.
  auto r = train_model(small_options(kConvBnPool, "square"), train_, test_);
  EXPECT_GT(r.test_accuracy, 0.9);
  ASSERT_TRUE(r.exported);
  EXPECT_EQ(r.verified_samples, test_.count());
  EXPECT_LE(r.prediction_mismatches, 1u);
  EXPECT_NEAR(r.exported_accuracy, r.test_accuracy, 0.01);
  for (const auto& l : r.model.layers) EXPECT_NE(std::string(nn::layer_type(l)), "bn");
  EXPECT_EQ(r.epochs.size(), 3u);
}

TEST_F(TrainerTest, ReproducibleFromTheSeed) {
  auto o = small_options("input 1 8 8\nconv 3 3 stride 2\nact\ndense 10\n", "square");
  o.epochs = 2;
  auto a = train_model(o, train_, test_);
  auto b = train_model(o, train_, test_);
  EXPECT_EQ(nn::serialize_model(a.model, nn::DType::f64), nn::serialize_model(b.model, nn::DType::f64));
  o.seed = 8;
  auto c = train_model(o, train_, test_);
  EXPECT_NE(nn::serialize_model(a.model, nn::DType::f64), nn::serialize_model(c.model, nn::DType::f64));
}

TEST_F(TrainerTest, PolynomialReluApproximationTrains) {
  auto r = train_model(small_options(kConvBnPool, "poly:relu:derivative:3:-4:4"), train_, test_);
  EXPECT_GT(r.test_accuracy, 0.9);
  ASSERT_TRUE(r.exported);
  EXPECT_LE(r.prediction_mismatches, 1u);
}

TEST_F(TrainerTest, SubsetProgressAndNonPolynomialActivation) {
  std::vector<std::size_t> subset;
  for (std::size_t i = 0; i < 400; ++i) subset.push_back(i);
  int calls = 0, epochs_done = 0;
  auto o = small_options(kConvBnPool, "relu");
  o.epochs = 1;
  auto r = train_model(o, train_, test_, subset, [&](const Progress& p) {
    ++calls;
    epochs_done += p.epoch_done;
    EXPECT_LE(p.batch, p.batches);
  });
  EXPECT_EQ(r.train_samples, 400);
  EXPECT_FALSE(r.exported);  // relu has no HE-friendly export
  EXPECT_EQ(epochs_done, 1);
  EXPECT_GT(calls, 1);
}

TEST_F(TrainerTest, MismatchedInputShapeIsAClearError) {
  auto o = small_options("input 1 28 28\nconv 5 5 stride 2 pad 1\nact\ndense 10\n", "square");
  EXPECT_THROW(train_model(o, train_, test_), std::invalid_argument);
}

}  // namespace
}  // namespace hecnn::train
