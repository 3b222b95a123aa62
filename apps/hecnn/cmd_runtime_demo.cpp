// `hecnn demo`: the README's main job. A 3-model CNN ensemble (seed 001, Algorithm 1)
// classifies encrypted MNIST test images end to end, in one process:
//   1. the client makes BFV keys (the secret key never leaves it) and encrypts a batch,
//   2. three model holders each evaluate their member on the ciphertexts (evaluation keys only),
//   3. the coordinator combines the encrypted member outputs (mean, weighted mean, ...),
//   4. the client decrypts the ensemble (and each member's) scores.
// Every prediction is checked against the quantized plaintext ensemble (must be identical)
// and compared with the float models.
//
//   hecnn demo                       # default ensemble from models/, one batch of 8192 test images
//   hecnn demo --count 10000         # the whole MNIST test set
//   hecnn demo --models a.hecnn,b.hecnn,c.hecnn --combiner mean,weighted,poly-softmax --json
//   hecnn demo --scheme ckks         # approximate CKKS instead of exact BFV (two images per slot)
#include "hecnn/cmd_runtime_report.h"
#include "nn/model/dataset.h"
#include "nn/runtime/pipeline.h"
#include "hecnn/command.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>

namespace hecnn::app {
namespace {

struct Args {
  std::vector<std::string> models;
  std::vector<std::string> combiners = {"mean", "weighted"};
  std::string dataset = "mnist", scheme = "bfv";
  std::size_t count = 8192;
  int input_bits = 0, weight_bits = 0;
  std::string agreement_target = "99.9%";
  bool json = false, quiet = false;
};

// The models directory: ./models, else the one beside the data directory (nn::data_root:
// HECNN_DATA_DIR, or ./data or the nearest parent's), so the demo runs from build/ too.
std::vector<std::filesystem::path> model_dirs() {
  namespace fs = std::filesystem;
  std::vector<fs::path> dirs = {fs::path("models")};
  const fs::path beside = fs::path(nn::data_root()).parent_path() / "models";
  std::error_code ec;
  if (fs::absolute(beside, ec).lexically_normal() != fs::absolute(dirs[0], ec).lexically_normal()) dirs.push_back(beside);
  return dirs;
}

// <dir>/default/member{0,1,2}.hecnn (the committed default ensemble); otherwise
// <dir>/<stem>-m0.hecnn, -m1, -m2: the first complete set, preferring cryptonets.
std::vector<std::string> default_ensemble() {
  namespace fs = std::filesystem;
  std::map<std::string, std::vector<std::string>> sets;
  std::string looked;
  for (const fs::path& dir : model_dirs()) {
    std::error_code ec;
    looked += (looked.empty() ? "" : ", ") + fs::absolute(dir, ec).lexically_normal().string();
    std::vector<std::string> files;
    for (int i = 0; i < 3; ++i) files.push_back((dir / "default" / ("member" + std::to_string(i) + ".hecnn")).string());
    if (std::all_of(files.begin(), files.end(), [](const std::string& f) { return fs::exists(f); })) return files;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const std::string name = e.path().filename().string();
      const auto pos = name.rfind("-m0.hecnn");
      if (pos == std::string::npos || pos + 9 != name.size()) continue;
      const std::string stem = name.substr(0, pos);
      std::vector<std::string> set;
      for (int i = 0; i < 3; ++i) set.push_back((dir / (stem + "-m" + std::to_string(i) + ".hecnn")).string());
      if (std::all_of(set.begin(), set.end(), [](const std::string& f) { return fs::exists(f); })) sets.emplace(stem, set);
    }
    if (!sets.empty()) break;
  }
  if (sets.empty()) {
    throw std::runtime_error(
        "no default ensemble found (looked in " + looked +
        " for default/member0..2.hecnn or <name>-m0..2.hecnn: ./models, then the models/ beside the data directory, which "
        "is HECNN_DATA_DIR when set); train one with\n"
        "  hecnn train --arch cryptonets --split regular --setting 3 --member all --out models/ensemble.hecnn\n"
        "or pass --models a.hecnn,b.hecnn,c.hecnn");
  }
  for (const auto& [stem, files] : sets)
    if (stem.find("cryptonets") != std::string::npos) return files;
  return sets.begin()->second;
}

void run(const Args& a) {
  const std::vector<std::string> paths = a.models.empty() ? default_ensemble() : a.models;
  if (paths.size() < 2) throw std::invalid_argument("an ensemble needs at least two --models");
  std::vector<nn::Model> members;
  for (const auto& p : paths) members.push_back(nn::read_model(p));
  nn::Dataset test = nn::load_named_dataset(a.dataset, false);
  if (test.image_size() != members[0].input.shape.size()) {
    throw std::invalid_argument("dataset " + a.dataset + " does not match the members' input shape");
  }
  const std::size_t count = std::min(a.count, test.count());
  if (count == 0) throw std::invalid_argument("--count must be positive");

  nn::runtime::PlanRequest req;
  req.scheme = nn::compiler::parse_scheme(a.scheme);
  const bool ckks = req.scheme == nn::compiler::Scheme::ckks;
  req.input_bits = a.input_bits;
  req.weight_bits = a.weight_bits;
  req.batch_images = count;
  req.combiners.clear();
  for (const auto& c : a.combiners) req.combiners.push_back(nn::compiler::parse_combiner(c));
  for (const auto& m : members) req.weights.push_back(m.meta.test_accuracy > 0 ? m.meta.test_accuracy : 1.0);
  req.agreement_target = parse_agreement_target(a.agreement_target);
  if (!a.json) req.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  const nn::Dataset train = nn::load_named_dataset(a.dataset, true);
  const auto prog = nn::runtime::make_plan(members, req, &train);

  if (!a.json) {
    std::printf("hecnn demo: encrypted %zu-model CNN ensemble on %s (seed 001, Algorithm 1), %zu test images\n\n", members.size(),
                a.dataset.c_str(), count);
    for (std::size_t i = 0; i < members.size(); ++i) {
      const auto& m = members[i].meta;
      std::printf("  member m%zu: %s (%s", i, paths[i].c_str(), m.name.c_str());
      if (m.split.kind != "none") std::printf(", %s split setting %d, groups %s", m.split.kind.c_str(), m.split.setting, m.split.groups.c_str());
      std::printf(")\n");
    }
    std::printf("\n  1. client: %s keys (secret key stays with the client), quantize + encrypt the images\n"
                "  2. model holders: evaluate their member on the ciphertexts with evaluation keys only\n"
                "  3. coordinator: combine the encrypted member outputs (", ckks ? "CKKS" : "BFV");
    for (std::size_t i = 0; i < a.combiners.size(); ++i) std::printf("%s%s", i ? ", " : "", a.combiners[i].c_str());
    std::printf(")\n  4. client: decrypt, %sargmax; compare with the plaintext models\n\n", ckks ? "" : "CRT-recombine, ");
    std::printf("%s\n", nn::compiler::cost_report(prog).c_str());
  }
  nn::runtime::InferOptions io;
  io.progress = !a.json && !a.quiet;
  const auto rep = nn::runtime::run_encrypted(prog, members, test.images.data(), count, test.image_size(), test.labels.data(), io);
  if (a.json) {
    auto j = report_json(prog, rep);
    j["models"] = paths;
    std::cout << j.dump(2) << "\n";
    return;
  }
  print_report(prog, rep, true);
  std::printf("\n");
  bool all_identical = true;
  double min_agree = 1.0;
  for (const auto& o : rep.outputs) {
    all_identical &= o.agree_quantized == rep.images && o.exact_scores == rep.images;
    min_agree = std::min(min_agree, double(o.agree_quantized) / double(rep.images));
    if (o.name.rfind("m", 0) == 0 && o.name.size() <= 3) continue;
    std::printf("%s: %.2f%% on encrypted data; quantized plaintext ensemble %.2f%%; float ensemble %.2f%%\n", o.name.c_str(),
                100.0 * o.correct / rep.images, 100.0 * o.quant_correct / rep.images, 100.0 * o.plain_correct / rep.images);
  }
  if (ckks) {
    // CKKS is approximate: predictions must agree with the quantized plaintext model on >= 99.9%.
    std::printf("CKKS predictions agree with the quantized plaintext model on %.2f%% of the images (worst output): %s\n",
                100.0 * min_agree, min_agree >= 0.999 ? "OK" : "BELOW 99.9%");
    if (min_agree < 0.999) throw std::runtime_error("CKKS predictions agree with the quantized model on less than 99.9% of the images");
    return;
  }
  std::printf("%s\n", all_identical ? "every decrypted score equals the quantized plaintext model's (exact BFV): OK"
                                    : "MISMATCH between encrypted and quantized plaintext results");
  if (!all_identical) throw std::runtime_error("encrypted results differ from the quantized plaintext model");
}

void setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  app.add_option("--models", a->models, "member model files (default: the 3-member ensemble in models/)")->delimiter(',');
  app.add_option("--count", a->count, "test images (default 8192 = one encrypted batch; 10000 = whole MNIST test set)")
      ->check(CLI::Range(std::size_t(1), std::size_t(10000000)));
  app.add_option("--combiner", a->combiners, "combiners: mean, weighted, poly-softmax, normalized, stacked (comma list; fitted on the last 5,000 training images, docs/combiners.md)")->delimiter(',');
  app.add_option("--dataset", a->dataset, "dataset (test part)");
  app.add_option("--scheme", a->scheme, "bfv (exact, default), bgv (exact) or ckks (approximate; ranges calibrated on 512 training images)");
  app.add_option("--input-bits", a->input_bits, "bits per encrypted pixel (1..8; BFV default: chosen, see --agreement-target; CKKS 8)");
  app.add_option("--weight-bits", a->weight_bits, "signed bits per weight, every layer (BFV default: chosen per layer; CKKS 12 where that needs no larger N or more primes, else 10)");
  app.add_option("--agreement-target", a->agreement_target,
                 "BFV: bits not given are chosen on training images so the quantized ensemble agrees with the float one on this share "
                 "(default 99.9%; 0: fixed bits 5/6/8)");
  app.add_flag("--quiet", a->quiet, "no progress bar");
  app.add_flag("--json", a->json, "machine-readable summary on stdout");
  app.callback([a] { run(*a); });
}

const bool registered = register_command({"demo", "Encrypted 3-model ensemble on MNIST, end to end (the main job)", &setup});

}  // namespace
}  // namespace hecnn::app
