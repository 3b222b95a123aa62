// A small synthetic image dataset for trainer tests: 8x8 images, 10 classes, each class a
// fixed random pattern plus noise; learnable in a couple of epochs.
#pragma once

#include "nn/model/dataset.h"

#include <random>

namespace hecnn::train::testing {

inline nn::Dataset synthetic_dataset(std::size_t n, std::uint64_t seed, int side = 8) {
  std::mt19937_64 pattern_rng(1234), rng(seed);
  std::vector<std::vector<int>> patterns(10, std::vector<int>(std::size_t(side * side)));
  for (auto& p : patterns)
    for (int& v : p) v = int(pattern_rng() % 200);
  nn::Dataset d;
  d.name = "synthetic";
  d.rows = d.cols = side;
  std::normal_distribution<double> noise(0, 30);
  for (std::size_t i = 0; i < n; ++i) {
    const int c = int(rng() % 10);
    d.labels.push_back(std::uint8_t(c));
    for (int v : patterns[std::size_t(c)])
      d.images.push_back(std::uint8_t(std::clamp(v + noise(rng), 0.0, 255.0)));
  }
  return d;
}

}  // namespace hecnn::train::testing
