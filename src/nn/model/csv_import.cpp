#include "nn/model/csv_import.h"

#include "nn/model/model_io.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace hecnn::nn {

std::vector<std::vector<double>> parse_csv(std::string_view text, const std::string& what) {
  std::vector<std::vector<double>> rows;
  std::size_t pos = 0, lineno = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    std::vector<double> row;
    std::size_t i = 0;
    while (i <= line.size()) {
      std::size_t comma = line.find(',', i);
      if (comma == std::string_view::npos) comma = line.size();
      std::string_view cell = line.substr(i, comma - i);
      while (!cell.empty() && (cell.front() == ' ' || cell.front() == '\t')) cell.remove_prefix(1);
      while (!cell.empty() && (cell.back() == ' ' || cell.back() == '\t')) cell.remove_suffix(1);
      double v = 0;
      if (!cell.empty() && cell.front() == '+') cell.remove_prefix(1);
      auto [p, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
      if (cell.empty() || ec != std::errc() || p != cell.data() + cell.size() || !std::isfinite(v))
        throw ModelError(what + " line " + std::to_string(lineno) + ": \"" + std::string(cell.substr(0, 40)) +
                         "\" is not a finite number");
      row.push_back(v);
      i = comma + 1;
    }
    if (!rows.empty() && row.size() != rows[0].size())
      throw ModelError(what + " line " + std::to_string(lineno) + ": " + std::to_string(row.size()) +
                       " values, earlier rows have " + std::to_string(rows[0].size()));
    rows.push_back(std::move(row));
  }
  return rows;
}

Model import_csv(const ArchSpec& spec, const std::vector<std::string>& csv_paths, const std::vector<double>& act_coeffs,
                 const InputSpec& input) {
  const std::vector<Shape> shapes = arch_shapes(spec);
  std::vector<LayerParams> params(spec.layers.size());
  std::size_t next = 0;
  Shape cur = spec.input;
  for (std::size_t i = 0; i < spec.layers.size(); ++i) {
    const ArchLayer& l = spec.layers[i];
    if (l.kind == ArchLayer::Kind::bn)
      throw ModelError("CSV import: the architecture has bn; CSV files must hold weights with batch norm folded in");
    if (l.kind == ArchLayer::Kind::conv || l.kind == ArchLayer::Kind::dense) {
      if (next >= csv_paths.size())
        throw ModelError("CSV import: the architecture has more conv/dense layers than the " +
                         std::to_string(csv_paths.size()) + " CSV files given");
      const std::string& path = csv_paths[next++];
      const std::size_t fan_in =
          l.kind == ArchLayer::Kind::conv ? std::size_t(cur.c) * l.kernel * l.kernel : cur.size();
      auto rows = parse_csv(read_file_bounded(path, kMaxCsvBytes), path);
      if (rows.size() != std::size_t(l.out))
        throw ModelError(path + ": " + std::to_string(rows.size()) + " rows, the layer has " + std::to_string(l.out) +
                         " outputs");
      if (rows[0].size() != fan_in + 1)
        throw ModelError(path + ": " + std::to_string(rows[0].size()) + " values per row, expected " +
                         std::to_string(fan_in) + " weights + 1 bias");
      for (const auto& r : rows) {
        params[i].weight.insert(params[i].weight.end(), r.begin(), r.end() - 1);
        params[i].bias.push_back(r.back());
      }
    }
    cur = shapes[i];
  }
  if (next != csv_paths.size())
    throw ModelError("CSV import: " + std::to_string(csv_paths.size()) + " CSV files for " + std::to_string(next) +
                     " conv/dense layers");
  return export_model(spec, params, act_coeffs, input);
}

std::vector<std::string> export_csv(const Model& model, const std::string& dir) {
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    const std::vector<double>* w = nullptr;
    const std::vector<double>* b = nullptr;
    if (auto* c = std::get_if<Conv2d>(&model.layers[i])) w = &c->weight, b = &c->bias;
    else if (auto* d = std::get_if<Dense>(&model.layers[i])) w = &d->weight, b = &d->bias;
    if (!w) continue;
    const std::string path = dir + "/layer" + std::to_string(i) + ".csv";
    std::ofstream f(path);
    if (!f) throw ModelError(path + ": cannot open for writing");
    const std::size_t out = b->size(), fan = w->size() / out;
    char buf[32];
    for (std::size_t o = 0; o < out; ++o) {
      for (std::size_t k = 0; k < fan; ++k) {
        std::snprintf(buf, sizeof buf, "%.17g,", (*w)[o * fan + k]);
        f << buf;
      }
      std::snprintf(buf, sizeof buf, "%.17g\n", (*b)[o]);
      f << buf;
    }
    if (!f) throw ModelError(path + ": write failed");
    paths.push_back(path);
  }
  return paths;
}

}  // namespace hecnn::nn
