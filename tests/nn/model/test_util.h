// Small helpers shared by the hecnn_model tests.
#pragma once

#include "nn/model/arch.h"
#include "nn/model/model.h"

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

namespace hecnn::nn::testing {

inline std::vector<double> random_vector(std::size_t n, std::mt19937_64& rng, double scale = 0.3) {
  std::uniform_real_distribution<double> d(-scale, scale);
  std::vector<double> v(n);
  for (double& x : v) x = d(rng);
  return v;
}

// Random trained parameters for every layer of `spec` (bn statistics included).
inline std::vector<LayerParams> random_params(const ArchSpec& spec, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<LayerParams> p(spec.layers.size());
  Shape cur = spec.input;
  auto shapes = arch_shapes(spec);
  for (std::size_t i = 0; i < spec.layers.size(); ++i) {
    const ArchLayer& l = spec.layers[i];
    if (l.kind == ArchLayer::Kind::conv) {
      p[i].weight = random_vector(std::size_t(l.out) * cur.c * l.kernel * l.kernel, rng);
      p[i].bias = random_vector(std::size_t(l.out), rng);
    } else if (l.kind == ArchLayer::Kind::dense) {
      p[i].weight = random_vector(std::size_t(l.out) * cur.size(), rng, 0.1);
      p[i].bias = random_vector(std::size_t(l.out), rng);
    } else if (l.kind == ArchLayer::Kind::bn) {
      const std::size_t c = std::size_t(cur.c);
      p[i].gamma = random_vector(c, rng);
      for (double& g : p[i].gamma) g += 1.0;
      p[i].beta = random_vector(c, rng);
      p[i].mean = random_vector(c, rng);
      p[i].var = random_vector(c, rng);
      for (double& v : p[i].var) v = v * v + 0.5;
    }
    cur = shapes[i];
  }
  return p;
}

inline std::filesystem::path temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("hecnn_model_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace hecnn::nn::testing
