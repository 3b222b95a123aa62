#include "nn/model/dataset.h"

#include "test_util.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace hecnn::nn {
namespace {

std::string idx_bytes(std::vector<std::uint32_t> dims, std::size_t fill_count, std::uint8_t type = 8) {
  std::string s = {0, 0, char(type), char(dims.size())};
  for (auto d : dims)
    for (int b = 3; b >= 0; --b) s.push_back(char((d >> (8 * b)) & 0xff));
  for (std::size_t i = 0; i < fill_count; ++i) s.push_back(char(i % 10));
  return s;
}

void write(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

std::string error_of(const std::string& bytes) {
  try {
    parse_idx(bytes, "test.idx");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Idx, ParsesImagesAndLabels) {
  auto a = parse_idx(idx_bytes({5, 3, 2}, 30));
  ASSERT_EQ(a.dims, (std::vector<std::uint32_t>{5, 3, 2}));
  EXPECT_EQ(a.data.size(), 30u);
  EXPECT_EQ(a.data[13], 3);
}

TEST(Idx, TruncatedAndCorruptFilesGiveClearErrors) {
  const std::string good = idx_bytes({4, 28, 28}, 4 * 28 * 28);
  for (std::size_t cut : {0ul, 3ul, 10ul, 16ul, 100ul, good.size() - 1})
    EXPECT_NE(error_of(good.substr(0, cut)).find("truncated"), std::string::npos) << cut;
  EXPECT_NE(error_of(good + "x").find("unexpected bytes"), std::string::npos);
  std::string b = good;
  b[0] = 0x1f;  // gzip magic
  EXPECT_NE(error_of(b).find("magic"), std::string::npos);
  EXPECT_NE(error_of(idx_bytes({4}, 4, 0x0d)).find("element type"), std::string::npos);
  EXPECT_NE(error_of(idx_bytes({}, 0)).find("dimensions"), std::string::npos);
  // Dimensions whose product overflows must not allocate.
  EXPECT_NE(error_of(idx_bytes({0xffffffffu, 0xffffffffu, 0xffffffffu}, 0)).find("overflow"), std::string::npos);
  EXPECT_NE(error_of(idx_bytes({60000, 28, 28}, 10)).find("truncated"), std::string::npos);
}

TEST(Idx, DatasetPairChecks) {
  auto dir = testing::temp_dir("idx");
  write(dir / "train-images-idx3-ubyte", idx_bytes({6, 4, 4}, 96));
  write(dir / "train-labels-idx1-ubyte", idx_bytes({6}, 6));
  Dataset d = load_idx_dir(dir.string(), true, "synthetic");
  EXPECT_EQ(d.count(), 6u);
  EXPECT_EQ(d.rows, 4);
  EXPECT_EQ(d.image(1)[0], 16 % 10);
  EXPECT_EQ(d.labels[5], 5);
  write(dir / "train-labels-idx1-ubyte", idx_bytes({5}, 5));
  EXPECT_THROW(load_idx_dir(dir.string(), true, "synthetic"), std::runtime_error);  // 5 labels, 6 images
  std::string bad_label = idx_bytes({6}, 6);
  bad_label.back() = 12;
  write(dir / "train-labels-idx1-ubyte", bad_label);
  try {
    load_idx_dir(dir.string(), true, "synthetic");
    ADD_FAILURE();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("label 12"), std::string::npos);
  }
  EXPECT_THROW(load_idx_dir(dir.string(), false, "synthetic"), std::runtime_error);  // no t10k files
  std::filesystem::remove_all(dir);
}

TEST(Cifar10, ParsesRecordsAndRejectsTruncation) {
  std::string batch;
  for (int r = 0; r < 3; ++r) {
    batch.push_back(char(r + 7));
    for (int i = 0; i < 3072; ++i) batch.push_back(char((i + r) % 251));
  }
  Dataset d = parse_cifar10(batch);
  EXPECT_EQ(d.count(), 3u);
  EXPECT_EQ(d.channels, 3);
  EXPECT_EQ(d.labels[2], 9);
  EXPECT_EQ(d.image(1)[5], 6);
  EXPECT_THROW(parse_cifar10(batch.substr(0, batch.size() - 1)), std::runtime_error);
  batch[0] = 10;
  EXPECT_THROW(parse_cifar10(batch), std::runtime_error);
  EXPECT_THROW(parse_cifar10(""), std::runtime_error);
}

TEST(NamedDatasets, KmnistAndCifarFromTheDataRoot) {
  auto dir = testing::temp_dir("root");
  ::setenv("HECNN_DATA_DIR", dir.c_str(), 1);
  // Missing files: the error says where to put them.
  try {
    load_named_dataset("kmnist", true);
    ADD_FAILURE();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("kmnist"), std::string::npos) << e.what();
  }
  try {
    load_named_dataset("cifar-10", false);
    ADD_FAILURE();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot be fetched here"), std::string::npos) << e.what();
  }
  std::filesystem::create_directories(dir / "kmnist");
  write(dir / "kmnist" / "t10k-images-idx3-ubyte", idx_bytes({3, 28, 28}, 3 * 784));
  write(dir / "kmnist" / "t10k-labels-idx1-ubyte", idx_bytes({3}, 3));
  EXPECT_EQ(load_named_dataset("kmnist", false).count(), 3u);
  std::filesystem::create_directories(dir / "cifar-10");
  std::string rec(3073, char(1));
  write(dir / "cifar-10" / "test_batch.bin", rec + rec);
  Dataset c = load_named_dataset("cifar-10", false);
  EXPECT_EQ(c.count(), 2u);
  EXPECT_EQ(c.image_size(), 3072u);
  EXPECT_THROW(load_named_dataset("imagenet", true), std::runtime_error);
  ::unsetenv("HECNN_DATA_DIR");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hecnn::nn
