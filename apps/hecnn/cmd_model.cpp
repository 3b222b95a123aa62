// Model-file commands that need no libtorch:
//   hecnn model-info FILE                      layers, metadata, parameter count
//   hecnn model-eval FILE... [--dataset mnist]  accuracy of one model, or of the average ensemble
//   hecnn model-import-csv --arch A --act ACT --out FILE L0.csv L1.csv ...
//   hecnn model-import-onnx --out FILE model.onnx
#include "hecnn/command.h"

#include "nn/model/approx.h"
#include "nn/model/csv_import.h"
#include "nn/model/dataset.h"
#include "nn/model/forward.h"
#include "nn/model/model_io.h"
#include "nn/model/onnx_import.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace {

using namespace hecnn;

void info(const std::string& path) {
  nn::Model m = nn::read_model(path);
  const auto& md = m.meta;
  std::printf("%s\n  name %s\n  architecture %s, dataset %s, %zu parameters\n", path.c_str(), md.name.c_str(),
              md.architecture.c_str(), md.dataset.c_str(), nn::parameter_count(m));
  std::printf("  activation %s (%s, degree %d, interval [%g, %g])\n", md.activation.function.c_str(),
              md.activation.method.c_str(), md.activation.degree, md.activation.lo, md.activation.hi);
  if (md.split.kind != "none")
    std::printf("  split %s setting %d (dominance %.2f), member %d of %d, groups %s, seed %llu\n", md.split.kind.c_str(),
                md.split.setting, md.split.dominance, md.split.member, md.split.members, md.split.groups.c_str(),
                (unsigned long long)md.split.seed);
  if (md.training.epochs > 0)
    std::printf("  training %d epochs, batch %d, lr %g (%s), seed %llu, %.1f s on %d threads, %lld samples\n",
                md.training.epochs, md.training.batch_size, md.training.learning_rate, md.training.optimizer.c_str(),
                (unsigned long long)md.training.seed, md.training.seconds, md.training.threads,
                (long long)md.training.train_samples);
  else  // imported (CSV, ONNX) or made by hand: no training recorded
    std::printf("  training not recorded (created by %s)\n", md.created_by.empty() ? "an unknown tool" : md.created_by.c_str());
  if (md.test_accuracy >= 0)
    std::printf("  test accuracy %.2f%% on %lld images\n", 100 * md.test_accuracy, (long long)md.test_samples);
  std::printf("%s", nn::describe(m).c_str());
}

// --scores FILE: CSV, one row per test image: index, label, prediction, then the scores of the
// model (or of the average ensemble, for several files), printed to 17 significant digits.
void eval(const std::vector<std::string>& paths, const std::string& dataset, std::size_t limit, bool json,
          const std::string& scores_path) {
  std::vector<nn::Model> models;
  for (const auto& p : paths) models.push_back(nn::read_model(p));
  const std::string ds = dataset.empty() ? models[0].meta.dataset : dataset;
  nn::Dataset test = nn::load_named_dataset(ds, false);
  if (test.image_size() != models[0].input.shape.size())
    throw std::invalid_argument("dataset " + ds + " has images of " + std::to_string(test.image_size()) +
                                " values, " + paths[0] + " expects " + std::to_string(models[0].input.shape.size()));
  const std::size_t n = limit ? std::min(limit, test.count()) : test.count();
  std::FILE* scores = nullptr;
  if (!scores_path.empty()) {
    scores = std::fopen(scores_path.c_str(), "w");
    if (!scores) throw std::runtime_error("--scores " + scores_path + ": cannot write");
    std::fprintf(scores, "image,label,prediction");
    for (int k = 0; k < models[0].num_classes(); ++k) std::fprintf(scores, ",score%d", k);
    std::fprintf(scores, "\n");
  }
  std::vector<std::size_t> right(models.size() + 1, 0);
  for (std::size_t i = 0; i < n; ++i) {
    std::span<const std::uint8_t> img(test.image(i), test.image_size());
    std::vector<double> last;
    for (std::size_t m = 0; m < models.size(); ++m) {
      last = nn::forward(models[m], nn::prepare_input(models[m], img));
      right[m] += nn::argmax(last) == test.labels[i];
    }
    if (models.size() > 1) {
      last = nn::ensemble_forward(models, img);
      right.back() += nn::argmax(last) == test.labels[i];
    }
    if (scores) {
      std::fprintf(scores, "%zu,%d,%d", i, int(test.labels[i]), int(nn::argmax(last)));
      for (double v : last) std::fprintf(scores, ",%.17g", v);
      std::fprintf(scores, "\n");
    }
  }
  if (scores && std::fclose(scores) != 0) throw std::runtime_error("--scores " + scores_path + ": write failed");
  nlohmann::json out = {{"dataset", ds}, {"samples", n}, {"models", nlohmann::json::array()}};
  for (std::size_t m = 0; m < models.size(); ++m) {
    out["models"].push_back({{"file", paths[m]}, {"accuracy", double(right[m]) / double(n)}});
    if (!json) std::printf("%-50s %.2f%%\n", paths[m].c_str(), 100.0 * double(right[m]) / double(n));
  }
  if (models.size() > 1) {
    out["ensemble_accuracy"] = double(right.back()) / double(n);
    if (!json) std::printf("%-50s %.2f%%\n", "average ensemble", 100.0 * double(right.back()) / double(n));
  }
  if (json) std::printf("%s\n", out.dump(2).c_str());
  else std::printf("(%s test set, %zu images, reference forward pass in double)\n", ds.c_str(), n);
}

struct ImportArgs {
  std::string arch = "cryptonets", act = "square", out, dataset = "mnist";
  std::vector<std::string> csv;
  double scale = 1.0 / 255, offset = 0;
};

void import_csv(const ImportArgs& a) {
  if (!std::isfinite(a.scale) || a.scale <= 0 || a.scale > 1e6) throw std::invalid_argument("--input-scale must be a finite number in (0, 1e6]");
  if (!std::isfinite(a.offset) || std::fabs(a.offset) > 1e6) throw std::invalid_argument("--input-offset must be a finite number in [-1e6, 1e6]");
  nn::ArchSpec spec = nn::load_arch(a.arch);
  std::vector<double> coeffs = {0, 0, 1};
  nn::ActivationInfo info;
  if (a.act.rfind("coeffs:", 0) == 0) {
    coeffs.clear();
    std::string s = a.act.substr(7);
    for (std::size_t p = 0; p <= s.size();) {
      std::size_t c = s.find(',', p);
      if (c == std::string::npos) c = s.size();
      const std::string cell = s.substr(p, c - p);
      std::size_t used = 0;
      double v = 0;
      try {
        v = std::stod(cell, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != cell.size()) throw std::invalid_argument("--act coeffs: \"" + cell + "\" is not a number");
      if (!std::isfinite(v) || std::fabs(v) > 1e12) throw std::invalid_argument("--act coeffs: \"" + cell + "\" is not a finite coefficient of magnitude at most 1e12");
      coeffs.push_back(v);
      p = c + 1;
    }
    info = {"custom", "csv", int(coeffs.size()) - 1, 0, 0};
  } else if (a.act != "square") {
    throw std::invalid_argument("--act must be square or coeffs:C0,C1,...");
  }
  nn::Model m = nn::import_csv(spec, a.csv, coeffs, nn::InputSpec{spec.input, a.scale, a.offset});
  m.meta.name = spec.name + "-csv";
  m.meta.dataset = a.dataset;
  m.meta.created_by = "hecnn model-import-csv 0.1.0";
  m.meta.activation = info;
  nn::write_model(m, a.out);
  std::printf("wrote %s (%zu parameters)\n", a.out.c_str(), nn::parameter_count(m));
}

void setup_info(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  app.add_option("file", *path, "model file")->required();
  app.callback([path] { info(*path); });
}

void setup_eval(CLI::App& app) {
  struct A {
    std::vector<std::string> files;
    std::string dataset;
    std::size_t limit = 0;
    bool json = false;
    std::string scores;
  };
  auto a = std::make_shared<A>();
  app.add_option("files", a->files, "model files (several: average ensemble)")->required();
  app.add_option("--dataset", a->dataset, "default: the first model's dataset");
  app.add_option("--limit", a->limit, "only the first N test images");
  app.add_option("--scores", a->scores, "write a CSV: image, label, prediction and the scores (ensemble's for several files)");
  app.add_flag("--json", a->json);
  app.callback([a] { eval(a->files, a->dataset, a->limit, a->json, a->scores); });
}

void setup_import(CLI::App& app) {
  auto a = std::make_shared<ImportArgs>();
  app.add_option("--arch", a->arch, "architecture (no bn)")->capture_default_str();
  app.add_option("--act", a->act, "square | coeffs:C0,C1,...")->capture_default_str();
  app.add_option("--dataset", a->dataset)->capture_default_str();
  app.add_option("--input-scale", a->scale)->capture_default_str();
  app.add_option("--input-offset", a->offset)->capture_default_str();
  app.add_option("--out", a->out, "model file to write")->required();
  app.add_option("csv", a->csv, "one CSV per conv/dense layer: a row per output, fan-in weights then bias")->required();
  app.callback([a] { import_csv(*a); });
}

void setup_onnx(CLI::App& app) {
  struct A {
    std::string in, out, dataset = "mnist";
    double scale = 1.0 / 255, offset = 0;
  };
  auto a = std::make_shared<A>();
  app.add_option("onnx", a->in, "ONNX model (single chain of supported operators)")->required();
  app.add_option("--out", a->out, "model file to write")->required();
  app.add_option("--dataset", a->dataset)->capture_default_str();
  app.add_option("--input-scale", a->scale)->capture_default_str();
  app.add_option("--input-offset", a->offset)->capture_default_str();
  app.callback([a] {
    nn::Model m = nn::import_onnx(a->in, nn::InputSpec{{1, 1, 1}, a->scale, a->offset});
    m.meta.name = std::filesystem::path(a->in).stem().string();
    m.meta.dataset = a->dataset;
    const nn::DType dt = nn::lossless_dtype(m);
    nn::write_model(m, a->out, dt);
    std::printf("wrote %s (%zu layers, %zu parameters, %s)\n", a->out.c_str(), m.layers.size(), nn::parameter_count(m),
                dt == nn::DType::f32 ? "float32" : "float64: folded batch norm / pooling are kept exactly");
  });
}

void setup_convert(CLI::App& app) {
  struct A {
    std::string in, out;
    bool f64 = false;
  };
  auto a = std::make_shared<A>();
  app.add_option("file", a->in, "model file (any format version this build reads)")->required();
  app.add_option("--out", a->out, "model file to write in the current format (may be the input file)")->required();
  app.add_flag("--f64", a->f64, "store weights as float64 (default float32, as trained)");
  app.callback([a] {
    const nn::Model m = nn::read_model(a->in);
    nn::write_model(m, a->out, a->f64 ? nn::DType::f64 : nn::DType::f32);
    std::printf("wrote %s (format %u, checksummed)\n", a->out.c_str(), unsigned(nn::kModelFormatVersion));
  });
}

const bool r1 = hecnn::app::register_command({"model-info", "Describe a hecnn model file", &setup_info});
const bool r6 = hecnn::app::register_command(
    {"model-convert", "Rewrite a model file in the current format (with its checksum)", &setup_convert});
const bool r2 = hecnn::app::register_command(
    {"model-eval", "Test accuracy of model files (several: average ensemble), no libtorch", &setup_eval});
const bool r3 =
    hecnn::app::register_command({"model-import-csv", "Build a model file from per-layer CSV weights", &setup_import});
const bool r4 = hecnn::app::register_command(
    {"model-import-onnx", "Build a model file from an ONNX graph (Conv/Gemm/BN/AveragePool/square)", &setup_onnx});

}  // namespace
