// libtorch helpers shared by the trainer and quantization-aware fine-tuning (internal:
// includes <torch/torch.h>, so only the two .cpp files of hecnn_train include it).
#pragma once

#include "nn/model/dataset.h"
#include "nn/model/model.h"
#include "nn/model/split.h"
#include "train/trainer.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <numbers>
#include <vector>

namespace hecnn::train::detail {

inline double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Images idx of d as an N x C x H x W float tensor, x = value(raw) * scale + offset, where
// value maps each raw byte (identity when empty; a 256-entry table otherwise).
inline torch::Tensor to_images(const nn::Dataset& d, const std::vector<std::size_t>& idx, double scale, double offset,
                               const std::vector<double>& value = {}) {
  const std::int64_t n = std::int64_t(idx.size()), sz = std::int64_t(d.image_size());
  torch::Tensor t = torch::empty({n, d.channels, d.rows, d.cols}, torch::kFloat);
  float* p = t.data_ptr<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint8_t* img = d.image(idx[std::size_t(i)]);
    for (std::int64_t k = 0; k < sz; ++k)
      p[i * sz + k] = float((value.empty() ? double(img[k]) : value[img[k]]) * scale + offset);
  }
  return t;
}

inline torch::Tensor to_labels(const nn::Dataset& d, const std::vector<std::size_t>& idx) {
  torch::Tensor t = torch::empty({std::int64_t(idx.size())}, torch::kLong);
  auto* p = t.data_ptr<std::int64_t>();
  for (std::size_t i = 0; i < idx.size(); ++i) p[i] = d.labels[idx[i]];
  return t;
}

inline std::vector<std::size_t> iota(std::size_t n) {
  std::vector<std::size_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

// Random shifts of up to `s` pixels per sample (zero borders: roll is a shift for MNIST-like data).
inline torch::Tensor augment(const torch::Tensor& x, int s, nn::SplitRng& rng) {
  const std::int64_t n = x.size(0);
  const int side = 2 * s + 1;
  std::vector<std::vector<std::int64_t>> groups(std::size_t(side * side));
  for (std::int64_t i = 0; i < n; ++i) groups[rng.below(std::uint64_t(side * side))].push_back(i);
  torch::Tensor y = x.clone();
  for (int g = 0; g < side * side; ++g) {
    const int dy = g / side - s, dx = g % side - s;
    if ((dx == 0 && dy == 0) || groups[std::size_t(g)].empty()) continue;
    torch::Tensor idx = torch::tensor(groups[std::size_t(g)], torch::kLong);
    y.index_copy_(0, idx, torch::roll(x.index_select(0, idx), {dy, dx}, {2, 3}));
  }
  return y;
}

// 0..n-1 shuffled by rng, as a tensor of indices (one epoch's order).
inline torch::Tensor shuffled_indices(std::size_t n, nn::SplitRng& rng) {
  std::vector<std::int64_t> perm(n);
  for (std::size_t i = 0; i < n; ++i) perm[i] = std::int64_t(i);
  rng.shuffle(perm);
  return torch::tensor(perm, torch::kLong);
}

// A progress report `done` steps of `total` into a run that began at `start`.
inline Progress progress_at(int epoch, int epochs, std::size_t batch, std::size_t batches, double loss, double accuracy,
                            double done, double total, std::chrono::steady_clock::time_point start) {
  Progress p;
  p.epoch = epoch;
  p.epochs = epochs;
  p.batch = batch;
  p.batches = batches;
  p.loss = loss;
  p.accuracy = accuracy;
  p.elapsed = since(start);
  p.eta = p.elapsed / done * (total - done);
  return p;
}

// Multiply-accumulates of one forward pass (conv and dense layers).
inline double model_macs(const nn::Model& m) {
  double macs = 0;
  const auto shapes = nn::output_shapes(m);
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    if (auto* c = std::get_if<nn::Conv2d>(&m.layers[i]))
      macs += double(shapes[i].size()) * c->in_channels * c->kernel_h * c->kernel_w;
    else if (auto* d = std::get_if<nn::Dense>(&m.layers[i]))
      macs += double(d->in_features) * d->out_features;
  }
  return macs;
}

// Learning rate at `step` of `total`: linear warm-up over the first 2% (at least one step),
// then cosine decay to 0.
inline double scheduled_lr(double peak, double step, double total) {
  const double warmup = std::max(1.0, 0.02 * total);
  if (step < warmup) return peak * (step + 1) / warmup;
  return peak * 0.5 * (1 + std::cos(std::numbers::pi * (step - warmup) / std::max(1.0, total - warmup)));
}

}  // namespace hecnn::train::detail
