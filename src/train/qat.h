// Quantization-aware fine-tuning (`hecnn train --qat`): a few epochs of training through the
// BFV quantization rules (nn/model/quant_rules.h) at chosen bits, starting from an exported
// model. Forward passes use each conv/dense layer's weights rounded on its grid
// (straight-through gradients) and, for a share of the batches, the input pixels rounded at
// the input bits; the model written out has its weights on those grids and its activation
// coefficients at 2^-coeff_bits, so the compiler's BFV program at these bits (or more)
// computes the model itself, except for the pixels' rounding and the biases' (at the output
// scale, far finer). Cost: the epochs asked for, about as long as plain training's.
//
// The same module, unquantized and in double precision, runs any model file in libtorch
// (torch_forward): an oracle for nn::forward built on torch's conv2d, linear, avg_pool2d.
#pragma once

#include "nn/model/dataset.h"
#include "nn/model/model.h"
#include "train/trainer.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hecnn::train {

// The bits a model is fine-tuned for; the names and defaults are the compiler's
// (CompileOptions: input 5, weights 6, coefficients 8; per layer "conv1", "dense2", "act1").
struct QatBits {
  int input_bits = 5;                  // 1..8
  int weight_bits = 6;                 // 2..24, every conv/dense layer without an entry below
  int coeff_bits = 8;                  // 0..24, every activation without an entry below
  std::map<std::string, int> layer_bits;  // "conv1" / "dense2" -> weight bits, "act1" -> coefficient bits
  std::string str() const;             // "input=5,weight=6,coeff=8[,conv1=7...]"
};
// "input=5,weight=6,coeff=8,conv1=7,m0/act2=10": any subset, comma separated; a layer name may
// carry the compiler's "m0/" prefix. Throws std::invalid_argument naming the bad item.
QatBits parse_qat_bits(const std::string& text);
// Throws std::invalid_argument when a per-layer name is no conv/dense/activation of `m`.
void check_qat_bits(const nn::Model& m, const QatBits& bits);

struct QatOptions {
  QatBits bits;
  int epochs = 3;
  int batch_size = 64;
  double learning_rate = 2e-4;         // peak (warm-up, cosine decay); a tenth of training's
  std::uint64_t seed = 1;
  int threads = 2;
  int augment_shift = 0;
  double raw_share = 0.5;              // share of batches with unrounded pixels (the float model's input)
};

struct QatResult {
  nn::Model model;                     // weights and coefficients on the grids; meta as the input's
  // Test set, reference forward pass (nn::forward, double): "float" runs the model on the
  // raw pixels, "quantized" runs round_to_grid(model) on the rounded pixels (what the BFV
  // program at these bits computes, up to the biases' rounding); agreement: equal predictions.
  double accuracy_before = 0, quantized_accuracy_before = 0, agreement_before = 0;
  double accuracy = 0, quantized_accuracy = 0, agreement = 0;
  std::size_t test_samples = 0;
  std::int64_t train_samples = 0;
  double seconds = 0;
  std::vector<EpochStats> epochs;      // test_accuracy: libtorch, fake-quantized, rounded pixels
};

QatResult fine_tune_quantized(const nn::Model& init, const QatOptions& opts, const nn::Dataset& train,
                              const nn::Dataset& test,
                              const std::optional<std::vector<std::size_t>>& subset = std::nullopt,
                              const ProgressFn& progress = {});

// The model with every conv/dense weight on its grid at these bits and every activation
// coefficient c_j (j >= 1) at 2^-coeff_bits: what the compiler's rules make of it.
nn::Model round_to_grid(const nn::Model& m, const QatBits& bits);

// Predictions of `m` on the test set: float (raw pixels) and quantized (round_to_grid, rounded
// pixels), with the accuracy of each and their agreement.
struct QuantAgreement {
  double float_accuracy = 0, quantized_accuracy = 0, agreement = 0;
};
QuantAgreement measure_quantized(const nn::Model& m, const QatBits& bits, const nn::Dataset& test);

// libtorch's forward pass of `m` in double precision, one row per input (each of the model's
// input size, already x = raw * scale + offset). Throws nn::ModelError on a wrong size.
std::vector<std::vector<double>> torch_forward(const nn::Model& m, const std::vector<std::vector<double>>& inputs);

}  // namespace hecnn::train
