// Slow tier: real MNIST (scripts/setup.sh puts it in data/mnist; skipped when absent).
#include "train/trainer.h"

#include "nn/model/dataset.h"
#include "nn/model/model_io.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace hecnn::train {
namespace {

TEST(MnistSlow, CryptonetsSquareTwoEpochs) {
  if (!std::filesystem::exists(nn::data_root() + "/mnist/train-images-idx3-ubyte"))
    GTEST_SKIP() << "MNIST not installed (run scripts/setup.sh)";
  set_threads(1);  // tests use one thread
  auto train = nn::load_named_dataset("mnist", true);
  auto test = nn::load_named_dataset("mnist", false);
  TrainOptions o;
  o.epochs = 2;
  o.threads = 1;
  auto r = train_model(o, train, test);
  EXPECT_GT(r.test_accuracy, 0.98);
  EXPECT_EQ(r.verified_samples, 10000u);
  EXPECT_LE(r.prediction_mismatches, 5u);
  EXPECT_NEAR(r.exported_accuracy, r.test_accuracy, 0.001);
}

}  // namespace
}  // namespace hecnn::train
