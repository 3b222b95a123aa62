// `hecnn train`: trains an HE-friendly CNN with libtorch and writes a model file.
//
//   hecnn train --arch cryptonets --act square --dataset mnist --epochs 12 --out models/m.hecnn
//   hecnn train --split regular --setting 3 --member all --out models/regular-s3.hecnn   (3 members)
//   hecnn train --init models/m.hecnn --qat --qat-bits input=5,weight=6 --out models/m-qat.hecnn
//     (quantization-aware fine-tuning of a model file; --qat after training does the same)
// Progress (epoch, loss, accuracy, ETA) goes to stderr; --json prints a summary on stdout.
#include "hecnn/command.h"
#include "hecnn/cmd_train_env.h"

#include "nn/model/dataset.h"
#include "nn/model/model_io.h"
#include "nn/model/split.h"
#include "train/qat.h"
#include "train/trainer.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <optional>
#include <cstdio>
#include <memory>
#include <unistd.h>

namespace {

using namespace hecnn;

struct Args {
  std::string arch = "cryptonets", act = "square", dataset = "mnist", out, split = "none", member = "all";
  std::string optimizer = "adam";
  int epochs = 12, batch = 64, threads = 2, setting = 0, augment = 0;
  double lr = 2e-3, wd = 0;
  std::uint64_t seed = 1;
  std::size_t limit_train = 0, member_size = 0, verify = 0;
  bool json = false, quiet = false, f64 = false;
  // Quantization-aware fine-tuning (train/qat.h).
  bool qat = false;
  std::string init, qat_bits = "input=5,weight=6,coeff=8";
  int qat_epochs = 3;
  double qat_lr = 2e-4, qat_raw_share = 0.5;
  bool dataset_given = false;
};

// The training set of `dataset`, cut to its first `limit` images (0: all).
nn::Dataset load_training_set(const std::string& dataset, std::size_t limit) {
  nn::Dataset d = nn::load_named_dataset(dataset, true);
  if (limit && limit < d.count()) {
    d.labels.resize(limit);
    d.images.resize(limit * d.image_size());
  }
  return d;
}

train::QatOptions qat_options(const Args& a) {
  train::QatOptions q;
  q.bits = train::parse_qat_bits(a.qat_bits);
  q.epochs = a.qat_epochs;
  q.batch_size = a.batch;
  q.learning_rate = a.qat_lr;
  q.seed = a.seed;
  q.threads = a.threads;
  q.augment_shift = a.augment;
  q.raw_share = a.qat_raw_share;
  return q;
}

nlohmann::json qat_json(const train::QatResult& q, const train::QatOptions& o) {
  nlohmann::json per_epoch = nlohmann::json::array();
  for (const auto& e : q.epochs)
    per_epoch.push_back({{"epoch", e.epoch}, {"loss", e.loss}, {"train_accuracy", e.train_accuracy},
                         {"quantized_test_accuracy", e.test_accuracy}, {"seconds", e.seconds}});
  return {{"bits", o.bits.str()},
          {"epochs", o.epochs},
          {"learning_rate", o.learning_rate},
          {"raw_share", o.raw_share},
          {"train_samples", q.train_samples},
          {"test_samples", q.test_samples},
          {"accuracy_before", q.accuracy_before},
          {"quantized_accuracy_before", q.quantized_accuracy_before},
          {"agreement_before", q.agreement_before},
          {"accuracy", q.accuracy},
          {"quantized_accuracy", q.quantized_accuracy},
          {"agreement", q.agreement},
          {"seconds", q.seconds},
          {"per_epoch", per_epoch}};
}

void print_qat(const train::QatResult& q, const train::QatOptions& o) {
  std::fprintf(stderr,
               "hecnn train: QAT at %s on %zu test images: float %.2f%% -> %.2f%%, quantized %.2f%% -> %.2f%%, "
               "agreement float/quantized %.2f%% -> %.2f%% (%.1f s)\n",
               o.bits.str().c_str(), q.test_samples, 100 * q.accuracy_before, 100 * q.accuracy,
               100 * q.quantized_accuracy_before, 100 * q.quantized_accuracy, 100 * q.agreement_before, 100 * q.agreement,
               q.seconds);
}

std::string fmt_time(double s) {
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", int(s / 3600), int(s / 60) % 60);
  else std::snprintf(buf, sizeof buf, "%dm%02ds", int(s / 60), int(s) % 60);
  return buf;
}

train::ProgressFn progress_bar(bool quiet, const std::string& prefix) {
  if (quiet) return {};
  const bool tty = isatty(2);
  return [tty, prefix](const train::Progress& p) {
    if (!tty && !p.epoch_done) return;
    const int width = 24, filled = int(width * double(p.batch) / double(p.batches));
    std::string bar(std::size_t(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "%s%sepoch %d/%d [%s] loss %.4f acc %.2f%%", tty ? "\r" : "", prefix.c_str(), p.epoch,
                 p.epochs, bar.c_str(), p.loss, 100 * p.accuracy);
    if (p.epoch_done) std::fprintf(stderr, " test %.2f%%", 100 * p.test_accuracy);
    std::fprintf(stderr, " elapsed %s ETA %s%s", fmt_time(p.elapsed).c_str(), fmt_time(p.eta).c_str(),
                 p.epoch_done ? "\n" : "   ");
    std::fflush(stderr);
  };
}

std::string member_path(const std::string& out, int member, bool several) {
  if (!several) return out;
  const auto dot = out.rfind(".hecnn");
  const std::string stem = dot == std::string::npos ? out : out.substr(0, dot);
  return stem + "-m" + std::to_string(member) + ".hecnn";
}

// `--init FILE --qat`: fine-tunes a model file on the share of the training set it was
// trained on (its recorded split, else all of it).
void run_init(const Args& a, const train::QatOptions& qopt) {
  const auto t0 = std::chrono::steady_clock::now();
  nn::Model init = nn::read_model(a.init);
  train::check_qat_bits(init, qopt.bits);
  const std::string dataset = a.dataset_given || init.meta.dataset.empty() ? a.dataset : init.meta.dataset;
  nn::Dataset train_set = load_training_set(dataset, a.limit_train);
  const nn::Dataset test_set = nn::load_named_dataset(dataset, false);
  std::optional<std::vector<std::size_t>> subset;
  const nn::SplitInfo& si = init.meta.split;
  if (si.kind != "none" && !si.kind.empty() && si.member >= 0) {
    nn::SplitSpec spec;
    spec.kind = nn::parse_split_kind(si.kind);
    spec.setting = std::max(0, si.setting);
    spec.members = std::max(1, si.members);
    spec.seed = si.seed;
    spec.member_size = a.member_size;
    auto parts = nn::make_split(spec, train_set.labels);
    if (std::size_t(si.member) >= parts.size())
      throw std::invalid_argument(a.init + ": its split names member " + std::to_string(si.member) + " of " +
                                  std::to_string(parts.size()));
    subset = parts[std::size_t(si.member)];
    if (!a.quiet && init.meta.training.train_samples > 0 && std::int64_t(subset->size()) != init.meta.training.train_samples)
      std::fprintf(stderr, "hecnn train: note: the recreated split has %zu samples, the model records %lld\n",
                   subset->size(), static_cast<long long>(init.meta.training.train_samples));
  }
  if (!a.quiet)
    std::fprintf(stderr, "hecnn train: quantization-aware fine-tuning of %s (%s) at %s on %s, %zu samples, %d epochs\n",
                 a.init.c_str(), init.meta.name.c_str(), qopt.bits.str().c_str(), dataset.c_str(),
                 subset ? subset->size() : train_set.count(), qopt.epochs);
  const train::QatResult q = train::fine_tune_quantized(init, qopt, train_set, test_set, subset, progress_bar(a.quiet, "qat "));
  if (!a.quiet) print_qat(q, qopt);
  nn::Model m = q.model;
  m.meta.name += "-qat";
  m.meta.created_by = "hecnn train 0.1.0 --qat " + qopt.bits.str() + " --init";
  if (q.test_samples == test_set.count()) {
    m.meta.test_accuracy = q.accuracy;
    m.meta.test_samples = std::int64_t(test_set.count());
  }
  if (!a.out.empty()) {
    nn::write_model(m, a.out, a.f64 ? nn::DType::f64 : nn::DType::f32);
    if (!a.quiet) std::fprintf(stderr, "hecnn train: wrote %s\n", a.out.c_str());
  }
  if (a.json) {
    nlohmann::json out = {{"model_file", a.out}, {"init", a.init}, {"dataset", dataset}, {"seed", a.seed},
                          {"threads", a.threads}, {"test_accuracy", m.meta.test_accuracy}};
    out["qat"] = qat_json(q, qopt);
    out["wall_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s\n", out.dump(2).c_str());
  }
}

void run(const Args& a) {
  app::ensure_passive_omp_wait();
  const auto t0 = std::chrono::steady_clock::now();
  // Every option is checked before any data is loaded.
  const train::QatOptions qopt = qat_options(a);
  if (!a.init.empty() && !a.qat) throw std::invalid_argument("--init fine-tunes a model file and needs --qat");
  if (!(a.qat_raw_share >= 0 && a.qat_raw_share <= 1)) throw std::invalid_argument("--qat-raw-share must be in [0, 1]");
  if (!(a.qat_lr > 0) || !std::isfinite(a.qat_lr)) throw std::invalid_argument("--qat-lr must be positive");
  if (!(a.lr > 0) || !std::isfinite(a.lr)) throw std::invalid_argument("--lr must be positive");
  train::set_threads(a.threads);
  if (!a.init.empty()) {
    run_init(a, qopt);
    return;
  }
  train::TrainOptions o;
  o.arch = nn::load_arch(a.arch);
  o.activation = train::parse_activation(a.act);
  o.dataset = a.dataset;
  o.epochs = a.epochs;
  o.batch_size = a.batch;
  o.learning_rate = a.lr;
  o.weight_decay = a.wd;
  o.optimizer = a.optimizer;
  o.seed = a.seed;
  o.threads = a.threads;
  o.augment_shift = a.augment;
  o.verify_samples = a.verify;
  nn::Dataset train_set = load_training_set(a.dataset, a.limit_train);
  const nn::Dataset test_set = nn::load_named_dataset(a.dataset, false);

  // Which members to train.
  std::vector<std::optional<std::vector<std::size_t>>> subsets;
  std::vector<int> member_ids;
  nn::SplitSpec spec;
  std::vector<std::vector<int>> groups;
  if (a.split == "none") {
    subsets.push_back(std::nullopt);
    member_ids.push_back(-1);
  } else {
    spec.kind = nn::parse_split_kind(a.split);
    spec.setting = a.setting;
    spec.seed = a.seed;
    spec.member_size = a.member_size;
    groups = nn::split_groups(spec);
    auto parts = nn::make_split(spec, train_set.labels);
    for (int m = 0; m < int(parts.size()); ++m) {
      if (a.member != "all" && std::to_string(m) != a.member) continue;
      subsets.push_back(parts[std::size_t(m)]);
      member_ids.push_back(m);
    }
    if (subsets.empty()) throw std::invalid_argument("--member must be all or 0.." + std::to_string(parts.size() - 1));
  }

  nlohmann::json summary = nlohmann::json::array();
  for (std::size_t k = 0; k < subsets.size(); ++k) {
    const int member = member_ids[k];
    std::string prefix = member >= 0 ? "member " + std::to_string(member) + ": " : "";
    if (!a.quiet)
      std::fprintf(stderr, "hecnn train: %s %s on %s, %s, %zu samples, %d epochs, %d threads\n", o.arch.name.c_str(),
                   o.activation.label().c_str(), a.dataset.c_str(),
                   member >= 0 ? (a.split + " setting " + std::to_string(a.setting) + " member " + std::to_string(member)).c_str()
                               : "full training set",
                   subsets[k] ? subsets[k]->size() : train_set.count(), o.epochs, o.threads);
    train::TrainResult r = train::train_model(o, train_set, test_set, subsets[k], progress_bar(a.quiet, prefix));
    std::string path;
    std::optional<train::QatResult> qr;
    if (r.exported && a.qat) {
      if (!a.quiet) std::fprintf(stderr, "hecnn train: %squantization-aware fine-tuning at %s, %d epochs\n", prefix.c_str(),
                                 qopt.bits.str().c_str(), qopt.epochs);
      qr = train::fine_tune_quantized(r.model, qopt, train_set, test_set, subsets[k], progress_bar(a.quiet, prefix + "qat "));
      r.model = qr->model;
      if (!a.quiet) print_qat(*qr, qopt);
    }
    if (r.exported) {
      nn::Metadata& m = r.model.meta;
      m.name = o.arch.name + "-" + o.activation.label() + "-" + a.dataset + (member >= 0 ? "-" + a.split + "-s" +
                                                                                std::to_string(a.setting) + "-m" +
                                                                                std::to_string(member)
                                                                          : "");
      m.dataset = a.dataset;
      m.created_by = "hecnn train 0.1.0";
      m.activation = o.activation.info;
      if (member >= 0) {
        m.split.kind = a.split;
        m.split.setting = spec.kind == nn::SplitKind::iid ? -1 : a.setting;
        m.split.dominance = spec.kind == nn::SplitKind::iid
                                ? 0.0
                                : nn::split_dominance(a.setting, int(groups[std::size_t(member)].size()));
        m.split.member = member;
        m.split.members = int(groups.size());
        m.split.groups = nn::groups_string(groups);
        m.split.seed = a.seed;
      }
      m.training = {o.epochs, o.batch_size, o.learning_rate, o.optimizer, o.seed, r.seconds, o.threads, r.train_samples};
      const bool full = r.verified_samples == test_set.count();
      m.test_accuracy = full ? r.exported_accuracy : r.test_accuracy;
      if (qr) {
        m.name += "-qat";
        m.created_by += " --qat " + qopt.bits.str();
        if (qr->test_samples == test_set.count()) m.test_accuracy = qr->accuracy;
      }
      m.test_samples = std::int64_t(test_set.count());
      if (!a.out.empty()) {
        path = member_path(a.out, member, subsets.size() > 1 || (member >= 0 && a.member == "all"));
        nn::write_model(r.model, path, a.f64 ? nn::DType::f64 : nn::DType::f32);
      }
    } else if (!a.out.empty() && !a.quiet) {
      std::fprintf(stderr, "hecnn train: activation %s is not a polynomial; no model file written\n",
                   o.activation.label().c_str());
    }
    if (!a.quiet) {
      std::fprintf(stderr, "hecnn train: test accuracy %.2f%% (libtorch)", 100 * r.test_accuracy);
      if (r.exported)
        std::fprintf(stderr, ", exported model %.2f%% on %zu images (%zu predictions differ)", 100 * r.exported_accuracy,
                     r.verified_samples, r.prediction_mismatches);
      std::fprintf(stderr, ", %.1f s%s%s\n", r.seconds, path.empty() ? "" : ", wrote ", path.c_str());
    }
    nlohmann::json j = {{"model_file", path},
                        {"architecture", o.arch.name},
                        {"activation", o.activation.label()},
                        {"activation_coeffs", o.activation.coeffs},
                        {"dataset", a.dataset},
                        {"split", a.split},
                        {"setting", member >= 0 ? a.setting : -1},
                        {"member", member},
                        {"train_samples", r.train_samples},
                        {"epochs", o.epochs},
                        {"batch_size", o.batch_size},
                        {"learning_rate", o.learning_rate},
                        {"seed", o.seed},
                        {"threads", o.threads},
                        {"seconds", r.seconds},
                        {"test_accuracy", r.test_accuracy},
                        {"exported_accuracy", r.exported_accuracy},
                        {"verified_samples", r.verified_samples},
                        {"prediction_mismatches", r.prediction_mismatches}};
    nlohmann::json per_epoch = nlohmann::json::array();
    for (const auto& e : r.epochs)
      per_epoch.push_back({{"epoch", e.epoch}, {"loss", e.loss}, {"train_accuracy", e.train_accuracy},
                           {"test_accuracy", e.test_accuracy}, {"seconds", e.seconds}});
    j["per_epoch"] = per_epoch;
    if (qr) j["qat"] = qat_json(*qr, qopt);
    summary.push_back(j);
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (a.json) {
    nlohmann::json out = summary.size() == 1 ? summary[0] : nlohmann::json{{"members", summary}};
    out["wall_seconds"] = wall;
    std::printf("%s\n", out.dump(2).c_str());
  }
}

void setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  app.add_option("--arch", a->arch, "cryptonets | tenseal1 | tenseal2 | cryptodl1 | cryptodl2 | cryptodl-cifar | FILE")
      ->capture_default_str();
  app.add_option("--act", a->act,
                 "square | relu | sigmoid | tanh | poly:FUNC:METHOD:DEGREE:LO:HI | coeffs:C0,C1,...")
      ->capture_default_str();
  app.add_option("--dataset", a->dataset, "mnist | fashion-mnist | kmnist | cifar-10 (files under data/); with --init: the model's")
      ->capture_default_str()
      ->each([a](const std::string&) { a->dataset_given = true; });
  app.add_option("--epochs", a->epochs)->capture_default_str()->check(CLI::Range(1, 1000));
  app.add_option("--batch", a->batch)->capture_default_str()->check(CLI::Range(1, 65536));
  app.add_option("--lr", a->lr, "peak learning rate (warm-up, then cosine decay)")->capture_default_str();
  app.add_option("--weight-decay", a->wd)->capture_default_str();
  app.add_option("--optimizer", a->optimizer, "adam | sgd")->capture_default_str();
  app.add_option("--seed", a->seed)->capture_default_str();
  app.add_option("--threads", a->threads)->capture_default_str()->check(CLI::Range(1, 256));
  app.add_option("--augment", a->augment, "random shifts of up to N pixels")->capture_default_str()->check(CLI::Range(0, 4));
  app.add_option("--split", a->split, "none | iid | regular | likewise | random")->capture_default_str();
  app.add_option("--setting", a->setting, "split dominance setting 0 (uniform) .. 5 (fully skewed)")
      ->capture_default_str()
      ->check(CLI::Range(0, 5));
  app.add_option("--member", a->member, "all | 0 | 1 | 2")->capture_default_str();
  app.add_option("--member-size", a->member_size, "samples per skewed member (default: a third of the data)");
  app.add_option("--limit-train", a->limit_train, "use only the first N training images");
  app.add_option("--verify", a->verify, "test images re-checked with the exported model (default: auto)");
  app.add_option("--out", a->out, "model file to write (members get -m0, -m1, ... suffixes)");
  app.add_flag("--qat", a->qat,
               "quantization-aware fine-tuning after training (or of --init FILE): weights exported on the BFV "
               "grids of --qat-bits");
  auto* init = app.add_option("--init", a->init, "fine-tune this model file (with --qat) instead of training one")
                   ->check(CLI::ExistingFile);
  app.add_option("--qat-bits", a->qat_bits, "input=B,weight=B,coeff=B[,conv1=B,dense2=B,act1=B...] (the compiler's names)")
      ->capture_default_str();
  app.add_option("--qat-epochs", a->qat_epochs, "fine-tuning epochs (0: only round onto the grids)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  app.add_option("--qat-lr", a->qat_lr, "peak fine-tuning learning rate")->capture_default_str();
  app.add_option("--qat-raw-share", a->qat_raw_share, "share of fine-tuning batches with unrounded pixels")
      ->capture_default_str();
  app.add_flag("--f64", a->f64, "store weights as float64 (default float32)");
  app.add_flag("--json", a->json, "print a machine-readable summary on stdout");
  app.add_flag("--quiet", a->quiet, "no progress output");
  for (const char* o : {"--arch", "--act", "--split", "--setting", "--member", "--epochs", "--lr", "--optimizer", "--weight-decay"})
    init->excludes(app.get_option(o));
  app.callback([a] { run(*a); });
}

const bool registered =
    hecnn::app::register_command({"train", "Train an HE-friendly CNN (libtorch) and write a model file", &setup});

}  // namespace
