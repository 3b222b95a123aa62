// The one way from models to a runnable plan. It owns the defaults of both schemes,
// the ensemble weights and poly-softmax temperature, compilation and CKKS
// calibration; `hecnn infer`, `hecnn demo` and the benchmarks call it.
//
//   runtime::PlanRequest req;                       // BFV: bits chosen for 99.9% agreement
//   req.scheme = compiler::Scheme::ckks;            // CKKS: 8/10 (or 12)/12 bits, ranges calibrated
//   auto prog = runtime::make_plan(members, req, &training_set);
//   compiler::write_plan(prog, "m.hplan");          // plan_io.h: ship it, run it later
//
// Cost: compilation is milliseconds to seconds; CKKS calibration runs the program in
// doubles on `calibrate` images (seconds for CryptoDL-sized networks).
#pragma once

#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "nn/compiler/compiler.h"
#include "nn/compiler/program.h"
#include "nn/model/dataset.h"
#include "nn/model/model.h"

namespace hecnn::nn::runtime {

struct PlanRequest {
  compiler::Scheme scheme = compiler::Scheme::bfv;
  // 0: the scheme's default. BFV pays for every bit with plaintext modulus (CRT primes):
  // 5 / 6 / 8; CKKS only with levels: 8 / 10 / 12 (weights 12 where free, see make_plan).
  int input_bits = 0, weight_bits = 0, coeff_bits = 0;
  std::size_t poly_degree = 0;        // 0: automatic
  std::size_t batch_images = 0;       // expected images (parameter choice); 0: one full batch
  bool complex_packing = true;        // CKKS: two images per complex slot
  int ckks_precision_bits = 20;       // CKKS: bits above the noise, relative to the calibrated ranges
  int ckks_overflow_margin_bits = 10; // CKKS: fit calibrated range + this many bits (-1: worst-case bounds)
  std::size_t calibrate = 512;        // CKKS: training images whose value ranges set the targets (0: none)
  // BFV: the quantization bits not given above are chosen (runtime/quantization.h) so that
  // the quantized model agrees with the float model on this share of the first
  // `quantization_images` training images; 0 (or no training images): the fixed defaults.
  double agreement_target = 0.999;
  std::size_t quantization_images = 10000;
  std::function<void(const std::string&)> log;  // progress lines of the quantization search
  // Ensembles (ignored for one model).
  std::vector<compiler::Combiner> combiners = {compiler::Combiner::mean};
  std::vector<double> weights;        // weighted: one per member; empty: each model's recorded test accuracy
  double temperature = 0;             // poly-softmax: > 0 one T for all members; 0: one T per member fitted
  // poly-softmax (temperature 0), normalized and stacked are fitted (runtime/combiners.h) on the
  // last `validation_images` images of the training part: the coordinator's labelled
  // validation set, never the images scored (hecnn report-splits withholds them from members).
  std::size_t validation_images = 5000;
  // Differentially private combined outputs (runtime/output_privacy.h): "laplace" or
  // "gaussian" (empty: none), epsilon and delta; the sensitivity of each combiner is measured
  // on the validation images (a plan is compiled once without noise for it).
  std::string dp_mechanism;
  double dp_epsilon = 0, dp_delta = 1e-5;
};

// The compiler options a request stands for (the scheme defaults filled in; CKKS weights
// 10 bits, which make_plan raises to kCkksFineWeightBits where that costs nothing).
compiler::CompileOptions compile_options(const PlanRequest& req);

// CKKS, weight_bits == 0: make_plan compiles at these bits and at 10 and keeps these when
// the plan needs no larger N and no more primes (calibration runs twice).
inline constexpr int kCkksFineWeightBits = 12;

// Compiles members (one model or an ensemble) and, for CKKS with calibrate > 0,
// calibrates on the first `calibrate` images of `training` (never the images scored
// later). `training` may be null when neither calibration nor a temperature needs it.
// Throws std::invalid_argument (bad request, missing weights or data) or CompileError.
compiler::Program make_plan(std::span<const Model> members, const PlanRequest& req, const Dataset* training);

// Whether a request fits combiners on validation images (an ensemble with poly-softmax
// without a temperature, normalized or stacked).
bool fits_on_validation(std::span<const Model> members, const PlanRequest& req);
// [first, first + count) of the training part that serves as validation images; throws
// std::invalid_argument when validation_images is 0 or more than the training part holds.
std::pair<std::size_t, std::size_t> validation_range(const PlanRequest& req, const Dataset& training);
struct CombinerFitReport {
  std::size_t first = 0, count = 0;
  double normalized_accuracy = -1, stacked_accuracy = -1;  // on the validation images; -1: not fitted
};
// Fills ens's fitted combiner parameters for req (nothing when none is fitted).
void fit_combiners(std::span<const Model> members, const PlanRequest& req, const Dataset& training, compiler::EnsembleOptions& ens,
                   CombinerFitReport* report);

// What make_plan needs training images for: `required` (CKKS calibration, a poly-softmax
// temperature to choose), `optional` (only the BFV bits: without them, the fixed bits), `none`.
enum class TrainingNeed { none, optional, required };
TrainingNeed training_need(std::span<const Model> members, const PlanRequest& req);

// The training part of `dataset` (load_named_dataset) when make_plan needs it, else empty. A
// dataset that is missing throws when required; when optional it gives empty (req.log says why).
Dataset load_training(std::span<const Model> members, const PlanRequest& req, const std::string& dataset);


}  // namespace hecnn::nn::runtime
