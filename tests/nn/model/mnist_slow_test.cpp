// Slow tier: the real IDX files and the committed default ensemble (skipped when absent).
#include "nn/model/dataset.h"
#include "nn/model/forward.h"
#include "nn/model/model_io.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace hecnn::nn {
namespace {

bool have_mnist() { return std::filesystem::exists(data_root() + "/mnist/t10k-images-idx3-ubyte"); }

TEST(MnistSlow, RealIdxFiles) {
  if (!have_mnist()) GTEST_SKIP() << "MNIST not installed (run scripts/setup.sh)";
  auto train = load_named_dataset("mnist", true);
  auto test = load_named_dataset("mnist", false);
  EXPECT_EQ(train.count(), 60000u);
  EXPECT_EQ(test.count(), 10000u);
  EXPECT_EQ(train.rows, 28);
  EXPECT_EQ(test.labels[0], 7);  // the first MNIST test digit is a 7
}

TEST(MnistSlow, DefaultEnsembleAccuracyMatchesItsFiles) {
  const std::string dir = (std::filesystem::path(data_root()).parent_path() / "models" / "default").string();
  if (!have_mnist() || !std::filesystem::exists(dir + "/member0.hecnn")) GTEST_SKIP() << "no data or no models";
  auto test = load_named_dataset("mnist", false);
  std::vector<Model> members;
  for (int m = 0; m < 3; ++m) members.push_back(read_model(dir + "/member" + std::to_string(m) + ".hecnn"));
  for (const Model& model : members) {
    std::size_t right = 0;
    for (std::size_t i = 0; i < test.count(); ++i)
      right += argmax(forward(model, prepare_input(model, {test.image(i), test.image_size()}))) == test.labels[i];
    EXPECT_NEAR(double(right) / double(test.count()), model.meta.test_accuracy, 1e-9) << model.meta.name;
  }
}

}  // namespace
}  // namespace hecnn::nn
