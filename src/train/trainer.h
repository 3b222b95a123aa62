// The libtorch trainer behind `hecnn train` (this header does not include torch).
//
// Trains an architecture (nn/model/arch.h) with a chosen activation on a dataset,
// optionally on one member's share of an ensemble split, then exports the HE-friendly
// model (batch norm folded, sum pooling, polynomial activations) and measures its test
// accuracy. Reproducible from the seed for a given thread count.
#pragma once

#include "nn/model/arch.h"
#include "nn/model/dataset.h"
#include "nn/model/model.h"
#include "nn/model/split.h"
#include "train/activation.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace hecnn::train {

struct TrainOptions {
  nn::ArchSpec arch = nn::builtin_arch("cryptonets");
  ActivationSpec activation;
  std::string dataset = "mnist";
  int epochs = 10;
  int batch_size = 64;
  double learning_rate = 2e-3;     // peak; cosine decay to 0 over all steps after a short warm-up
  double weight_decay = 0.0;
  std::string optimizer = "adam";  // adam | sgd (momentum 0.9)
  std::uint64_t seed = 1;
  int threads = 2;
  int augment_shift = 0;           // random shifts of up to this many pixels (0: off)
  double input_scale = 1.0 / 255;  // x = raw * scale + offset
  double input_offset = 0.0;
  std::size_t verify_samples = 0;  // test images re-checked with the exported model (0: auto)
};

struct EpochStats {
  int epoch = 0;
  double loss = 0, train_accuracy = 0, test_accuracy = 0, seconds = 0;
};

struct Progress {
  int epoch = 0, epochs = 0;
  std::size_t batch = 0, batches = 0;
  double loss = 0, accuracy = 0;   // running over the epoch so far
  double elapsed = 0, eta = 0;     // seconds
  bool epoch_done = false;
  double test_accuracy = -1;       // set when epoch_done
};
using ProgressFn = std::function<void(const Progress&)>;

struct TrainResult {
  nn::Model model;                 // exported (empty layers if the activation is not polynomial)
  bool exported = false;
  double test_accuracy = 0;        // libtorch, eval mode, whole test set
  double exported_accuracy = -1;   // reference forward pass of the exported model on verify_samples
  std::size_t verified_samples = 0;
  std::size_t prediction_mismatches = 0;  // exported vs libtorch on those samples
  double seconds = 0;              // training time (excluding final verification)
  std::int64_t train_samples = 0;
  std::vector<EpochStats> epochs;
};

// `subset`: indices into `train` (an ensemble member's share); nullopt: all of it.
TrainResult train_model(const TrainOptions& opts, const nn::Dataset& train, const nn::Dataset& test,
                        const std::optional<std::vector<std::size_t>>& subset = std::nullopt,
                        const ProgressFn& progress = {});

// Sets libtorch's intra-op threads and OpenBLAS to one thread (when OpenBLAS is loaded).
void set_threads(int threads);

}  // namespace hecnn::train
