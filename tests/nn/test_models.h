// Small random models for the compiler and runtime tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "nn/model/dataset.h"
#include "nn/model/model.h"

namespace hecnn::nn::testing {

inline std::vector<double> random_vec(std::size_t n, double scale, std::mt19937_64& rng) {
  std::normal_distribution<double> d(0.0, scale);
  std::vector<double> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

inline Conv2d conv(int in, int out, int k, int stride, int pad, std::mt19937_64& rng) {
  Conv2d c;
  c.in_channels = in;
  c.out_channels = out;
  c.kernel_h = c.kernel_w = k;
  c.stride_h = c.stride_w = stride;
  c.pad_h = c.pad_w = pad;
  c.weight = random_vec(std::size_t(out) * in * k * k, 0.5, rng);
  c.bias = random_vec(out, 0.1, rng);
  return c;
}

inline Dense dense(int in, int out, std::mt19937_64& rng) {
  Dense d;
  d.in_features = in;
  d.out_features = out;
  d.weight = random_vec(std::size_t(in) * out, 0.3, rng);
  d.bias = random_vec(out, 0.1, rng);
  return d;
}

// input 1x8x8 -> conv 2@3x3 s2 p1 (2x4x4) -> x^2 -> sum pool 2 (2x2x2) -> dense 4 -> poly -> dense 3
inline Model tiny_model(std::uint64_t seed, bool general_poly = true) {
  std::mt19937_64 rng(seed);
  Model m;
  m.meta.name = "tiny";
  m.input.shape = {1, 8, 8};
  m.layers.push_back(conv(1, 2, 3, 2, 1, rng));
  m.layers.push_back(Poly{{0, 0, 1}});
  m.layers.push_back(SumPool{2, 2, 2, 2});
  m.layers.push_back(dense(8, 4, rng));
  if (general_poly) {
    m.layers.push_back(Poly{{0.25, 0.5, 0.125}});
  } else {
    m.layers.push_back(Poly{{0, 0, 1}});
  }
  m.layers.push_back(dense(4, 3, rng));
  return m;
}

// A CryptoNets-shaped but smaller model on 1x12x12 inputs.
inline Model small_cryptonets(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Model m;
  m.meta.name = "small-cryptonets";
  m.input.shape = {1, 12, 12};
  m.layers.push_back(conv(1, 3, 5, 2, 1, rng));  // 3x5x5
  m.layers.push_back(Poly{{0, 0, 1}});
  m.layers.push_back(dense(75, 10, rng));
  m.layers.push_back(Poly{{0, 0, 1}});
  m.layers.push_back(dense(10, 4, rng));
  return m;
}

// Depth 4 with convolutions, pools and polynomials of degree 2, 3 and 2 on 1x8x8 inputs.
inline Model deep_conv_model(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Model m;
  m.meta.name = "deep-conv";
  m.input.shape = {1, 8, 8};
  m.layers.push_back(conv(1, 2, 3, 1, 1, rng));  // 2x8x8
  m.layers.push_back(Poly{{0.1, 0.5, 0.25}});
  m.layers.push_back(SumPool{2, 2, 2, 2});                 // 2x4x4
  m.layers.push_back(conv(2, 3, 3, 1, 0, rng));  // 3x2x2
  m.layers.push_back(Poly{{0.05, 0.5, 0.2, -0.02}});
  m.layers.push_back(SumPool{2, 2, 2, 2});                 // 3x1x1
  m.layers.push_back(dense(3, 4, rng));
  m.layers.push_back(Poly{{0, 0, 1}});
  m.layers.push_back(dense(4, 3, rng));
  return m;
}

inline std::vector<std::uint8_t> random_images(std::size_t count, std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint8_t> v(count * size);
  for (auto& x : v) x = std::uint8_t(rng() % 256);
  return v;
}

// input 1x8x8 -> conv 2@3x3 s2 p1 -> x^2 -> dense 3: depth 1, same input and classes as
// tiny_model, so an ensemble with tiny_model mixes members whose output factors differ (CKKS).
inline Model shallow_model(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Model m;
  m.meta.name = "shallow";
  m.input.shape = {1, 8, 8};
  m.layers.push_back(conv(1, 2, 3, 2, 1, rng));
  m.layers.push_back(Poly{{0, 0, 1}});
  m.layers.push_back(dense(32, 3, rng));
  return m;
}

// models/<name> of the source tree (next to tests/), or next to the data root; empty if absent.
inline std::string model_path(const std::string& name) {
  const std::filesystem::path here = std::filesystem::path(__FILE__).parent_path();  // tests/nn
  for (const auto& dir : {here.parent_path().parent_path() / "models", std::filesystem::path(data_root()).parent_path() / "models"}) {
    std::error_code ec;
    if (std::filesystem::exists(dir / name, ec)) return (dir / name).string();
  }
  return {};
}

// Whether a named dataset's test files are installed (scripts/setup.sh fetches mnist and
// fashion-mnist).
inline bool have_dataset(const std::string& name) {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::path(data_root()) / name / "t10k-images-idx3-ubyte", ec);
}

// CI sets HECNN_REQUIRE_DATA=1: a test that needs data or a shipped model fails there
// instead of skipping, so a broken set-up cannot turn the tests that matter into skips.
inline bool data_required() {
  const char* v = std::getenv("HECNN_REQUIRE_DATA");
  return v && *v && std::string(v) != "0";
}

}  // namespace hecnn::nn::testing

// Skips the test (or fails it under HECNN_REQUIRE_DATA) when `what` is missing.
#define HECNN_REQUIRE_OR_SKIP(cond, what)                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      if (::hecnn::nn::testing::data_required()) FAIL() << (what) << " missing (HECNN_REQUIRE_DATA is set)"; \
      GTEST_SKIP() << (what) << " missing (run scripts/setup.sh)";                        \
    }                                                                                     \
  } while (0)
