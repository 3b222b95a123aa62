// The HE program: what the compiler produces and every interpreter runs.
//
// Values are *slot vectors*: one ciphertext per tensor element (pixel position,
// neuron), one image per slot (CryptoNets batch layout, no rotations). A Program
// is a straight-line list of tensor instructions; instruction i writes tensor i.
//
// BFV programs are integer programs: all arithmetic is on integers modulo the
// plaintext modulus t; every tensor has a fixed-point scale (real = integer /
// scale) and the scales multiply through the depth. With CRT over several
// plaintext primes the same program runs once per prime.
//
// CKKS programs are real-number programs: every tensor but the input (raw pixels)
// holds real values (scale 1); linear terms carry real weights (Term::real) and
// real biases (Instr::bias_real). The CKKS planner (ckks_plan.h) picks, per
// linear instruction and input, the multiplier that turns real weights into the
// integers the ciphertexts are multiplied by (Term::weight), and the rescales
// that keep the message sizes bounded, so depth costs levels, not integer bits.
//
// Interpreters (src/nn/runtime): real BFV, a cleartext slot simulator (exact
// integers mod t, the test oracle) and the compiler's own cost counter
// (cost.h). Every tensor carries its fixed-point scale (real = integer / scale),
// a guaranteed bound on |integer| and its ciphertext size / level, so parameter
// choice and the cost report happen before anything runs.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "nn/model/model.h"

namespace hecnn::nn::compiler {

// A model or ensemble the compiler cannot handle, or options it cannot satisfy.
struct CompileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class OpKind : std::uint8_t {
  input,        // the encrypted input tensor (size = pixels per image)
  linear,       // out[o] = bias[o] + sum_k w_k * in[k]  (conv, dense, sum pool, ensemble combine)
  square,       // out[i] = in[i]^2, leaves 3-part ciphertexts (not relinearized)
  multiply,     // out[i] = a[i] * b[i] (both relinearized)
  relinearize,  // 3 parts -> 2 parts, values unchanged
  mod_switch,   // drop one coefficient prime, values unchanged (BFV)
};
const char* op_name(OpKind k);

// One term of a linear row: `weight * tensors[input][index]`.
struct Term {
  std::int32_t input = 0;   // which of the instruction's inputs (0 for single-input ops)
  std::int32_t index = 0;   // element of that input
  std::int64_t weight = 0;  // the integer multiplier: BFV from the lowering (nonzero), CKKS
                            // round(real * input_mult[input]) from the planner (may be 0)
  double real = 0.0;        // the real weight on the input's value (BFV: == weight)
};

struct Instr {
  OpKind op = OpKind::input;
  std::string label;                  // e.g. "m0/conv1", "ensemble/mean"
  int member = -1;                    // ensemble member that owns it, -1: shared/coordinator
  std::vector<int> inputs;            // tensor ids (earlier instructions)
  std::size_t size = 0;               // number of slot vectors
  Shape shape;                        // logical shape (size == shape.size())
  // linear only: rows[o] are the terms of output o; bias[o] is added as a constant.
  std::vector<std::vector<Term>> rows;
  std::vector<__int128> bias;          // BFV: may exceed 64 bits at deep layers (scales multiply)
  std::vector<double> bias_real;      // CKKS: the real bias of each output (bias is empty)
  int weight_bits = 0;                // CKKS linear: signed bits the largest weight of each input
                                      // keeps after quantization; 0: the weights are exact integers
  // Fixed-point bookkeeping (filled by the compiler).
  double scale = 1.0;                 // real value = integer / scale
  double log2_bound = 0.0;            // log2 of a guaranteed bound on |integer|
  double log2_weight_norm = 0.0;      // linear: log2 max_o sqrt(sum w^2) (noise growth of independent noises)
  int depth = 0;                      // multiplicative depth of the values
  int parts = 2;                      // ciphertext polynomials (3 after square)
  int level = 0;                      // data primes the values live at (after parameter choice)
  bool is_layer_end = false;          // last instruction of a model layer (for per-layer timings)
  // CKKS only (the integers are approximated: ciphertext message = integer * factor).
  int rescale = 0;                    // primes dropped by rescaling after the op (level is after them)
  double factor = 1.0;                // message per integer unit after the op (and its rescales)
  std::vector<double> input_mult;     // CKKS linear: the real weight w on input i becomes the integer
                                      // round(w * input_mult[i]) = factor(out, before rescales) / factor(i)
  double log2_message = 0.0;          // log2 bound on |message| before the rescales
  std::optional<double> log2_calibrated;  // log2 max(1, |integer|) seen on calibration images
};

// CKKS: log2 ranges (bounds, calibrated maxima) are floored here; precision is kept
// relative to a tensor's range, so values far below 1 would otherwise ask for huge factors.
inline constexpr double kCkksMinLog2Range = -16;

// CKKS: the log2 range a tensor's messages must fit (|message| < Q / 4): its
// guaranteed bound, or with calibration and a margin >= 0 the calibrated range plus
// `margin` bits when that is smaller (values beyond it would wrap modulo Q).
inline double ckks_log2_fit(const Instr& ins, double margin) {
  if (!ins.log2_calibrated || margin < 0) return ins.log2_bound;
  return std::min(ins.log2_bound, *ins.log2_calibrated + margin);
}

// BFV and BGV run the same integer program (exact arithmetic modulo t, CRT over
// several plaintext primes); they differ in the ciphertexts (BGV keeps the message
// in the low bits, so mod switching shrinks the noise) and in where the compiler
// places the mod switches. CKKS runs the real-number program.
enum class Scheme : std::uint8_t { bfv = 0, ckks = 1, bgv = 2 };  // values are stored in plan files
const char* scheme_name(Scheme s);          // "BFV" | "CKKS" | "BGV"
Scheme parse_scheme(const std::string& s);  // "bfv" | "ckks" | "bgv"; throws CompileError
// BFV or BGV: an exact integer program with BfvParams.
inline bool integer_scheme(Scheme s) { return s == Scheme::bfv || s == Scheme::bgv; }

// What the client must provide and what the server runs with.
struct BfvParams {
  std::size_t poly_degree = 0;
  std::vector<std::uint64_t> coeff_modulus;   // special prime last (SEAL convention)
  std::vector<std::uint64_t> plain_moduli;    // CRT primes; one full evaluation each
  int data_primes() const { return int(coeff_modulus.size()) - 1; }
};

// CKKS: one chain of primes; rescales drop them from the end.
struct CkksParams {
  std::size_t poly_degree = 0;
  std::vector<std::uint64_t> coeff_modulus;   // special prime last
  bool complex_packing = true;                // two images per complex slot (N images per ciphertext)
  double input_factor = 1.0;                  // input message = integer pixel * input_factor
  double noise_log2 = 0.0;                    // assumed log2 |noise| in message units (planning)
  double overflow_margin_bits = -1;           // fit: calibrated range + this many bits (< 0: worst-case bounds)
  int data_primes() const { return int(coeff_modulus.size()) - 1; }
  std::size_t images_per_ciphertext() const { return complex_packing ? poly_degree : poly_degree / 2; }
};

struct Output {
  int tensor = -1;
  std::string name;          // "m0", "m1", "ensemble"
  int member = -1;
  double scale = 1.0;        // real class score = integer / scale
  double log2_bound = 0.0;
  std::string combiner;      // ensemble outputs: "mean" | "weighted" | "poly-softmax" | "normalized" | "stacked"; empty for members
  // Differential privacy (Program::privacy): noise per class score, in score units (real =
  // integer / scale): L1 (Laplace) or L2 (Gaussian) sensitivity, Laplace b or Gaussian sigma,
  // and the truncation bound reserved in log2_bound. 0: no noise on this output.
  double dp_sensitivity = 0, dp_noise_scale = 0, dp_noise_bound = 0;
};

// Output privacy, applied by the coordinator to the combined outputs before they go back
// (runtime/output_privacy.h): differentially private answers, each class score of each
// image plus independent noise from a CSPRNG, truncated at the output's dp_noise_bound (a
// tail of probability < 2^-64 per sample), rounded to the output's fixed-point grid
// (post-processing). Member outputs are then not returned to the client.
struct OutputPrivacy {
  std::string mechanism;        // "" (none) | "laplace" (epsilon-DP) | "gaussian" ((epsilon, delta)-DP)
  double epsilon = 0, delta = 0;
  bool active() const { return !mechanism.empty(); }
};

// BFV: the quantization bits (compile() records its options') and how they were chosen
// (runtime/quantization.h searches them on calibration images; fixed bits: searched == false).
struct QuantizationChoice {
  bool searched = false;
  int input_bits = 0, weight_bits = 0, coeff_bits = 0;   // global bits
  std::vector<std::pair<std::string, int>> layer_bits;   // per-layer overrides ("m0/conv1", 8)
  double target = 0;                    // share of calibration images that must agree
  std::size_t calibration_images = 0;
  double agreement = 0;                 // lowest over the outputs (members, ensemble), calibration images
  double calibration_target = 0;        // what the calibration images had to meet (stricter: runtime/quantization.h)
  double default_agreement = 0;         // the same for the fixed default bits
  double cost = 0, default_cost = 0;    // compiler::predicted_cost_per_image of this plan / the defaults
  bool target_met = false;
  std::size_t evaluations = 0;          // candidate plans simulated on the calibration images
};

struct Program {
  std::string description;              // what was compiled
  Shape input_shape;                    // per image
  double input_scale = 1.0;             // input integer = round(raw * input_quant), see input_quant
  double input_quant = 1.0;             // raw 0..255 -> integer: round(raw * input_quant)
  std::vector<Instr> instrs;            // instrs[i] produces tensor i; instrs[0] is the input
  std::vector<Output> outputs;          // member outputs and the ensemble output (if any)
  int members = 1;
  std::vector<double> member_weights;   // ensemble: the weights actually used (after rounding)
  double temperature = 0;               // poly-softmax: T
  Scheme scheme = Scheme::bfv;
  BfvParams params;                     // scheme == bfv or bgv
  CkksParams ckks;                      // scheme == ckks
  double predicted_precision_bits = 0;  // CKKS: predicted bits of the outputs' worst-case bound above the noise
  double predicted_final_budget = 0.0;  // noise budget (bits) predicted at the outputs
  std::vector<std::string> keys;        // evaluation keys the client must send ("relin", "conjugation")
  // BLAKE2b-256 (hex) of each member's model (model_fingerprint, plan_io.h): a saved plan
  // is run only with the models it was compiled from.
  std::vector<std::string> member_digests;
  QuantizationChoice quantization;      // BFV and BGV
  OutputPrivacy privacy;                // ensembles: DP noise on the combined outputs

  std::size_t poly_degree() const { return scheme == Scheme::ckks ? ckks.poly_degree : params.poly_degree; }
  // Images in one encrypted batch.
  std::size_t batch_capacity() const { return scheme == Scheme::ckks ? ckks.images_per_ciphertext() : params.poly_degree; }

  std::size_t num_classes() const { return outputs.empty() ? 0 : instrs[outputs.back().tensor].size; }
  // Integer input for one image (raw bytes, CHW). Throws CompileError on a wrong size.
  std::vector<std::int64_t> quantize_input(const std::uint8_t* raw, std::size_t bytes) const;
};

}  // namespace hecnn::nn::compiler
