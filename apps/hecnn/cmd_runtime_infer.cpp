// `hecnn infer`: one model or an encrypted ensemble on a dataset or on image files.
//
//   hecnn infer --model models/a.hecnn --dataset mnist --count 8192
//   hecnn infer --model m0.hecnn --model m1.hecnn --model m2.hecnn --combiner weighted --json
//   hecnn infer --model m.hecnn --image digit.pgm --image other.pgm
//   hecnn infer --model m.hecnn --plan          (cost report only, nothing encrypted)
#include "hecnn/cmd_runtime_report.h"
#include "hecnn/cmd_runtime_single.h"
#include "hecnn/command.h"
#include "nn/compiler/plan_io.h"
#include "nn/compiler/schedule.h"
#include "nn/runtime/pipeline.h"

#include <algorithm>
#include <filesystem>
#include <iostream>

namespace hecnn::app {
namespace {

struct Args {
  std::vector<std::string> models, images;
  std::string preprocess = "auto";
  std::string dataset = "mnist", scheme = "bfv";
  std::vector<std::string> combiners = {"mean"};
  double temperature = 0;
  std::vector<double> weights;
  std::size_t count = 0, offset = 0, batch = 0, poly_degree = 0;
  int input_bits = 0, weight_bits = 0, coeff_bits = 0, ckks_precision = 20;
  bool real_packing = false;
  std::size_t calibrate = 512;
  std::string agreement_target = "99.9%";
  bool json = false, plan = false, no_check = false, quiet = false, simulate = false, streaming = false;
  bool scheme_given = false, calibrate_given = false, combiner_given = false;
  double memory_limit_gib = 0;
  int overflow_margin = 10;
  std::string save_plan, load_plan;
  std::string mode = "batch";
  std::size_t images_per_ciphertext = 1;
  std::string packing = "auto";
  std::size_t max_galois_key_mib = 4096;
  bool max_galois_key_given = false;
  std::string batch_flags_given;    // batch-mode options on the command line (refused with --mode single)
  std::string compile_flags_given;  // compile options on the command line (refused with --load-plan)
};

// The compiled plan: loaded from --load-plan (checked against the models), or made by
// the library's pipeline (defaults, weights, temperature, calibration).
nn::compiler::Program plan_for(const Args& a, std::span<const nn::Model> members, std::size_t count) {
  if (!a.load_plan.empty()) {
    if (!a.compile_flags_given.empty())
      throw std::invalid_argument("--load-plan: the plan fixes how the model is compiled; drop " + a.compile_flags_given);
    auto prog = nn::compiler::read_plan(a.load_plan);
    if (std::size_t(prog.members) != members.size())
      throw std::invalid_argument(a.load_plan + ": the plan has " + std::to_string(prog.members) + " member(s), " +
                                  std::to_string(members.size()) + " --model given");
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (!prog.member_digests.empty() && prog.member_digests[i] != nn::compiler::model_fingerprint(members[i]))
        throw std::invalid_argument(a.load_plan + ": member " + std::to_string(i) + " of the plan was compiled from a different model than " +
                                    a.models[i]);
    }
    if (!(prog.input_shape == members[0].input.shape)) throw std::invalid_argument(a.load_plan + ": the plan's input shape differs from the model's");
    return prog;
  }
  nn::runtime::PlanRequest req;
  req.scheme = nn::compiler::parse_scheme(a.scheme);
  req.input_bits = a.input_bits;
  req.weight_bits = a.weight_bits;
  req.coeff_bits = a.coeff_bits;
  req.poly_degree = a.poly_degree;
  req.batch_images = a.batch ? std::min(a.batch, count) : count;
  req.complex_packing = !a.real_packing;
  req.ckks_precision_bits = a.ckks_precision;
  req.ckks_overflow_margin_bits = a.overflow_margin;
  req.calibrate = a.calibrate;
  req.agreement_target = parse_agreement_target(a.agreement_target);
  if (a.calibrate_given) req.quantization_images = a.calibrate;
  if (!a.quiet) req.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  req.combiners.clear();
  for (const auto& c : a.combiners) req.combiners.push_back(nn::compiler::parse_combiner(c));
  req.weights = a.weights;
  req.temperature = a.temperature;
  // Training images (never the test images being scored): CKKS ranges, poly-softmax
  // temperature, the BFV bits.
  const nn::Dataset train = nn::runtime::load_training(members, req, a.dataset);
  return nn::runtime::make_plan(members, req, &train);
}

void run(const Args& a) {
  if (a.models.empty()) throw std::invalid_argument("give at least one --model");
  if (a.models.size() == 1 && a.load_plan.empty() && (a.combiner_given || !a.weights.empty()))
    throw std::invalid_argument(std::string(a.combiner_given ? "--combiner" : "--weights") +
                                " combines the outputs of an ensemble: give two or more --model (one model has no "
                                "ensemble output)");
  if (a.memory_limit_gib < 0 || !std::isfinite(a.memory_limit_gib)) throw std::invalid_argument("--memory-limit must be a positive number of GiB");
  if (!a.save_plan.empty()) {
    const auto dir = std::filesystem::absolute(a.save_plan).parent_path();
    if (!std::filesystem::is_directory(dir)) throw std::invalid_argument("--save-plan: directory " + dir.string() + " does not exist");
  }
  if (a.streaming && a.load_plan.empty() && nn::compiler::parse_scheme(a.scheme) != nn::compiler::Scheme::ckks)
    throw std::invalid_argument("--streaming applies to --scheme ckks only");
  if (a.mode != "batch" && a.mode != "single") throw std::invalid_argument("--mode " + a.mode + ": use batch (default) or single");
  if (a.mode == "single") {
    // Refused before anything is read or compiled.
    if (a.scheme_given && a.scheme != "ckks") throw std::invalid_argument("--mode single is CKKS only (drop --scheme " + a.scheme + ")");
    if (!a.batch_flags_given.empty()) throw std::invalid_argument("--mode single: " + a.batch_flags_given + " apply to the batch mode only");
    const std::size_t K = a.images_per_ciphertext;
    if ((K & (K - 1)) != 0) {
      throw std::invalid_argument("--images-per-ciphertext " + std::to_string(K) + ": use a power of two (1, 2, 4, ...)");
    }
  } else if (a.images_per_ciphertext != 1) {
    throw std::invalid_argument("--images-per-ciphertext applies to --mode single");
  } else if (a.packing != "auto") {
    throw std::invalid_argument("--packing applies to --mode single");
  } else if (a.max_galois_key_given) {
    throw std::invalid_argument("--max-galois-key-mib applies to --mode single");
  }
  std::vector<nn::Model> members;
  for (const auto& p : a.models) members.push_back(nn::read_model(p));

  // Inputs.
  std::vector<std::uint8_t> images, labels;
  std::size_t count = 0, image_size = members[0].input.shape.size();
  if (!a.images.empty()) {
    for (const auto& p : a.images) {
      auto px = read_image(p, members[0].input.shape, a.preprocess);
      images.insert(images.end(), px.begin(), px.end());
      ++count;
    }
  } else {
    nn::Dataset ds = nn::load_named_dataset(a.dataset, false);
    if (ds.image_size() != image_size) {
      throw std::invalid_argument("dataset " + a.dataset + " has images of " + std::to_string(ds.image_size()) +
                                  " values, the model expects " + std::to_string(image_size));
    }
    if (a.offset >= ds.count()) throw std::invalid_argument("--offset beyond the dataset");
    const std::size_t def = a.mode == "single" ? std::size_t(100) : std::size_t(8192);
    count = std::min(a.count ? a.count : def, ds.count() - a.offset);
    images.assign(ds.image(a.offset), ds.image(a.offset) + count * image_size);
    labels.assign(ds.labels.begin() + std::ptrdiff_t(a.offset), ds.labels.begin() + std::ptrdiff_t(a.offset + count));
  }
  if (a.mode == "single") {
    SingleArgs s;
    s.dataset = a.dataset;
    s.poly_degree = a.poly_degree;
    s.images_per_ciphertext = a.images_per_ciphertext;
    s.packing = a.packing;
    s.max_galois_key_mib = a.max_galois_key_mib;
    s.calibrate = a.calibrate_given ? a.calibrate : 256;
    s.plan = a.plan;
    s.json = a.json;
    s.quiet = a.quiet;
    if (a.combiner_given) {
      if (a.combiners.size() != 1) throw std::invalid_argument("--mode single: one --combiner (mean or weighted)");
      s.combiner = a.combiners[0];
    }
    s.weights = a.weights;
    s.save_plan = a.save_plan;
    s.load_plan = a.load_plan;
    if (!a.load_plan.empty() && !a.compile_flags_given.empty())
      throw std::invalid_argument("--load-plan: the plan fixes how the model is compiled; drop " + a.compile_flags_given);
    run_single(s, members, images, labels, count, a.images);
    return;
  }
  const auto prog = plan_for(a, members, count);
  const bool ckks = prog.scheme == nn::compiler::Scheme::ckks;
  if (a.streaming && !ckks) throw std::invalid_argument("--streaming applies to --scheme ckks only");
  if (!a.save_plan.empty()) {
    nn::compiler::write_plan(prog, a.save_plan);
    std::fprintf(stderr, "wrote plan %s\n", a.save_plan.c_str());
  }
  if (!a.json) std::printf("%s", nn::compiler::cost_report(prog).c_str());
  if (a.plan) {
    if (a.json) {
      const auto c = nn::compiler::cost(prog);
      nlohmann::json j = {{"program", prog.description}, {"scheme", nn::compiler::scheme_name(prog.scheme)},
                          {"poly_degree", prog.poly_degree()}, {"images_per_ciphertext", prog.batch_capacity()},
                          {"coeff_modulus", ckks ? prog.ckks.coeff_modulus : prog.params.coeff_modulus},
                          {"plain_moduli", prog.params.plain_moduli}, {"depth", c.depth}, {"ct_mults", c.ct_mults},
                          {"rescales", c.rescales}, {"conjugations", c.conjugations},
                          {"predicted_precision_bits", prog.predicted_precision_bits},
                          {"relins", c.relins}, {"scalar_mults", c.scalar_mults}, {"peak_bytes", c.peak_bytes},
                          {"input_bytes", c.input_bytes}, {"output_bytes", c.output_bytes}, {"keys", prog.keys},
                          {"predicted_noise_budget_bits", prog.predicted_final_budget}};
      if (!ckks) j["quantization"] = quantization_json(prog);
      // Data primes at the end of each layer (all schemes); CKKS also streaming memory.
      std::vector<int> levels;
      for (const auto& ins : prog.instrs)
        if (ins.is_layer_end) levels.push_back(ins.level);
      j["levels_per_layer"] = levels;
      j["mod_switches"] = c.mod_switches;
      j["key_bytes"] = c.key_bytes;
      if (ckks) j["streaming_peak_bytes"] = nn::compiler::schedule_peak_bytes(prog, true);
      std::cout << j.dump(2) << "\n";
    }
    return;
  }
  if (a.simulate) {
    const auto rep = nn::runtime::run_quantized(prog, members, images.data(), count, image_size, labels.empty() ? nullptr : labels.data());
    if (a.json) {
      std::cout << report_json(prog, rep).dump(2) << "\n";
      return;
    }
    std::printf("\nquantized plaintext model (%s, no encryption) on %zu images, %.2f s:\n",
                ckks ? "the CKKS program's integers in double precision" : "exact integers", rep.images, rep.total_s);
    for (const auto& o : rep.outputs) {
      std::printf("  %-10s accuracy %.2f%% (float %.2f%%), agreement with float %.2f%%\n", o.name.c_str(), 100.0 * o.correct / count,
                  100.0 * o.plain_correct / count, 100.0 * o.agree_float / count);
    }
    return;
  }
  nn::runtime::InferOptions io;
  io.batch = a.batch;
  io.check_quantized = !a.no_check;
  io.progress = !a.json && !a.quiet;
  if (a.streaming) io.streaming = 1;
  io.memory_limit = std::size_t(a.memory_limit_gib * double(std::size_t(1) << 30));
  const auto rep = nn::runtime::run_encrypted(prog, members, images.data(), count, image_size, labels.empty() ? nullptr : labels.data(), io);
  if (a.json) {
    std::cout << report_json(prog, rep).dump(2) << "\n";
    return;
  }
  print_report(prog, rep, !labels.empty());
  if (!a.images.empty()) {
    std::printf("\npredictions (decrypted by the client; image files carry no labels):\n");
    for (std::size_t i = 0; i < a.images.size(); ++i) {
      std::printf("  %s:", a.images[i].c_str());
      for (const auto& o : rep.outputs) std::printf(" %s=%d", o.name.c_str(), o.predictions.at(i));
      std::printf("\n");
    }
  }
}

void setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  app.add_option("--model", a->models, "model file (repeat for an ensemble)")->required();
  app.add_option("--image", a->images, "image file(s) instead of a dataset: PNG, JPEG or binary PGM, any size (see --preprocess)");
  app.add_option("--preprocess", a->preprocess, kPreprocessHelp)->check(CLI::IsMember({"auto", "mnist", "none"}));
  app.add_option("--dataset", a->dataset, "dataset name (test part): mnist, fashion-mnist, ...");
  app.add_option("--mode", a->mode, "batch (default: one image per slot, thousands per ciphertext) or single (one image per request, CKKS, low latency)");
  app.add_option("--images-per-ciphertext", a->images_per_ciphertext, "--mode single: images side by side in one ciphertext (LoLa's stacking; a power of two, default 1)")
      ->check(CLI::Range(std::size_t(1), std::size_t(1) << 16));
  app.add_option("--packing", a->packing, "--mode single: the client's input layout: auto (im2col for a first convolution when it fits 2 ciphertexts), im2col, chw");
  app.add_option("--max-galois-key-mib", a->max_galois_key_mib,
                 "--mode single: Galois keys (sent once per session) at most this many MiB; steps beyond it are composed from "
                 "fewer keys, each costing more key switches (default 4096; 0: no limit)")
      ->check(CLI::Range(std::size_t(0), std::size_t(1) << 24));
  app.add_option("--count", a->count, "number of test images (1..10000000; default 8192, --mode single 100)")->check(CLI::Range(std::size_t(1), std::size_t(10000000)));
  app.add_option("--offset", a->offset, "first test image")->check(CLI::Range(std::size_t(0), std::size_t(100000000)));
  app.add_option("--batch", a->batch, "images per encrypted batch (default: N slots)")->check(CLI::Range(std::size_t(1), std::size_t(1) << 20));
  app.add_option("--scheme", a->scheme, "bfv (exact, default), bgv (exact; mod switches keep the noise down) or ckks (approximate)");
  app.add_option("--ckks-precision", a->ckks_precision, "CKKS: bits kept above the noise, relative to the calibrated value ranges (8..40, default 20)");
  app.add_option("--calibrate", a->calibrate,
                 "training images that calibrate the plan: CKKS value ranges (default 512; 0: worst-case bounds), BFV quantization "
                 "choice (default 10000; 0: fixed default bits)")
      ->check(CLI::Range(std::size_t(0), std::size_t(1000000)));
  app.add_option("--agreement-target", a->agreement_target,
                 "BFV: bits not given are chosen so the quantized model agrees with the float model on this share of the calibration "
                 "images (default 99.9%; 0: fixed default bits 5/6/8)");
  app.add_option("--ckks-overflow-margin", a->overflow_margin,
                 "CKKS with calibration: messages fit the calibrated range plus this many bits (default 10; -1: worst-case bounds)");
  app.add_flag("--streaming", a->streaming, "CKKS: streaming execution order (bounded memory); default: automatic, when layer order does not fit");
  app.add_option("--memory-limit", a->memory_limit_gib, "GiB the run may use for ciphertexts and keys (default: 80% of available memory)");
  app.add_flag("--real-packing", a->real_packing, "CKKS: one image per slot (N/2 per ciphertext) instead of two per complex slot");
  app.add_option("--combiner", a->combiners, "ensemble combiner(s): mean, weighted, poly-softmax, normalized, stacked (comma list: one output each; the last three are fitted on the last 5,000 training images, docs/combiners.md)")->delimiter(',');
  app.add_option("--temperature", a->temperature, "poly-softmax temperature T (default: from the members' logit bounds)");
  app.add_option("--weights", a->weights, "weighted combiner: one weight per member (default: recorded test accuracy)")->delimiter(',');
  app.add_option("--input-bits", a->input_bits, "bits per encrypted pixel (1..8; BFV default: chosen, see --agreement-target, else 5; CKKS 8)");
  app.add_option("--weight-bits", a->weight_bits, "signed bits per weight, every layer (2..24; BFV default: chosen per layer, else 6; CKKS 12 where that needs no larger N or more primes, else 10)");
  app.add_option("--coeff-bits", a->coeff_bits, "fractional bits of activation coefficients (BFV default: chosen per layer, else 8; CKKS 12)");
  app.add_option("--poly-degree", a->poly_degree, "force N (4096, 8192, 16384; --mode single also 32768); default automatic");
  app.add_flag("--plan", a->plan, "print the compiled program's cost report and stop");
  app.add_option("--save-plan", a->save_plan, "write the compiled (and calibrated) plan to this file (docs/plan-format.md; --mode single: a packed plan, nn/compiler/packed_io.h)");
  app.add_option("--load-plan", a->load_plan, "run this saved plan instead of compiling (the --model files must be the ones it was compiled from)");
  app.add_flag("--simulate", a->simulate, "run only the quantized plaintext model (exact integers) and report its accuracy");
  app.add_flag("--no-check", a->no_check, "skip the exact comparison with the quantized plaintext model");
  app.add_flag("--quiet", a->quiet, "no progress bar");
  app.add_flag("--json", a->json, "machine-readable summary on stdout");
  app.callback([a, &app] {
    a->scheme_given = app.count("--scheme") > 0;
    a->calibrate_given = app.count("--calibrate") > 0;
    a->combiner_given = app.count("--combiner") > 0;
    a->max_galois_key_given = app.count("--max-galois-key-mib") > 0;
    for (const char* f : {"--batch", "--streaming", "--memory-limit", "--real-packing", "--temperature", "--agreement-target",
                          "--input-bits", "--weight-bits", "--coeff-bits", "--ckks-precision", "--ckks-overflow-margin",
                          "--simulate", "--no-check"})
      if (app.count(f) > 0) a->batch_flags_given += (a->batch_flags_given.empty() ? "" : ", ") + std::string(f);
    for (const char* f : {"--scheme", "--ckks-precision", "--calibrate", "--agreement-target", "--ckks-overflow-margin", "--real-packing", "--combiner", "--temperature",
                          "--weights", "--input-bits", "--weight-bits", "--coeff-bits", "--poly-degree", "--images-per-ciphertext", "--packing", "--max-galois-key-mib"})
      if (app.count(f) > 0) a->compile_flags_given += (a->compile_flags_given.empty() ? "" : ", ") + std::string(f);
    run(*a);
  });
}

const bool registered = register_command({"infer", "Encrypted inference: batch (one model or an ensemble) or single-image", &setup});

}  // namespace
}  // namespace hecnn::app
