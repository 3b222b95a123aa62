// The hecnn model: an HE-friendly CNN as plain data, independent of libtorch.
//
// A Model is an input specification followed by a list of layers evaluated in
// order on a tensor of shape (channels, height, width), stored channel-major
// (CHW). Every layer is one of:
//   Conv2d  - cross-correlation with zero padding, weight [out][in][kh][kw], bias [out]
//   Dense   - fully connected on the CHW-flattened input, weight [out][in], bias [out];
//             its output has shape (out, 1, 1)
//   SumPool - sum (not mean) over kernel windows; the 1/k^2 of average pooling has
//             already been folded into the next layer ("scaled average pooling")
//   Poly    - elementwise polynomial y = c0 + c1 x + ... + cd x^d (x^2 is {0, 0, 1})
// Batch norm does not appear: it is folded into the preceding Conv2d/Dense at export.
// Only additions and multiplications are needed, so every model here can be run
// under homomorphic encryption. The file format is in model_io.h and docs/model-format.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace hecnn::nn {

// Any malformed model, file or input; the message says what and where.
struct ModelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Shape {
  int c = 0, h = 0, w = 0;
  std::size_t size() const { return std::size_t(c) * std::size_t(h) * std::size_t(w); }
  bool operator==(const Shape&) const = default;
};

struct Conv2d {
  int in_channels = 0, out_channels = 0;
  int kernel_h = 0, kernel_w = 0;
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;      // zero padding on both sides
  std::vector<double> weight;    // out * in * kh * kw
  std::vector<double> bias;      // out
};

struct Dense {
  int in_features = 0, out_features = 0;
  std::vector<double> weight;    // out * in, row-major
  std::vector<double> bias;      // out
};

struct SumPool {
  int kernel_h = 0, kernel_w = 0;
  int stride_h = 0, stride_w = 0;
};

struct Poly {
  std::vector<double> coeffs;    // c0, c1, ..., cd (power basis)
};

using Layer = std::variant<Conv2d, Dense, SumPool, Poly>;

// How raw input values (e.g. 8-bit pixels) become the model's input:
//   x = raw * scale + offset, shape (c, h, w).
struct InputSpec {
  Shape shape{1, 28, 28};
  double scale = 1.0 / 255.0;
  double offset = 0.0;
};

// What the polynomial activations approximate (informational).
struct ActivationInfo {
  std::string function = "square";  // square | relu | sigmoid | tanh | custom
  std::string method = "exact";      // exact | least_squares | taylor | chebyshev | chebyshev_modified | derivative | csv
  int degree = 2;
  double lo = 0.0, hi = 0.0;          // approximation interval (0, 0: not applicable)
};

// Which part of the training data a model saw (ensemble members, seed 001).
struct SplitInfo {
  std::string kind = "none";          // none | iid | regular | likewise | random
  int setting = -1;                    // 0 (uniform) .. 5 (fully skewed); -1: n/a
  double dominance = 0.0;              // share of the member's data drawn from its own group
  int member = -1, members = 0;        // 0-based member index, ensemble size
  std::string groups;                  // e.g. "012|345|6789"
  std::uint64_t seed = 0;
};

struct TrainingInfo {
  int epochs = 0;
  int batch_size = 0;
  double learning_rate = 0.0;
  std::string optimizer;
  std::uint64_t seed = 0;
  double seconds = 0.0;
  int threads = 0;
  std::int64_t train_samples = 0;
};

struct Metadata {
  std::string name;                    // free text, e.g. "cryptonets-x2-mnist"
  std::string architecture;            // builtin name or "custom"
  std::string architecture_text;       // the architecture description (arch.h syntax)
  std::string dataset;                 // mnist | fashion-mnist | kmnist | cifar-10 | ...
  std::string created_by;              // e.g. "hecnn train 0.1.0"
  ActivationInfo activation;
  SplitInfo split;
  TrainingInfo training;
  double test_accuracy = -1.0;         // fraction in [0, 1]; -1: not measured
  std::int64_t test_samples = 0;
};

struct Model {
  Metadata meta;
  InputSpec input;
  std::vector<Layer> layers;
  int num_classes() const;             // size of the last layer's output
};

// Limits every model must respect (also the reader's bounds on hostile files).
inline constexpr int kMaxLayers = 1024;
inline constexpr int kMaxDim = 65536;              // any channel count, size, kernel, feature count
inline constexpr std::size_t kMaxTensorElements = std::size_t(1) << 28;
inline constexpr int kMaxPolyDegree = 64;

// Checks shapes, sizes and parameter counts; throws ModelError naming the layer.
void validate(const Model& model);
// Output shape of each layer (validates as it goes).
std::vector<Shape> output_shapes(const Model& model);
std::size_t parameter_count(const Model& model);
// "conv2d", "dense", "sum_pool", "poly".
const char* layer_type(const Layer& layer);
// One line per layer: type, hyper-parameters, output shape.
std::string describe(const Model& model);

}  // namespace hecnn::nn
