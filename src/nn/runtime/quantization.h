// BFV quantization chosen by agreement with the float model, not by fixed bits.
//
//   QuantizationRequest q;                       // target 99.9% of calibration images
//   auto prog = choose_quantization(members, ens, base_options, training, q);
//   prog.quantization                            // chosen bits, agreement, cost vs defaults
//
// Knobs (compiler::quantization_knobs): the input bits (shared by the members), each conv
// and dense layer's weight bits and each polynomial activation's coefficient bits; the
// CRT plaintext primes and N follow from them (the compiler's parameter choice). A knob
// the caller fixed (QuantizationRequest::search_*) keeps the base options' value.
//
// Search. Every candidate is compiled (its predicted cost per image,
// compiler::predicted_cost_per_image) and its integer program simulated on the calibration
// images next to the float model (runtime::float_reference), members and combined outputs.
// The calibration images must meet the target with unseen_factor times fewer disagreements
// (they are images the model was trained on). Knobs start at the base options and only rise:
//   1. every knob e bits above its start, the smallest e that meets the target (doubling,
//      then bisection); where an e leaves no parameters, knobs are held one by one;
//   2. each knob one bit lower where that lowers the predicted cost and the target holds;
//   3. free bits: each knob rises while the predicted cost stays within 0.5% and the plaintext
//      modulus does not newly pass 125 bits (compile only), confirmed by one more simulation.
// The agreement reported is measured. A target no candidate meets gives the highest
// agreement reached, target_met == false.
//
// Cost: about 4 to 8 + knobs simulations of the whole program on `images` calibration images
// (CryptoNets, 10,000 images: about 1 s each on 2 cores; the 3-member default ensemble about
// a minute in all) plus some dozens of compilations (milliseconds each).
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>

#include "nn/compiler/compiler.h"
#include "nn/compiler/program.h"
#include "nn/model/dataset.h"
#include "nn/model/model.h"

namespace hecnn::nn::runtime {

struct QuantizationRequest {
  double target = 0.999;          // share of calibration images whose every output agrees with the float model
  std::size_t images = 10000;     // the first `images` of the calibration set (never the images scored later)
  // Flips on images the model never saw run higher than on the training images it fit
  // (measured at fixed bits: CryptoNets/MNIST 0.08% -> 0.15%, tenseal1/Fashion-MNIST 1.20% ->
  // 1.43%): the calibration images must meet (1 - target) / unseen_factor.
  double unseen_factor = 3.0;
  bool search_input = true;       // false: base.input_bits stays
  bool search_weights = true;     // false: base.weight_bits (and base.layer_bits) stay
  bool search_coeffs = true;      // false: base.coeff_bits stays
  std::function<void(const std::string&)> log;  // one line per step (progress), optional
};

// Throws std::invalid_argument (bad request: target outside (0, 1], unseen_factor < 1, no
// images, a CKKS base)
// or CompileError when not even the base options compile.
compiler::Program choose_quantization(std::span<const Model> members, const compiler::EnsembleOptions& ens,
                                      const compiler::CompileOptions& base, const Dataset& calibration,
                                      const QuantizationRequest& req);

}  // namespace hecnn::nn::runtime
