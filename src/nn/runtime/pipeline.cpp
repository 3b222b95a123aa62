#include "nn/runtime/pipeline.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "nn/model/forward.h"
#include "nn/runtime/combiners.h"
#include "nn/runtime/output_privacy.h"
#include "nn/runtime/inference.h"
#include "nn/runtime/interpreter.h"
#include "nn/runtime/quantization.h"

namespace hecnn::nn::runtime {

compiler::CompileOptions compile_options(const PlanRequest& req) {
  const bool ckks = req.scheme == compiler::Scheme::ckks;
  compiler::CompileOptions opt;
  opt.scheme = req.scheme;
  opt.input_bits = req.input_bits ? req.input_bits : (ckks ? 8 : 5);
  opt.weight_bits = req.weight_bits ? req.weight_bits : (ckks ? 10 : 6);
  opt.coeff_bits = req.coeff_bits ? req.coeff_bits : (ckks ? 12 : 8);
  opt.poly_degree = req.poly_degree;
  opt.batch_images = req.batch_images;
  opt.complex_packing = req.complex_packing;
  opt.ckks_precision_bits = req.ckks_precision_bits;
  opt.ckks_overflow_margin_bits = req.ckks_overflow_margin_bits;
  return opt;
}

namespace {
bool wants(const PlanRequest& req, compiler::Combiner c) {
  return std::find(req.combiners.begin(), req.combiners.end(), c) != req.combiners.end();
}
// BFV/BGV bits chosen on training images (when there are some).
bool searches_bits(const PlanRequest& req) {
  const bool all_fixed = req.input_bits && req.weight_bits && req.coeff_bits;
  return compiler::integer_scheme(req.scheme) && req.agreement_target > 0 && req.quantization_images > 0 && !all_fixed;
}
}  // namespace

bool fits_on_validation(std::span<const Model> members, const PlanRequest& req) {
  if (members.size() < 2) return false;
  return (wants(req, compiler::Combiner::poly_softmax) && req.temperature <= 0) || wants(req, compiler::Combiner::normalized) ||
         wants(req, compiler::Combiner::stacked);
}

TrainingNeed training_need(std::span<const Model> members, const PlanRequest& req) {
  const bool ckks = req.scheme == compiler::Scheme::ckks;
  if ((ckks && req.calibrate > 0) || fits_on_validation(members, req)) return TrainingNeed::required;
  if (searches_bits(req)) return TrainingNeed::optional;
  return TrainingNeed::none;
}

std::pair<std::size_t, std::size_t> validation_range(const PlanRequest& req, const Dataset& training) {
  if (req.validation_images == 0) throw std::invalid_argument("--validation-images must be at least 1");
  if (req.validation_images > training.count())
    throw std::invalid_argument("--validation-images " + std::to_string(req.validation_images) + ": the training part has only " +
                                std::to_string(training.count()) + " images");
  return {training.count() - req.validation_images, req.validation_images};
}

void fit_combiners(std::span<const Model> members, const PlanRequest& req, const Dataset& training, compiler::EnsembleOptions& ens,
                   CombinerFitReport* report) {
  if (!fits_on_validation(members, req)) return;
  const auto [first, count] = validation_range(req, training);
  const MemberLogits v = member_logits(members, training, first, count);
  if (report) {
    report->first = first;
    report->count = count;
  }
  if (wants(req, compiler::Combiner::poly_softmax) && req.temperature <= 0) {
    const auto t = fit_temperatures(v);
    ens.temperatures = t.temperature;
    ens.temperature_shifts = t.shift;
  }
  if (wants(req, compiler::Combiner::normalized)) {
    const auto a = fit_normalization(v);
    ens.normalized_weights = a.weights;
    ens.normalized_bias = a.bias;
    if (report) report->normalized_accuracy = combiner_accuracy(a, v);
  }
  if (wants(req, compiler::Combiner::stacked)) {
    const auto f = fit_stacker(v);
    ens.stacked_weights = f.combiner.weights;
    ens.stacked_bias = f.combiner.bias;
    if (report) report->stacked_accuracy = f.validation_accuracy;
    if (req.log) {
      char b[160];
      std::snprintf(b, sizeof b, "stacked combiner: fitted on training images %zu..%zu, accuracy there %.2f%%, loss %.4f", first,
                    first + count - 1, 100 * f.validation_accuracy, f.loss);
      req.log(b);
    }
  }
}

Dataset load_training(std::span<const Model> members, const PlanRequest& req, const std::string& dataset) {
  const TrainingNeed need = training_need(members, req);
  if (need == TrainingNeed::none) return {};
  if (need == TrainingNeed::required) return load_named_dataset(dataset, true);
  try {
    return load_named_dataset(dataset, true);
  } catch (const std::exception& e) {
    if (req.log) req.log(std::string("quantization: no training images to choose the bits on (") + e.what() + "); fixed bits");
    return {};
  }
}

compiler::Program make_plan(std::span<const Model> members, const PlanRequest& req, const Dataset* training) {
  if (members.empty()) throw std::invalid_argument("no model given");
  if (!(req.agreement_target >= 0 && req.agreement_target <= 1))
    throw std::invalid_argument("agreement target must lie in [0, 1] (0.999 is 99.9%; 0: fixed default bits)");
  const auto opt = compile_options(req);
  if (training && training->count() > 0 && training->image_size() != members[0].input.shape.size()) {
    // Needed only to choose BFV bits: fixed bits instead. Needed otherwise: an error.
    if (training_need(members, req) == TrainingNeed::required)
      throw std::invalid_argument("the training images have " + std::to_string(training->image_size()) + " values, the model expects " +
                                  std::to_string(members[0].input.shape.size()));
    if (req.log) req.log("quantization: the training images do not match the model's input; fixed bits");
    training = nullptr;
  }
  compiler::EnsembleOptions ens;
  if (!req.dp_mechanism.empty()) {
    if (members.size() < 2) throw std::invalid_argument("differential privacy applies to ensemble outputs: give at least two members");
    ens.privacy = {req.dp_mechanism, req.dp_epsilon, req.dp_mechanism == "gaussian" ? req.dp_delta : 0.0};
    // Checks epsilon / delta / mechanism before the expensive work.
    try {
      compiler::dp_noise(ens.privacy, 1.0);
    } catch (const compiler::CompileError& e) {
      throw std::invalid_argument(e.what());
    }
    if (!training || training->count() == 0)
      throw std::invalid_argument("differential privacy: the sensitivity is measured on validation images: give the training images");
    PlanRequest plain = req;
    plain.dp_mechanism.clear();
    plain.log = nullptr;
    const auto first = make_plan(members, plain, training);
    const auto [vfirst, vcount] = validation_range(req, *training);
    ens.dp_sensitivity = measure_sensitivity(first, member_logits(members, *training, vfirst, vcount), req.dp_mechanism);
    if (req.log)
      for (const auto& [c, sv] : ens.dp_sensitivity) {
        char b[160];
        std::snprintf(b, sizeof b, "differential privacy: %s combiner, %s sensitivity %.4g (validation images), epsilon %g",
                      compiler::combiner_name(c), req.dp_mechanism == "laplace" ? "L1" : "L2", sv, req.dp_epsilon);
        req.log(b);
      }
  }
  ens.combiners = req.combiners;
  ens.weights = req.weights;
  ens.temperature = req.temperature;
  if (members.size() > 1) {
    const auto has = [&](compiler::Combiner c) { return std::find(ens.combiners.begin(), ens.combiners.end(), c) != ens.combiners.end(); };
    if (has(compiler::Combiner::weighted_mean) && ens.weights.empty()) {
      for (const auto& m : members) {
        if (m.meta.test_accuracy < 0) throw std::invalid_argument("combiner weighted: give the weights (a model has no recorded accuracy)");
        ens.weights.push_back(m.meta.test_accuracy);
      }
    }
    if (fits_on_validation(members, req)) {
      if (!training || training->count() == 0)
        throw std::invalid_argument("combiners poly-softmax (without a temperature), normalized and stacked are fitted on labelled "
                                    "validation images: give the training images (or a poly-softmax temperature)");
      fit_combiners(members, req, *training, ens, nullptr);
    }
  }
  auto build = [&](const compiler::CompileOptions& opt) {
    auto prog = compiler::compile(members, ens, opt);
    if (opt.scheme == compiler::Scheme::ckks && req.calibrate > 0) {
      if (!training || training->count() == 0) throw std::invalid_argument("CKKS calibration needs training images (or calibrate = 0)");
      const std::size_t k = std::min(req.calibrate, training->count());
      calibrate_ckks(prog, opt, training->image(0), k, training->image_size());
      std::string note = ", ranges calibrated on " + std::to_string(k) + " training images";
      // Activation inputs' calibrated ranges (+ margin) decide which polynomial terms are
      // negligible; where that drops terms (fewer powers, fewer levels), compile and calibrate again.
      if (opt.ckks_overflow_margin_bits >= 0) {
        auto opt2 = opt;
        for (const auto& ins : prog.instrs) {
          const std::string layer = layer_of(ins.label);
          const auto slash = layer.rfind('/');
          if (slash == std::string::npos || layer.compare(slash + 1, 3, "act") != 0 || opt2.ckks_activation_log2_range.count(layer)) continue;
          const auto& in = prog.instrs[std::size_t(ins.inputs.at(0))];  // the first instruction of the activation reads its input
          if (in.log2_calibrated) opt2.ckks_activation_log2_range[layer] = *in.log2_calibrated + opt.ckks_overflow_margin_bits;
        }
        if (!opt2.ckks_activation_log2_range.empty()) {
          auto prog2 = compiler::compile(members, ens, opt2);
          if (prog2.instrs.size() != prog.instrs.size()) {
            calibrate_ckks(prog2, opt2, training->image(0), k, training->image_size());
            prog = std::move(prog2);
            note += ", polynomial terms negligible over them dropped";
          }
        }
      }
      prog.description += note;
    }
    return prog;
  };
  if (compiler::integer_scheme(opt.scheme)) {
    if (searches_bits(req) && training && training->count() > 0) {
      QuantizationRequest q;
      q.target = req.agreement_target;
      q.images = req.quantization_images;
      q.search_input = req.input_bits == 0;
      q.search_weights = req.weight_bits == 0;
      q.search_coeffs = req.coeff_bits == 0;
      q.log = req.log;
      return choose_quantization(members, ens, opt, *training, q);
    }
    return build(opt);
  }
  if (req.weight_bits != 0) return build(opt);
  // CKKS default weights: 12 bits where they cost no larger N and no more primes than 10
  // (CryptoNets, CryptoDL Model 1, tenseal2: larger primes only), else 10 (CryptoDL Model 2
  // would need N = 32768). Weight quantization, not noise, limits agreement with the float
  // model (Fashion-MNIST tenseal2: 99.75% at 10 bits, 99.98% at 12).
  auto fine = opt;
  fine.weight_bits = kCkksFineWeightBits;
  compiler::Program a;
  try {
    a = build(fine);
  } catch (const compiler::CompileError&) {
    return build(opt);  // no plan at the finer weights: the default ones decide
  }
  auto b = build(opt);
  if (a.ckks.poly_degree <= b.ckks.poly_degree && a.ckks.coeff_modulus.size() <= b.ckks.coeff_modulus.size()) return a;
  return b;
}

}  // namespace hecnn::nn::runtime
