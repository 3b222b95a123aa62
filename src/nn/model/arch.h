// Network architectures as a small text description, shared by the trainer
// (which builds libtorch modules from it) and by importers (CSV, ONNX), plus
// export: turning per-layer trained parameters into a Model with batch norm
// folded and average pooling turned into sum pooling.
//
// Syntax, one layer per line, '#' starts a comment:
//   input C H W                    first line: input shape
//   conv OUT K [stride S] [pad P]  K x K convolution, OUT maps
//   bn                             batch norm; only directly after conv or dense
//   act                            the activation chosen at training time
//   pool K [stride S]              average pooling (stride defaults to K); exported as sum_pool
//   dense OUT                      fully connected on the flattened input
// The last layer must be dense (the class scores).
#pragma once

#include "nn/model/model.h"

#include <string>
#include <string_view>
#include <vector>

namespace hecnn::nn {

struct ArchLayer {
  enum class Kind { conv, bn, act, pool, dense } kind;
  int out = 0;        // conv maps / dense outputs
  int kernel = 0;     // conv, pool
  int stride = 1;
  int pad = 0;
};

struct ArchSpec {
  std::string name;   // builtin name or "custom"
  std::string text;   // the description it was parsed from
  Shape input;
  std::vector<ArchLayer> layers;
};

ArchSpec parse_arch(std::string_view text, std::string name = "custom");
// Builtin: cryptonets, tenseal1, tenseal2, cryptodl1, cryptodl2 (see docs/training.md).
ArchSpec builtin_arch(const std::string& name);
std::vector<std::string> builtin_arch_names();
// A builtin name, or a path to a file in the syntax above.
ArchSpec load_arch(const std::string& name_or_path);

// Output shape of every layer; throws ModelError for impossible shapes.
std::vector<Shape> arch_shapes(const ArchSpec& spec);

// Trained parameters of one architecture layer (empty for act and pool).
struct LayerParams {
  std::vector<double> weight, bias;           // conv [out][in][k][k], dense [out][in]
  std::vector<double> gamma, beta, mean, var; // bn
  double eps = 1e-5;
};

// Builds the HE-friendly model: bn folded into the preceding conv/dense, pool -> sum_pool
// with 1/k^2 folded into the next conv/dense weights (or into the next poly's coefficients),
// act -> poly with `act_coeffs`. `params` has one entry per spec layer.
Model export_model(const ArchSpec& spec, const std::vector<LayerParams>& params, const std::vector<double>& act_coeffs,
                   const InputSpec& input);

}  // namespace hecnn::nn
