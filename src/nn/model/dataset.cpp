#include "nn/model/dataset.h"

#include "nn/model/model_io.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace hecnn::nn {
namespace {

[[noreturn]] void bad(const std::string& what, const std::string& msg) { throw std::runtime_error(what + ": " + msg); }

std::string slurp(const std::string& path) {
  try {
    return read_file_bounded(path, kMaxDatasetFileBytes);
  } catch (const ModelError& e) {
    throw std::runtime_error(e.what());
  }
}

}  // namespace

IdxArray parse_idx(const std::string& bytes, const std::string& what) {
  if (bytes.size() < 4) bad(what, "truncated IDX header (" + std::to_string(bytes.size()) + " bytes)");
  auto u8 = [&](std::size_t i) { return std::uint8_t(bytes[i]); };
  if (u8(0) != 0 || u8(1) != 0) bad(what, "bad IDX magic (first two bytes must be zero; gzipped file?)");
  if (u8(2) != 0x08) bad(what, "IDX element type " + std::to_string(u8(2)) + " is not unsigned byte (8)");
  const int nd = u8(3);
  if (nd < 1 || nd > 4) bad(what, "IDX has " + std::to_string(nd) + " dimensions (1 to 4 supported)");
  const std::size_t header = 4 + 4 * std::size_t(nd);
  if (bytes.size() < header) bad(what, "truncated IDX header");
  IdxArray a;
  std::size_t n = 1;
  for (int d = 0; d < nd; ++d) {
    std::uint32_t v = (std::uint32_t(u8(4 + 4 * d)) << 24) | (std::uint32_t(u8(5 + 4 * d)) << 16) |
                      (std::uint32_t(u8(6 + 4 * d)) << 8) | std::uint32_t(u8(7 + 4 * d));
    a.dims.push_back(v);
    if (v != 0 && n > kMaxDatasetFileBytes / v) bad(what, "IDX dimensions overflow");
    n *= v;
  }
  if (bytes.size() - header < n)
    bad(what, "truncated: header promises " + std::to_string(n) + " data bytes, file has " +
                  std::to_string(bytes.size() - header));
  if (bytes.size() - header > n)
    bad(what, std::to_string(bytes.size() - header - n) + " unexpected bytes after the data");
  a.data.assign(bytes.begin() + long(header), bytes.end());
  return a;
}

IdxArray read_idx(const std::string& path) { return parse_idx(slurp(path), path); }

Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path, const std::string& name) {
  IdxArray im = read_idx(images_path);
  IdxArray lb = read_idx(labels_path);
  if (im.dims.size() != 3) bad(images_path, "image file must have 3 dimensions (n, rows, cols)");
  if (lb.dims.size() != 1) bad(labels_path, "label file must have 1 dimension");
  if (im.dims[0] != lb.dims[0])
    bad(labels_path, std::to_string(lb.dims[0]) + " labels for " + std::to_string(im.dims[0]) + " images");
  if (im.dims[1] == 0 || im.dims[2] == 0 || im.dims[1] > 4096 || im.dims[2] > 4096)
    bad(images_path, "image size out of range");
  for (std::size_t i = 0; i < lb.data.size(); ++i)
    if (lb.data[i] >= 10) bad(labels_path, "label " + std::to_string(lb.data[i]) + " at index " + std::to_string(i) + " is not in 0..9");
  Dataset d;
  d.name = name;
  d.channels = 1;
  d.rows = int(im.dims[1]);
  d.cols = int(im.dims[2]);
  d.images = std::move(im.data);
  d.labels = std::move(lb.data);
  return d;
}

Dataset load_idx_dir(const std::string& dir, bool train, const std::string& name) {
  const std::string p = dir + "/" + (train ? "train" : "t10k");
  if (!std::filesystem::exists(p + "-images-idx3-ubyte"))
    throw std::runtime_error(p + "-images-idx3-ubyte not found (the data directory is HECNN_DATA_DIR when set, else ./data "
                             "or the nearest parent directory's data/; run scripts/setup.sh, set HECNN_DATA_DIR, or put the "
                             "uncompressed IDX files in " + dir + ")");
  return load_idx_dataset(p + "-images-idx3-ubyte", p + "-labels-idx1-ubyte", name);
}

Dataset parse_cifar10(const std::string& bytes, const std::string& what) {
  constexpr std::size_t rec = 1 + 3 * 32 * 32;
  if (bytes.empty()) bad(what, "empty CIFAR-10 batch");
  if (bytes.size() % rec != 0)
    bad(what, "size " + std::to_string(bytes.size()) + " is not a multiple of the 3073-byte record (truncated?)");
  Dataset d;
  d.name = "cifar-10";
  d.channels = 3;
  d.rows = d.cols = 32;
  const std::size_t n = bytes.size() / rec;
  d.images.reserve(n * (rec - 1));
  d.labels.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t label = std::uint8_t(bytes[i * rec]);
    if (label >= 10) bad(what, "record " + std::to_string(i) + " has label " + std::to_string(label));
    d.labels.push_back(label);
    d.images.insert(d.images.end(), bytes.begin() + long(i * rec + 1), bytes.begin() + long((i + 1) * rec));
  }
  return d;
}

Dataset load_cifar10(const std::vector<std::string>& batch_paths) {
  Dataset all;
  for (const auto& p : batch_paths) {
    Dataset d = parse_cifar10(slurp(p), p);
    if (all.labels.empty()) {
      all = std::move(d);
    } else {
      all.images.insert(all.images.end(), d.images.begin(), d.images.end());
      all.labels.insert(all.labels.end(), d.labels.begin(), d.labels.end());
    }
  }
  return all;
}

std::string data_root() {
  const char* env = std::getenv("HECNN_DATA_DIR");
  if (env && *env) return env;
  // "data" in the current directory or the nearest parent that has one (tests run in build/tests).
  std::error_code ec;
  auto dir = std::filesystem::current_path(ec);
  for (int up = 0; !ec && up < 6; ++up, dir = dir.parent_path()) {
    std::error_code missing;  // is_directory reports "no such file" through it
    if (std::filesystem::is_directory(dir / "data", missing)) return (dir / "data").string();
    if (dir == dir.parent_path()) break;
  }
  return "data";
}

Dataset load_named_dataset(const std::string& name, bool train) {
  const std::string dir = data_root() + "/" + name;
  if (name == "mnist" || name == "fashion-mnist" || name == "kmnist") return load_idx_dir(dir, train, name);
  if (name == "cifar-10") {
    std::vector<std::string> files;
    if (train)
      for (int i = 1; i <= 5; ++i) files.push_back(dir + "/data_batch_" + std::to_string(i) + ".bin");
    else
      files.push_back(dir + "/test_batch.bin");
    for (auto& f : files)
      if (!std::filesystem::exists(f))
        throw std::runtime_error(f + " not found (CIFAR-10 cannot be fetched here: put the binary batches in " + dir + ")");
    return load_cifar10(files);
  }
  throw std::runtime_error("unknown dataset \"" + name + "\" (known: mnist, fashion-mnist, kmnist, cifar-10)");
}

}  // namespace hecnn::nn
