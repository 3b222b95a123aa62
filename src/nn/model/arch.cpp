#include "nn/model/arch.h"

#include "nn/model/model_io.h"

#include <cmath>
#include <map>
#include <sstream>

namespace hecnn::nn {
namespace {

// Seed 001 Table 1 (CryptoNets): 28x28 -> conv 5x5 stride 2 pad 1, 5 maps -> 13x13x5.
constexpr const char* kCryptonets = R"(# CryptoNets (seed 001, Table 1)
input 1 28 28
conv 5 5 stride 2 pad 1
act
dense 100
act
dense 10
)";
// Seed 002, first architecture: one conv layer and two fully connected layers
// (the TenSEAL tutorial network: 7x7 stride 3, 4 maps -> 8x8x4 = 256 -> 64 -> 10).
constexpr const char* kTenseal1 = R"(# seed 002 architecture 1: 1 conv + 2 dense
input 1 28 28
conv 4 7 stride 3
act
dense 64
act
dense 10
)";
// Seed 002, second architecture: two conv layers, average pooling, two dense layers.
constexpr const char* kTenseal2 = R"(# seed 002 architecture 2: 2 conv + average pooling + 2 dense
input 1 28 28
conv 6 5
act
pool 2
conv 16 5
act
pool 2
dense 64
act
dense 10
)";
// CryptoDL Model 1 (seed 003 Figure 3 / Table 3): conv 20 maps, avg pool, conv 50 maps,
// avg pool, dense 256, dense 10, with batch norm; reconstructed from the text.
constexpr const char* kCryptodl1 = R"(# CryptoDL Model 1 (seed 003 Fig. 3, Table 3)
input 1 28 28
conv 20 5
bn
act
pool 2
conv 50 5
bn
act
pool 2
dense 256
bn
act
dense 10
)";
// CryptoDL Model 2 (seed 003 Fig. 4): deeper, an activation after every conv layer,
// batch norm, scaled average pooling. Reconstructed (the figure is not in the text) and kept
// narrow (16/16/32/32 maps) so that it trains in minutes on two cores.
constexpr const char* kCryptodl2 = R"(# CryptoDL Model 2 (seed 003 Fig. 4), reconstructed, narrow
input 1 28 28
conv 16 3 pad 1
bn
act
conv 16 3 pad 1
bn
act
pool 2
conv 32 3 pad 1
bn
act
conv 32 3 pad 1
bn
act
pool 2
dense 128
bn
act
dense 10
)";

// A CIFAR-10 network in CryptoDL's style (seed 003 section 4.2; Figure 5's layers are not in
// the text): six 3x3 convolutions with batch norm and polynomial activations, average pooling
// after each pair, then two dense layers. Narrow (8/16/32 maps) so that one encrypted batch
// runs in minutes on two cores.
constexpr const char* kCryptodlCifar = R"(# CryptoDL-style CIFAR-10 network (seed 003 sec. 4.2), reconstructed, narrow
input 3 32 32
conv 8 3 pad 1
bn
act
conv 8 3 pad 1
bn
act
pool 2
conv 16 3 pad 1
bn
act
conv 16 3 pad 1
bn
act
pool 2
conv 32 3 pad 1
bn
act
conv 32 3 pad 1
bn
act
pool 2
dense 64
bn
act
dense 10
)";

const std::map<std::string, const char*>& builtins() {
  static const std::map<std::string, const char*> m = {{"cryptonets", kCryptonets},
                                                       {"tenseal1", kTenseal1},
                                                       {"tenseal2", kTenseal2},
                                                       {"cryptodl1", kCryptodl1},
                                                       {"cryptodl2", kCryptodl2},
                                                       {"cryptodl-cifar", kCryptodlCifar}};
  return m;
}

int parse_int(const std::string& tok, int line, int min) {
  std::size_t used = 0;
  long v = 0;
  try {
    v = std::stol(tok, &used);
  } catch (...) {
    used = 0;
  }
  if (used != tok.size() || v < min || v > kMaxDim)
    throw ModelError("architecture line " + std::to_string(line) + ": \"" + tok + "\" is not an integer in [" +
                     std::to_string(min) + ", " + std::to_string(kMaxDim) + "]");
  return int(v);
}

}  // namespace

ArchSpec parse_arch(std::string_view text, std::string name) {
  ArchSpec spec;
  spec.name = std::move(name);
  spec.text = std::string(text);
  std::istringstream in{std::string(text)};
  std::string line;
  int lineno = 0;
  bool have_input = false;
  while (std::getline(in, line)) {
    ++lineno;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream ls(line);
    std::vector<std::string> tok;
    for (std::string t; ls >> t;) tok.push_back(t);
    if (tok.empty()) continue;
    auto err = [&](const std::string& what) {
      return ModelError("architecture line " + std::to_string(lineno) + ": " + what);
    };
    const std::string& op = tok[0];
    if (!have_input && op != "input") throw err("the first layer must be \"input C H W\"");
    if (op == "input") {
      if (have_input) throw err("duplicate input line");
      if (tok.size() != 4) throw err("usage: input C H W");
      spec.input = {parse_int(tok[1], lineno, 1), parse_int(tok[2], lineno, 1), parse_int(tok[3], lineno, 1)};
      have_input = true;
      continue;
    }
    if (spec.layers.size() >= std::size_t(kMaxLayers)) throw err("too many layers");
    ArchLayer l{};
    std::size_t opts = 1;
    if (op == "conv") {
      if (tok.size() < 3) throw err("usage: conv OUT K [stride S] [pad P]");
      l = {ArchLayer::Kind::conv, parse_int(tok[1], lineno, 1), parse_int(tok[2], lineno, 1), 1, 0};
      opts = 3;
    } else if (op == "pool") {
      if (tok.size() < 2) throw err("usage: pool K [stride S]");
      int k = parse_int(tok[1], lineno, 1);
      l = {ArchLayer::Kind::pool, 0, k, k, 0};
      opts = 2;
    } else if (op == "dense") {
      if (tok.size() != 2) throw err("usage: dense OUT");
      l = {ArchLayer::Kind::dense, parse_int(tok[1], lineno, 1), 0, 1, 0};
      opts = 2;
    } else if (op == "bn" || op == "act") {
      if (tok.size() != 1) throw err(op + " takes no arguments");
      l.kind = op == "bn" ? ArchLayer::Kind::bn : ArchLayer::Kind::act;
      if (l.kind == ArchLayer::Kind::bn &&
          (spec.layers.empty() ||
           (spec.layers.back().kind != ArchLayer::Kind::conv && spec.layers.back().kind != ArchLayer::Kind::dense)))
        throw err("bn must directly follow conv or dense (it is folded into that layer)");
    } else {
      throw err("unknown layer \"" + op + "\" (known: input, conv, bn, act, pool, dense)");
    }
    for (std::size_t i = opts; i < tok.size(); i += 2) {
      if (i + 1 >= tok.size()) throw err("option \"" + tok[i] + "\" needs a value");
      if (tok[i] == "stride" && (l.kind == ArchLayer::Kind::conv || l.kind == ArchLayer::Kind::pool))
        l.stride = parse_int(tok[i + 1], lineno, 1);
      else if (tok[i] == "pad" && l.kind == ArchLayer::Kind::conv)
        l.pad = parse_int(tok[i + 1], lineno, 0);
      else
        throw err("unknown option \"" + tok[i] + "\" for " + op);
    }
    spec.layers.push_back(l);
  }
  if (!have_input) throw ModelError("architecture: no input line");
  if (spec.layers.empty() || spec.layers.back().kind != ArchLayer::Kind::dense)
    throw ModelError("architecture: the last layer must be dense (the class scores)");
  (void)arch_shapes(spec);
  return spec;
}

ArchSpec builtin_arch(const std::string& name) {
  auto it = builtins().find(name);
  if (it == builtins().end()) {
    std::string known;
    for (auto& [k, v] : builtins()) known += (known.empty() ? "" : ", ") + k;
    throw ModelError("unknown architecture \"" + name + "\" (builtin: " + known + ", or a file path)");
  }
  return parse_arch(it->second, name);
}

std::vector<std::string> builtin_arch_names() {
  std::vector<std::string> names;
  for (auto& [k, v] : builtins()) names.push_back(k);
  return names;
}

ArchSpec load_arch(const std::string& name_or_path) {
  if (builtins().count(name_or_path)) return builtin_arch(name_or_path);
  std::string text = read_file_bounded(name_or_path, 1 << 20);
  try {
    return parse_arch(text, "custom");
  } catch (const ModelError& e) {
    throw ModelError(name_or_path + ": " + e.what());
  }
}

std::vector<Shape> arch_shapes(const ArchSpec& spec) {
  std::vector<Shape> shapes;
  Shape cur = spec.input;
  for (std::size_t i = 0; i < spec.layers.size(); ++i) {
    const ArchLayer& l = spec.layers[i];
    auto err = [&](const std::string& what) {
      return ModelError("architecture layer " + std::to_string(i) + ": " + what);
    };
    switch (l.kind) {
      case ArchLayer::Kind::conv: {
        long h = long(cur.h) + 2L * l.pad - l.kernel, w = long(cur.w) + 2L * l.pad - l.kernel;
        if (h < 0 || w < 0) throw err("conv kernel larger than its padded input");
        cur = {l.out, int(h / l.stride + 1), int(w / l.stride + 1)};
        break;
      }
      case ArchLayer::Kind::pool:
        if (l.kernel > cur.h || l.kernel > cur.w) throw err("pool kernel larger than its input");
        cur = {cur.c, (cur.h - l.kernel) / l.stride + 1, (cur.w - l.kernel) / l.stride + 1};
        break;
      case ArchLayer::Kind::dense:
        if (cur.size() > kMaxTensorElements || std::size_t(l.out) * cur.size() > kMaxTensorElements)
          throw err("dense layer too large");
        cur = {l.out, 1, 1};
        break;
      default:
        break;
    }
    if (cur.size() > kMaxTensorElements) throw err("tensor too large");
    shapes.push_back(cur);
  }
  return shapes;
}

Model export_model(const ArchSpec& spec, const std::vector<LayerParams>& params, const std::vector<double>& act_coeffs,
                   const InputSpec& input) {
  if (params.size() != spec.layers.size())
    throw ModelError("export: " + std::to_string(params.size()) + " parameter sets for " +
                     std::to_string(spec.layers.size()) + " layers");
  if (!(input.shape == spec.input)) throw ModelError("export: input spec shape differs from the architecture's");
  const std::vector<Shape> shapes = arch_shapes(spec);
  Model m;
  m.input = input;
  m.meta.architecture = spec.name;
  m.meta.architecture_text = spec.text;
  double pending = 1.0;  // divisor of average pooling not yet folded
  Shape cur = spec.input;
  auto fold_bn = [&](std::size_t i, std::vector<double>& w, std::vector<double>& b, int out) {
    if (i + 1 >= spec.layers.size() || spec.layers[i + 1].kind != ArchLayer::Kind::bn) return;
    const LayerParams& bn = params[i + 1];
    if (bn.gamma.size() != std::size_t(out) || bn.beta.size() != std::size_t(out) ||
        bn.mean.size() != std::size_t(out) || bn.var.size() != std::size_t(out))
      throw ModelError("export: batch norm after layer " + std::to_string(i) + " needs " + std::to_string(out) +
                       " values per statistic");
    const std::size_t per = w.size() / std::size_t(out);
    for (int o = 0; o < out; ++o) {
      const double s = bn.gamma[o] / std::sqrt(bn.var[o] + bn.eps);
      for (std::size_t k = 0; k < per; ++k) w[o * per + k] *= s;
      b[o] = (b[o] - bn.mean[o]) * s + bn.beta[o];
    }
  };
  for (std::size_t i = 0; i < spec.layers.size(); ++i) {
    const ArchLayer& l = spec.layers[i];
    const LayerParams& p = params[i];
    auto need = [&](const std::vector<double>& v, std::size_t n, const char* what) {
      if (v.size() != n)
        throw ModelError("export: layer " + std::to_string(i) + " " + what + " has " + std::to_string(v.size()) +
                         " values, expected " + std::to_string(n));
    };
    switch (l.kind) {
      case ArchLayer::Kind::conv: {
        Conv2d c;
        c.in_channels = cur.c;
        c.out_channels = l.out;
        c.kernel_h = c.kernel_w = l.kernel;
        c.stride_h = c.stride_w = l.stride;
        c.pad_h = c.pad_w = l.pad;
        need(p.weight, std::size_t(l.out) * cur.c * l.kernel * l.kernel, "weight");
        need(p.bias, std::size_t(l.out), "bias");
        c.weight = p.weight;
        c.bias = p.bias;
        for (double& v : c.weight) v *= pending;  // zero padding commutes with scaling
        pending = 1.0;
        fold_bn(i, c.weight, c.bias, l.out);
        m.layers.push_back(std::move(c));
        break;
      }
      case ArchLayer::Kind::dense: {
        Dense d;
        d.in_features = int(cur.size());
        d.out_features = l.out;
        need(p.weight, std::size_t(l.out) * cur.size(), "weight");
        need(p.bias, std::size_t(l.out), "bias");
        d.weight = p.weight;
        d.bias = p.bias;
        for (double& v : d.weight) v *= pending;
        pending = 1.0;
        fold_bn(i, d.weight, d.bias, l.out);
        m.layers.push_back(std::move(d));
        break;
      }
      case ArchLayer::Kind::bn:
        break;  // folded above
      case ArchLayer::Kind::act: {
        if (act_coeffs.empty()) throw ModelError("export: no activation coefficients");
        Poly poly{act_coeffs};
        double s = 1.0;
        for (double& c : poly.coeffs) {  // p(pending * x)
          c *= s;
          s *= pending;
        }
        pending = 1.0;
        m.layers.push_back(std::move(poly));
        break;
      }
      case ArchLayer::Kind::pool:
        m.layers.push_back(SumPool{l.kernel, l.kernel, l.stride, l.stride});
        pending /= double(l.kernel) * l.kernel;
        break;
    }
    cur = shapes[i];
  }
  validate(m);
  return m;
}

}  // namespace hecnn::nn
