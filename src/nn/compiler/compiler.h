// Model file -> HE program (program.h) for BFV with integer quantization.
//
//   auto prog = compiler::compile({model}, {}, opts);           // one model
//   auto prog = compiler::compile(members, ens, opts);          // encrypted ensemble
//   std::puts(compiler::cost_report(prog).c_str());             // before running anything
//
// Quantization (all scales are powers of two, so members align exactly):
//   input    X = round(raw * 2^(input_bits - 8))  (8-bit pixels; offset folded into layer 1's bias)
//   conv / dense weights: per layer, W = round(w * 2^k) with the largest k keeping
//            |W| < 2^(weight_bits - 1); bias at the output scale
//   poly     y = sum c_j x^j with c_j rounded at 2^coeff_bits, evaluated in integers
//   sum pool weights 1
// Parameters: the plaintext modulus is a product of batching primes (CRT) with
// T > 2 * bound of the outputs; N and the coefficient modulus (SEAL BFVDefault,
// 128-bit secure) are the cheapest per image whose predicted noise budget stays
// above `budget_margin_bits`; coefficient primes are dropped (mod switch) where
// the rest of the program allows.
#pragma once

#include <map>
#include <span>
#include <string>
#include <vector>

#include "nn/compiler/program.h"

namespace hecnn::nn::compiler {

enum class Combiner { mean, weighted_mean, poly_softmax, normalized, stacked };
const char* combiner_name(Combiner c);
// "mean" | "weighted" | "poly-softmax" | "normalized" | "stacked"
Combiner parse_combiner(const std::string& s);

struct EnsembleOptions {
  // One ensemble output per combiner (all computed from the same member outputs).
  std::vector<Combiner> combiners = {Combiner::mean};
  std::vector<double> weights;     // weighted_mean: one per member (e.g. validation accuracy)
  int weight_bits = 8;             // weights rounded to integers at 2^weight_bits / max
  // poly_softmax: mean over members of (1 + z / (2 T))^2 ~ exp(z / T); z clipped below at
  // -2T is where the square stops being monotone, so T comes from the logit bound.
  double temperature = 0.0;        // 0: chosen from the members' guaranteed logit bounds
  // poly_softmax per member (runtime::fit_temperatures): (1 + (z_i - shift_i) / 2T_i)^2, scaled
  // by min T / T_i so that members' terms share units. Empty: `temperature` for all, no shift.
  std::vector<double> temperatures, temperature_shifts;
  // normalized / stacked: y_c = bias[c] + sum_k weights[c * M * C + k] z_k over the members'
  // concatenated real logits (k = member * C + class); runtime/combiners.h fits them on the
  // coordinator's validation images. One linear layer: BFV/BGV no level (weights quantized
  // at 2^k with |W| < 2^(affine_weight_bits - 1)), CKKS one rescale.
  std::vector<double> normalized_weights, normalized_bias, stacked_weights, stacked_bias;
  int affine_weight_bits = 10;
  // Differentially private combined outputs (program.h OutputPrivacy): each combiner's
  // sensitivity in its score units (runtime/output_privacy.h measures it); its noise scale
  // (Laplace b = S / epsilon; Gaussian sigma = S sqrt(2 ln(1.25 / delta)) / epsilon, epsilon
  // <= 1) and truncation bound are added to the output's bound, so the plaintext modulus
  // (BFV/BGV) or the CKKS headroom holds scores plus noise. A combiner without a
  // sensitivity is refused while privacy is on.
  OutputPrivacy privacy;
  std::map<Combiner, double> dp_sensitivity;
};

// Noise scale and truncation bound (tail < 2^-64 per sample) of a mechanism; throws
// CompileError on a bad epsilon / delta / sensitivity.
struct NoiseParameters {
  double scale = 0, bound = 0;
};
NoiseParameters dp_noise(const OutputPrivacy& p, double sensitivity);

struct CompileOptions {
  Scheme scheme = Scheme::bfv;     // bfv: exact integers; ckks: approximate, see ckks_plan.h
  int input_bits = 5;              // 1..8: precision of the encrypted pixels
  int weight_bits = 6;             // signed bits per conv/dense weight (2..24)
  int coeff_bits = 8;              // fractional bits of polynomial activation coefficients
  // Per-layer overrides (quantization chosen layer by layer, runtime/quantization.h):
  // "m0/conv1", "m0/dense2" -> weight bits (2..24); "m0/act1" -> coefficient bits (0..24).
  // A name that is no layer of the compiled members is refused.
  std::map<std::string, int> layer_bits;
  std::size_t poly_degree = 0;     // 0: automatic (4096, 8192 or 16384)
  std::size_t batch_images = 0;    // expected images (cost choice); 0: one full batch
  int max_plain_bits = 0;          // cap on each CRT prime's bits; 0: automatic
  bool lazy_relinearize = true;    // relinearize after the next linear layer, not after each square
  bool mod_switch = true;          // drop coefficient primes when the budget allows
  double budget_margin_bits = 12;  // predicted noise budget kept at the outputs
  // CKKS (see ckks_plan.h).
  bool complex_packing = true;     // two images per complex slot
  int ckks_precision_bits = 20;    // bits above the noise, relative to the calibrated range (else the worst-case bound)
  // Calibrated programs: messages must fit the calibrated range + this many bits (or the
  // worst-case bound when smaller); values larger than that would wrap. < 0: worst-case bounds.
  int ckks_overflow_margin_bits = 10;
  // CKKS: log2 of a bound on the input of an activation ("m0/act5" -> bits), from calibration
  // with the overflow margin included (runtime::make_plan fills it). Polynomial terms whose
  // contribution over that range is below 2^-30 of the largest are dropped, and their powers
  // cost no level; without an entry the worst-case bound decides (much looser at depth).
  std::map<std::string, double> ckks_activation_log2_range;
};

// One model (members.size() == 1, ensemble ignored) or an ensemble of members that
// share an input spec and class count (architectures may differ). Throws CompileError.
Program compile(std::span<const Model> members, const EnsembleOptions& ensemble, const CompileOptions& options);

// Human-readable cost report: parameters, depth, operation counts, memory estimate, keys.
struct Cost {
  std::size_t scalar_mults = 0;   // nonzero weight terms x slot vectors (ciphertext-scalar products)
  std::size_t plain_adds = 0;     // bias constants
  std::size_t ct_mults = 0;       // ciphertext x ciphertext
  std::size_t relins = 0;
  std::size_t mod_switches = 0;
  std::size_t rescales = 0;       // CKKS: ciphertext rescales (one per dropped prime)
  std::size_t conjugations = 0;   // CKKS complex packing: one per squared / multiplied operand
  int depth = 0;
  std::size_t peak_ciphertexts = 0;      // live 2-part-equivalent ciphertexts at the worst point
  std::size_t peak_bytes = 0;            // of those, at their levels, one CRT residue at a time
  std::size_t input_bytes = 0;           // encrypted batch upload, all CRT residues
  std::size_t output_bytes = 0;          // encrypted results download, all CRT residues
  std::size_t key_bytes = 0;             // relinearization keys, all CRT residues
};
Cost cost(const Program& prog);

// BFV: the parameter choice's predicted server work per image (arbitrary units: weighted
// scalar products, multiplications and key switches over N and levels, times CRT primes),
// at a full batch. What choose_parameters minimises; compares plans of one network.
double predicted_cost_per_image(const Program& prog);

// The quantization knobs of members (names as in CompileOptions::layer_bits): every conv
// and dense layer ("weights") and every activation with coefficients ("coefficients"; a
// pure square x^2 has none), in program order.
struct QuantKnob {
  std::string name;   // "m0/conv1"
  bool weights = true;
  int member = 0;
};
std::vector<QuantKnob> quantization_knobs(std::span<const Model> members);
std::string cost_report(const Program& prog);

// BFV, one line: "input 6, m0/conv1 7, m0/dense1 7 bits; agreement with the float model 99.93%
// on 10000 calibration images (target 99.90%, met; fixed defaults 99.82%); predicted cost
// 1.00x the defaults'", or the fixed bits.
std::string quantization_summary(const QuantizationChoice& q);

// Bytes of one ciphertext with `parts` polynomials at `primes` data primes.
std::size_t ciphertext_bytes(std::size_t n, int primes, int parts);

}  // namespace hecnn::nn::compiler
