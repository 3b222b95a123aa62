// Per-layer weight import from CSV, as seed 001 moved Keras weights into CryptoNets.
//
// One CSV file per conv/dense layer of the architecture, in order. Each file has one
// row per output unit (conv map or dense neuron): its fan-in weights, then its bias.
//   conv:  fan-in = in_channels * k * k, weights in (in, kh, kw) order
//   dense: fan-in = inputs, in CHW-flattened order of the previous layer's output
// Values are separated by commas (spaces allowed); '#' lines are comments. The
// architecture may not contain bn (give folded weights); pool and act are handled as
// in export_model (average pooling semantics, `act_coeffs` for every act).
#pragma once

#include "nn/model/arch.h"

#include <string>
#include <string_view>
#include <vector>

namespace hecnn::nn {

inline constexpr std::size_t kMaxCsvBytes = std::size_t(256) << 20;

// Rows of numbers; throws ModelError("<what> line N: ...") on bad syntax, non-finite values,
// or rows of unequal length.
std::vector<std::vector<double>> parse_csv(std::string_view text, const std::string& what);

Model import_csv(const ArchSpec& spec, const std::vector<std::string>& csv_paths, const std::vector<double>& act_coeffs,
                 const InputSpec& input);

// Writes the conv/dense layers of `model` as CSV files dir/layer<i>.csv (the inverse of import
// for models without pooling); returns the paths.
std::vector<std::string> export_csv(const Model& model, const std::string& dir);

}  // namespace hecnn::nn
