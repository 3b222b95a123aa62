// Ensemble combiners fitted by the coordinator on a labelled validation set it holds
// (never the client's images): the members' float logits on those images decide
//   normalized    z'_ic = (z_ic - mu_ic) / sigma_i, summed over members: each member's
//                 scores centred per class and divided by their spread, so that members'
//                 scores become comparable (an affine map of the logits);
//   poly-softmax  one temperature per member (fit_temperatures);
//   stacked       y = W z + b over the members' concatenated logits, W and b by multinomial
//                 logistic regression (a linear stacked generalizer).
// All three are affine in the logits or one square of them: the compiler lowers normalized
// and stacked as one linear layer (BFV/BGV: no level, weights quantized at
// EnsembleOptions::affine_weight_bits; CKKS: one rescale), see compiler.h.
//
// Cost: one float forward pass per member and validation image (milliseconds per image for
// CryptoNets) plus, for the stacker, a few hundred full-batch gradient steps over
// images x members x classes^2 (a second for 5,000 images, 3 members, 10 classes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "nn/model/dataset.h"
#include "nn/model/model.h"

namespace hecnn::nn::runtime {

// Float logits of every member on images [first, first + count) of ds: z[(n * members + i) * classes + c].
struct MemberLogits {
  std::size_t images = 0, members = 0, classes = 0;
  std::vector<double> z;
  std::vector<std::uint8_t> labels;
  double at(std::size_t n, std::size_t i, std::size_t c) const { return z[(n * members + i) * classes + c]; }
};
// Throws std::invalid_argument when the range is empty or outside ds, or the members
// disagree on classes / input size.
MemberLogits member_logits(std::span<const Model> members, const Dataset& ds, std::size_t first, std::size_t count);

// An affine combiner: y_c = bias[c] + sum_k weights[c * inputs + k] * z_k, z the members'
// concatenated logits (k = member * classes + class).
struct AffineCombiner {
  std::size_t inputs = 0, classes = 0;
  std::vector<double> weights, bias;
  std::vector<double> apply(std::span<const double> z) const;
};

// normalized: mu_ic the mean of member i's logit c, sigma_i the root mean square of
// z_ic - mu_ic over images and classes (at least 1e-6).
AffineCombiner fit_normalization(const MemberLogits& v);

// poly-softmax: T_i such that (1 + (z - mu_i) / 2T_i)^2 stays monotone (z - mu_i > -2T_i) on
// the validation logits with 25% headroom; mu_i the mean of member i's logits (returned in `shift`).
struct MemberTemperatures {
  std::vector<double> temperature, shift;
};
MemberTemperatures fit_temperatures(const MemberLogits& v);

struct StackerOptions {
  double l2 = 1e-3;          // ridge penalty on the standardized weights
  int iterations = 400;      // full-batch Adam steps
  double learning_rate = 0.05;
};
struct StackerFit {
  AffineCombiner combiner;
  double validation_accuracy = 0;  // on the images it was fitted on
  double loss = 0;                 // final mean cross-entropy
};
// Multinomial logistic regression of the labels on the standardized concatenated logits,
// folded back into weights on the raw logits. Deterministic (zero start, full batch).
StackerFit fit_stacker(const MemberLogits& v, const StackerOptions& opt = {});

// Accuracy of an affine combiner's argmax on v.
double combiner_accuracy(const AffineCombiner& a, const MemberLogits& v);

}  // namespace hecnn::nn::runtime
