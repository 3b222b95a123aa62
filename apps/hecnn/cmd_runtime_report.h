// Shared by `hecnn infer` and `hecnn demo`: loading inputs, running the encrypted
// pipeline and printing the report (text or JSON).
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "nn/compiler/compiler.h"
#include "nn/model/dataset.h"
#include "nn/model/forward.h"
#include "nn/model/model_io.h"
#include "nn/model/image.h"
#include "nn/model/pgm.h"
#include "nn/runtime/inference.h"

namespace hecnn::app {

inline constexpr const char* kPreprocessHelp =
    "how --image files become model input: auto (default: a PGM of the model's size as it is, any other image "
    "converted as MNIST was made: gray, polarity, 20x20 box, centre of mass at (14, 14)), mnist (always convert), "
    "none (as it is; must have the model's size)";

// --image: PGM, PNG or JPEG (nn/model/image.h), returned as the model's raw input (`want`).
// preprocess: auto | mnist | none (kPreprocessHelp). Throws naming the file on any problem.
// Without `want` (the client: the models live on the holders), auto takes a PGM as it is and
// converts any other image to MNIST's 28x28; none takes every image as it is.
inline std::vector<std::uint8_t> read_image(const std::string& path, const std::optional<nn::Shape>& want,
                                            const std::string& preprocess) {
  const std::string bytes = nn::read_file_bounded(path, std::size_t(256) << 20);
  try {
    return nn::image_to_input(bytes, want, preprocess);
  } catch (const nn::ModelError& e) {
    throw std::runtime_error(path + ": " + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
}

// --agreement-target: "99.9%", "99.9" (a percentage when above 1) or "0.999"; 0 turns
// the search off. Throws std::invalid_argument naming the option.
inline double parse_agreement_target(const std::string& text) {
  std::string t = text;
  const bool percent = !t.empty() && t.back() == '%';
  if (percent) t.pop_back();
  double v = 0;
  std::size_t used = 0;
  try {
    v = std::stod(t, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (t.empty() || used != t.size() || !std::isfinite(v))
    throw std::invalid_argument("--agreement-target '" + text + "': give a share such as 99.9% or 0.999 (0: fixed default bits)");
  if (percent || v > 1) v /= 100;
  if (v < 0 || v > 1) throw std::invalid_argument("--agreement-target '" + text + "': must lie between 0 and 100%");
  return v;
}

// The plan's quantization (BFV): chosen bits, agreement on calibration images, cost.
inline nlohmann::json quantization_json(const nn::compiler::Program& prog) {
  const auto& q = prog.quantization;
  nlohmann::json layers = nlohmann::json::object();
  for (const auto& [name, bits] : q.layer_bits) layers[name] = bits;
  return {{"searched", q.searched},
          {"input_bits", q.input_bits},
          {"weight_bits", q.weight_bits},
          {"coeff_bits", q.coeff_bits},
          {"layer_bits", layers},
          {"agreement_target", q.target},
          {"calibration_images", q.calibration_images},
          {"agreement_calibration", q.agreement},
          {"agreement_target_calibration", q.calibration_target},
          {"default_agreement_calibration", q.default_agreement},
          {"predicted_cost_per_image", q.cost},
          {"default_predicted_cost_per_image", q.default_cost},
          {"cost_vs_defaults", q.default_cost > 0 ? q.cost / q.default_cost : 1.0},
          {"target_met", q.target_met},
          {"evaluations", q.evaluations}};
}

inline std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

inline std::string mib(std::size_t b) { return fmt("%.1f MiB", double(b) / (1024.0 * 1024.0)); }

inline nlohmann::json report_json(const nn::compiler::Program& prog, const nn::runtime::InferReport& r) {
  const auto c = nn::compiler::cost(prog);
  nlohmann::json j;
  j["scheme"] = r.scheme;
  // run_quantized (`--simulate`): nothing was encrypted; the *_encrypted figures are then the
  // quantized plaintext model's and there is no noise budget.
  const bool encrypted = r.scheme.find("no encryption") == std::string::npos;
  j["encrypted"] = encrypted;
  j["program"] = prog.description;
  const bool ckks = prog.scheme == nn::compiler::Scheme::ckks;
  j["poly_degree"] = prog.poly_degree();
  j["images_per_ciphertext"] = prog.batch_capacity();
  if (ckks) {
    j["coeff_modulus"] = prog.ckks.coeff_modulus;
    j["complex_packing"] = prog.ckks.complex_packing;
    j["predicted_precision_bits"] = prog.predicted_precision_bits;
  } else {
    j["plain_moduli"] = prog.params.plain_moduli;
    j["coeff_modulus"] = prog.params.coeff_modulus;
    j["predicted_noise_budget_bits"] = prog.predicted_final_budget;
    j["quantization"] = quantization_json(prog);
  }
  // The plan's levels: data primes from each instruction where they change (mod switches,
  // CKKS rescales), in program order.
  j["levels"] = nlohmann::json::array();
  for (std::size_t i = 0, last = 0; i < prog.instrs.size(); ++i) {
    const auto& ins = prog.instrs[i];
    if (i == 0 || ins.level != prog.instrs[last].level) {
      j["levels"].push_back({{"instruction", ins.label}, {"level", ins.level}});
      last = i;
    }
  }
  j["images"] = r.images;
  j["batches"] = r.batches;
  j["depth"] = c.depth;
  j["ct_mults_per_residue"] = c.ct_mults;
  j["relins_per_residue"] = c.relins;
  j["scalar_mults_per_residue"] = c.scalar_mults;
  for (const auto& o : r.outputs) {
    const double n = double(r.images);
    nlohmann::json extra;
    if (ckks) {
      extra = {{"max_abs_error_vs_quantized", o.max_error}, {"max_abs_score", o.max_score},
               {"precision_bits", o.max_error > 0 ? std::log2(o.max_score / o.max_error) : 99.0}};
    } else {
      extra = {{"exact_scores", o.exact_scores / n}, {"min_noise_budget_bits", o.min_noise_budget}};
      if (!encrypted) extra["min_noise_budget_bits"] = nullptr;
    }
    j["outputs"].push_back({{"name", o.name},
                            {"accuracy_encrypted", o.correct / n},
                            {"accuracy_plaintext_float", o.plain_correct / n},
                            {"accuracy_plaintext_quantized", o.quant_correct / n},
                            {"agreement_float", o.agree_float / n},
                            {"agreement_quantized", o.agree_quantized / n},
                            {"predictions_first_100", std::vector<int>(o.predictions.begin(),
                                                                       o.predictions.begin() + std::ptrdiff_t(std::min<std::size_t>(100, o.predictions.size())))},
                            {"scores_first_100", o.scores},
                            {"predictions", o.predictions}});
    j["outputs"].back().update(extra);
  }
  for (const auto& l : r.layers) j["layers"].push_back({{"layer", l.layer}, {"seconds", l.seconds}, {"cpu_seconds", l.cpu_seconds}, {"ciphertexts_out", l.ciphertexts_out}});
  j["seconds"] = {{"keygen", r.keygen_s}, {"encrypt", r.encrypt_s}, {"evaluate", r.evaluate_s}, {"decrypt", r.decrypt_s}, {"total", r.total_s}};
  j["evaluate_cpu_seconds"] = r.evaluate_cpu_s;
  j["images_per_second"] = r.images_per_second();
  j["images_per_second_end_to_end"] = r.total_s > 0 ? double(r.images) / r.total_s : 0.0;
  j["bytes"] = {{"input", r.input_bytes}, {"output", r.output_bytes}, {"evaluation_keys", r.key_bytes}};
  j["peak_rss_bytes"] = r.peak_rss_bytes;
  if (prog.scheme == nn::compiler::Scheme::ckks) {
    j["execution_order"] = r.streaming ? "streaming" : "layer";
    j["estimated_memory_bytes"] = r.estimated_bytes;
  }
  return j;
}

inline void print_report(const nn::compiler::Program& prog, const nn::runtime::InferReport& r, bool labels) {
  std::printf("\nresults on %zu images (%zu batch%s of up to %zu, %s):\n", r.images, r.batches, r.batches == 1 ? "" : "es",
              prog.batch_capacity(), r.scheme.c_str());
  const bool ckks = prog.scheme == nn::compiler::Scheme::ckks;
  if (ckks) {
    std::printf("  %-14s %10s %10s %10s %12s %12s %14s %10s\n", "output", "acc HE", "acc quant", "acc float", "agree float",
                "agree quant", "max |error|", "precision");
  } else {
    std::printf("  %-14s %10s %10s %10s %12s %12s %12s %8s\n", "output", "acc HE", "acc quant", "acc float", "agree float",
                "agree quant", "exact scores", "budget");
  }
  for (const auto& o : r.outputs) {
    const double n = double(r.images);
    if (ckks) {
      std::printf("  %-14s %10s %10s %10s %12s %12s %14s %8.1f b\n", o.name.c_str(),
                  labels ? fmt("%.2f%%", 100.0 * o.correct / n).c_str() : "-",
                  labels ? fmt("%.2f%%", 100.0 * o.quant_correct / n).c_str() : "-",
                  labels ? fmt("%.2f%%", 100.0 * o.plain_correct / n).c_str() : "-", fmt("%.2f%%", 100.0 * o.agree_float / n).c_str(),
                  fmt("%.2f%%", 100.0 * o.agree_quantized / n).c_str(), fmt("%.3g", o.max_error).c_str(),
                  o.max_error > 0 ? std::log2(o.max_score / o.max_error) : 99.0);
      continue;
    }
    std::printf("  %-14s %10s %10s %10s %12s %12s %12s %6d b\n", o.name.c_str(),
                labels ? fmt("%.2f%%", 100.0 * o.correct / n).c_str() : "-",
                labels ? fmt("%.2f%%", 100.0 * o.quant_correct / n).c_str() : "-",
                labels ? fmt("%.2f%%", 100.0 * o.plain_correct / n).c_str() : "-", fmt("%.2f%%", 100.0 * o.agree_float / n).c_str(),
                fmt("%.2f%%", 100.0 * o.agree_quantized / n).c_str(), fmt("%.2f%%", 100.0 * o.exact_scores / n).c_str(),
                o.min_noise_budget);
  }
  if (ckks) {
    std::printf("  (max |error|: largest difference of a decrypted score from the quantized model's, in logit units;\n"
                "   precision: log2 of the largest score over that error)\n");
    std::printf("\nserver time per layer (summed over batches):\n");
  } else {
    std::printf("\nserver time per layer (summed over batches and %zu CRT prime%s):\n", prog.params.plain_moduli.size(),
                prog.params.plain_moduli.size() > 1 ? "s" : "");
  }
  for (const auto& l : r.layers) {
    std::printf("  %-22s %9.3f s wall %9.3f s CPU  (%zu ciphertexts out)\n", l.layer.c_str(), l.seconds, l.cpu_seconds,
                l.ciphertexts_out);
  }
  std::printf("\ntime: keygen %.2f s, encrypt %.2f s, evaluate %.2f s, decrypt %.2f s, total %.2f s\n", r.keygen_s, r.encrypt_s,
              r.evaluate_s, r.decrypt_s, r.total_s);
  std::printf("throughput: %.1f images/s (server evaluation), %.1f images/s end to end; server CPU time %.2f s (all threads)\n",
              r.images_per_second(), r.total_s > 0 ? double(r.images) / r.total_s : 0.0, r.evaluate_cpu_s);
  std::printf("bytes: encrypted input %s, encrypted outputs %s, evaluation keys %s; peak memory %s\n", mib(r.input_bytes).c_str(),
              mib(r.output_bytes).c_str(), mib(r.key_bytes).c_str(), mib(r.peak_rss_bytes).c_str());
}

}  // namespace hecnn::app
