// Quantization-aware fine-tuning and the libtorch forward pass of a model file (qat.h).
#include "train/qat.h"

#include "nn/model/forward.h"
#include "nn/model/quant_rules.h"
#include "train/torch_data.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <sstream>

namespace hecnn::train {
namespace {

using Clock = std::chrono::steady_clock;

// Per layer of a model: its compiler name ("conv1", "dense2", "pool1", "act3").
std::vector<std::string> layer_names(const nn::Model& m) {
  std::vector<std::string> names;
  int conv = 0, dense = 0, pool = 0, act = 0;
  for (const auto& l : m.layers) {
    if (std::holds_alternative<nn::Conv2d>(l)) names.push_back("conv" + std::to_string(++conv));
    else if (std::holds_alternative<nn::Dense>(l)) names.push_back("dense" + std::to_string(++dense));
    else if (std::holds_alternative<nn::SumPool>(l)) names.push_back("pool" + std::to_string(++pool));
    else names.push_back("act" + std::to_string(++act));
  }
  return names;
}

int bits_for(const QatBits& b, const std::string& name, int fallback) {
  const auto it = b.layer_bits.find(name);
  return it == b.layer_bits.end() ? fallback : it->second;
}

// The compiler's BFV scale of a tensor (compiler.cpp, Lowering): integer = value * r^p * 2^a,
// r = 1 / input scale; computed with the compiler's formula so roundings agree bit for bit.
struct Scale {
  double r = 1;
  int p = 1, a = 0;
  double real() const { return std::pow(r, p) * std::ldexp(1.0, a); }
};

// v rounded at the integer grid of `scale` (v * scale rounded half away from zero).
double at_scale(double v, double scale) { return std::round(v * scale) / scale; }

// A polynomial activation as the compiler's BFV lowering sees it at input scale s (trailing
// coefficients that round to 0 dropped): the coefficients it computes with, the output scale.
struct PolyAtScale {
  std::vector<double> c;
  bool pure_square = false;
  Scale out;
};
PolyAtScale poly_at_scale(std::vector<double> c, int cb, Scale in) {
  while (c.size() > 1 && c.back() == 0) c.pop_back();
  while (c.size() > 2 && std::llround(std::ldexp(c.back(), cb)) == 0) c.pop_back();
  PolyAtScale r;
  const int d = int(c.size()) - 1;
  r.pure_square = d == 2 && c[0] == 0 && c[1] == 0 && c[2] == 1;
  if (r.pure_square || d < 1) {
    r.c = c;
    r.out = {in.r, 2 * in.p, 2 * in.a};
    return r;
  }
  const double s = in.real();
  // C_j = round(c_j 2^cb s^(d-j)) for j >= 1, c_0 at the output scale s^d 2^cb.
  for (int j = 1; j <= d; ++j) {
    const double f = std::ldexp(1.0, cb) * std::pow(s, d - j);
    c[std::size_t(j)] = double(std::llround(std::ldexp(c[std::size_t(j)], cb) * std::pow(s, d - j))) / f;
  }
  c[0] = std::round(std::ldexp(c[0], cb) * std::pow(s, d)) / (std::ldexp(1.0, cb) * std::pow(s, d));
  r.c = c;
  r.out = {in.r, d * in.p, d * in.a + cb};
  return r;
}

// Round half away from zero (the rules' std::llround; torch::round rounds half to even).
torch::Tensor round_away(const torch::Tensor& x) { return torch::sign(x) * torch::floor(torch::abs(x) + 0.5); }

// nn::weight_exponent of a weight tensor.
int weight_exponent_of(const torch::Tensor& w, int bits) {
  const double m = w.detach().abs().max().item<double>();
  const double one[] = {m};
  return nn::weight_exponent(one, bits);
}

// w on the grid of 2^-k in the forward pass, the identity in the backward pass.
torch::Tensor fake_quant(const torch::Tensor& w, int k) {
  const torch::Tensor d = w.detach();
  const double s = std::ldexp(1.0, k);
  return w + (round_away(d * s) / s - d);
}

// b at the integer grid of `scale` (computed in double: scales pass float's range at depth).
torch::Tensor fake_quant_at(const torch::Tensor& b, double scale) {
  const torch::Tensor d = b.detach().to(torch::kDouble);
  return b + (round_away(d * scale) / scale - d).to(b.scalar_type());
}

// A model file as a libtorch module: one weight and one bias tensor per conv/dense layer.
struct ModelNetImpl : torch::nn::Module {
  nn::Model model;
  std::vector<nn::Shape> in_shapes;
  std::vector<torch::Tensor> weight, bias;  // by layer index (undefined for pool/poly)
  std::vector<int> wbits;                   // by layer index (conv/dense)
  std::vector<std::vector<double>> coeffs;  // by layer index (poly), on the grid when quantizing
  bool quantize = false;

  ModelNetImpl(const nn::Model& m, torch::Dtype dtype, const QatBits* bits)
      : model(m), weight(m.layers.size()), bias(m.layers.size()), wbits(m.layers.size(), 0), coeffs(m.layers.size()) {
    const auto shapes = nn::output_shapes(m);
    const auto names = layer_names(m);
    nn::Shape in = m.input.shape;
    auto tensor = [&](const std::vector<double>& v, std::vector<std::int64_t> shape) {
      return torch::tensor(v, torch::kDouble).reshape(shape).to(dtype).clone();
    };
    for (std::size_t i = 0; i < m.layers.size(); ++i) {
      in_shapes.push_back(in);
      const std::string& name = names[i];
      if (const auto* c = std::get_if<nn::Conv2d>(&m.layers[i])) {
        weight[i] = register_parameter(name + "_w", tensor(c->weight, {c->out_channels, c->in_channels, c->kernel_h, c->kernel_w}));
        bias[i] = register_parameter(name + "_b", tensor(c->bias, {c->out_channels}));
        if (bits) wbits[i] = bits_for(*bits, name, bits->weight_bits);
      } else if (const auto* d = std::get_if<nn::Dense>(&m.layers[i])) {
        weight[i] = register_parameter(name + "_w", tensor(d->weight, {d->out_features, d->in_features}));
        bias[i] = register_parameter(name + "_b", tensor(d->bias, {d->out_features}));
        if (bits) wbits[i] = bits_for(*bits, name, bits->weight_bits);
      } else if (const auto* p = std::get_if<nn::Poly>(&m.layers[i])) {
        coeffs[i] = p->coeffs;
        if (bits) wbits[i] = bits_for(*bits, name, bits->coeff_bits);
      }
      in = shapes[i];
    }
    quantize = bits != nullptr;
    if (bits) input_bits = bits->input_bits;
  }
  int input_bits = 8;

  // With quantize: the compiler's BFV rounding of every number at the scale it has there
  // (weights on their grid, biases and coefficients at their tensor's scale), gradients
  // straight through; the grids follow the weights as they change.
  torch::Tensor forward(torch::Tensor x) {
    const std::int64_t n = x.size(0);
    Scale sc{1.0 / model.input.scale, 1, input_bits - 8};
    bool first = true;
    for (std::size_t i = 0; i < model.layers.size(); ++i) {
      const nn::Shape in = in_shapes[i];
      const nn::Layer& l = model.layers[i];
      const bool linear = std::holds_alternative<nn::Conv2d>(l) || std::holds_alternative<nn::Dense>(l);
      torch::Tensor w = weight[i], b = bias[i];
      if (linear && quantize) {
        const int k = weight_exponent_of(weight[i], wbits[i]);
        w = fake_quant(weight[i], k);
        sc.a += k;
        if (!(first && model.input.offset != 0)) b = fake_quant_at(bias[i], sc.real());
      }
      if (const auto* c = std::get_if<nn::Conv2d>(&l)) {
        x = x.reshape({n, in.c, in.h, in.w});
        x = torch::conv2d(x, w, b, {c->stride_h, c->stride_w}, {c->pad_h, c->pad_w});
      } else if (std::holds_alternative<nn::Dense>(l)) {
        x = x.reshape({n, std::int64_t(in.size())});
        x = torch::linear(x, w, b);
      } else if (const auto* p = std::get_if<nn::SumPool>(&l)) {
        x = x.reshape({n, in.c, in.h, in.w});
        x = torch::avg_pool2d(x, {p->kernel_h, p->kernel_w}, {p->stride_h, p->stride_w}) * double(p->kernel_h * p->kernel_w);
      } else {
        std::vector<double> c = coeffs[i];
        if (quantize) {
          const PolyAtScale q = poly_at_scale(c, wbits[i], sc);
          c = q.c;
          sc = q.out;
        }
        torch::Tensor y = torch::full_like(x, c.back());  // Horner
        for (std::size_t k = c.size() - 1; k-- > 0;) y = y * x + c[k];
        x = y;
      }
      first = first && !linear;
    }
    return x.reshape({n, -1});
  }

  // The module's parameters back in the model (on the grids when quantizing).
  nn::Model exported(const QatBits* bits) {
    nn::Model m = model;
    auto vec = [](const torch::Tensor& t) {
      torch::Tensor d = t.detach().to(torch::kDouble).contiguous();
      return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
    };
    for (std::size_t i = 0; i < m.layers.size(); ++i) {
      if (auto* c = std::get_if<nn::Conv2d>(&m.layers[i])) {
        c->weight = vec(weight[i]);
        c->bias = vec(bias[i]);
      } else if (auto* d = std::get_if<nn::Dense>(&m.layers[i])) {
        d->weight = vec(weight[i]);
        d->bias = vec(bias[i]);
      }
    }
    return bits ? round_to_grid(m, *bits) : m;
  }
};
TORCH_MODULE(ModelNet);

}  // namespace

std::string QatBits::str() const {
  std::ostringstream os;
  os << "input=" << input_bits << ",weight=" << weight_bits << ",coeff=" << coeff_bits;
  for (const auto& [k, v] : layer_bits) os << "," << k << "=" << v;
  return os.str();
}

QatBits parse_qat_bits(const std::string& text) {
  QatBits b;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      throw std::invalid_argument("--qat-bits: '" + item + "' is not NAME=BITS");
    std::string name = item.substr(0, eq);
    const std::string value = item.substr(eq + 1);
    std::size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != value.size()) throw std::invalid_argument("--qat-bits: '" + value + "' in '" + item + "' is not a whole number");
    if (name.rfind("m0/", 0) == 0) name = name.substr(3);
    auto in_range = [&](int lo, int hi) {
      if (v < lo || v > hi)
        throw std::invalid_argument("--qat-bits: " + name + "=" + value + " is outside " + std::to_string(lo) + ".." +
                                    std::to_string(hi));
    };
    const bool weights = name == "weight" || name.rfind("conv", 0) == 0 || name.rfind("dense", 0) == 0;
    const bool coefficients = name == "coeff" || name.rfind("act", 0) == 0;
    if (name == "input") {
      in_range(1, 8);
      b.input_bits = v;
    } else if (weights || coefficients) {
      weights ? in_range(2, 24) : in_range(0, 24);
      if (name == "weight") b.weight_bits = v;
      else if (name == "coeff") b.coeff_bits = v;
      else b.layer_bits[name] = v;
    } else {
      throw std::invalid_argument("--qat-bits: unknown name '" + name + "' (input, weight, coeff, convN, denseN, actN)");
    }
  }
  return b;
}

void check_qat_bits(const nn::Model& m, const QatBits& bits) {
  const auto names = layer_names(m);
  for (const auto& [name, v] : bits.layer_bits) {
    if (std::find(names.begin(), names.end(), name) == names.end() || name.rfind("pool", 0) == 0) {
      std::string known;
      for (const auto& n : names)
        if (n.rfind("pool", 0) != 0) known += (known.empty() ? "" : ", ") + n;
      throw std::invalid_argument("--qat-bits: the model has no layer '" + name + "' (it has " + known + ")");
    }
  }
}

nn::Model round_to_grid(const nn::Model& m, const QatBits& bits) {
  nn::Model out = m;
  const auto names = layer_names(m);
  Scale sc{1.0 / m.input.scale, 1, bits.input_bits - 8};
  bool first = true;
  for (std::size_t i = 0; i < out.layers.size(); ++i) {
    auto round_linear = [&](std::vector<double>& w, std::vector<double>& b) {
      const int k = nn::weight_exponent(w, bits_for(bits, names[i], bits.weight_bits));
      for (double& x : w) x = nn::on_grid(x, k);
      sc.a += k;
      // The first layer's bias carries the input offset (offset * sum of weights) when it
      // rounds: left as it is then (the models trained here have offset 0).
      if (!(first && m.input.offset != 0))
        for (double& x : b) x = at_scale(x, sc.real());
      first = false;
    };
    if (auto* c = std::get_if<nn::Conv2d>(&out.layers[i])) round_linear(c->weight, c->bias);
    else if (auto* d = std::get_if<nn::Dense>(&out.layers[i])) round_linear(d->weight, d->bias);
    else if (auto* p = std::get_if<nn::Poly>(&out.layers[i])) {
      const PolyAtScale q = poly_at_scale(p->coeffs, bits_for(bits, names[i], bits.coeff_bits), sc);
      for (std::size_t j = 0; j < q.c.size(); ++j) p->coeffs[j] = q.c[j];
      for (std::size_t j = q.c.size(); j < p->coeffs.size(); ++j) p->coeffs[j] = 0;
      sc = q.out;
    }
  }
  return out;
}

QuantAgreement measure_quantized(const nn::Model& m, const QatBits& bits, const nn::Dataset& test) {
  const nn::Model q = round_to_grid(m, bits);
  std::size_t fr = 0, qr = 0, same = 0;
  std::vector<std::uint8_t> rounded(test.image_size());
  for (std::size_t i = 0; i < test.count(); ++i) {
    const std::span<const std::uint8_t> raw{test.image(i), test.image_size()};
    const int f = nn::argmax(nn::forward(m, nn::prepare_input(m, raw)));
    std::vector<double> x(raw.size());
    for (std::size_t k = 0; k < raw.size(); ++k) x[k] = nn::quantized_raw(raw[k], bits.input_bits) * m.input.scale + m.input.offset;
    const int g = nn::argmax(nn::forward(q, x));
    fr += f == test.labels[i];
    qr += g == test.labels[i];
    same += f == g;
  }
  const double n = double(std::max<std::size_t>(1, test.count()));
  return {double(fr) / n, double(qr) / n, double(same) / n};
}

std::vector<std::vector<double>> torch_forward(const nn::Model& m, const std::vector<std::vector<double>>& inputs) {
  const std::size_t size = m.input.shape.size();
  std::vector<double> flat;
  for (const auto& x : inputs) {
    if (x.size() != size)
      throw nn::ModelError("input has " + std::to_string(x.size()) + " values, model expects " + std::to_string(size));
    flat.insert(flat.end(), x.begin(), x.end());
  }
  torch::NoGradGuard no_grad;
  ModelNet net(m, torch::kDouble, nullptr);
  const auto n = std::int64_t(inputs.size());
  const torch::Tensor y = net->forward(torch::tensor(flat, torch::kDouble).reshape({n, std::int64_t(size)})).contiguous();
  std::vector<std::vector<double>> out(inputs.size());
  for (std::int64_t i = 0; i < n; ++i) {
    const double* p = y[i].data_ptr<double>();
    out[std::size_t(i)].assign(p, p + y.size(1));
  }
  return out;
}

QatResult fine_tune_quantized(const nn::Model& init, const QatOptions& opts, const nn::Dataset& train,
                              const nn::Dataset& test, const std::optional<std::vector<std::size_t>>& subset,
                              const ProgressFn& progress) {
  const nn::Shape in = init.input.shape;
  for (const nn::Dataset* d : {&train, &test})
    if (d->channels != in.c || d->rows != in.h || d->cols != in.w)
      throw std::invalid_argument("dataset images are " + std::to_string(d->channels) + "x" + std::to_string(d->rows) +
                                  "x" + std::to_string(d->cols) + ", the model expects " + std::to_string(in.c) + "x" +
                                  std::to_string(in.h) + "x" + std::to_string(in.w));
  if (opts.epochs < 0 || opts.batch_size < 1) throw std::invalid_argument("QAT epochs must be >= 0 and the batch size positive");
  if (!(opts.learning_rate > 0) || !std::isfinite(opts.learning_rate))
    throw std::invalid_argument("QAT learning rate must be positive");
  if (!(opts.raw_share >= 0 && opts.raw_share <= 1)) throw std::invalid_argument("raw share must be in [0, 1]");
  check_qat_bits(init, opts.bits);
  torch::manual_seed(opts.seed);
  const auto t0 = Clock::now();

  // The test set the accuracies are measured on (all of it unless that is billions of MACs).
  nn::Dataset eval = test;
  const std::size_t keep = detail::model_macs(init) * double(test.count()) < 4e9 ? test.count() : std::min<std::size_t>(1000, test.count());
  eval.labels.resize(keep);
  eval.images.resize(keep * test.image_size());

  QatResult r;
  r.test_samples = keep;
  const QuantAgreement before = measure_quantized(init, opts.bits, eval);
  r.accuracy_before = before.float_accuracy;
  r.quantized_accuracy_before = before.quantized_accuracy;
  r.agreement_before = before.agreement;

  const std::vector<std::size_t> idx = subset ? *subset : detail::iota(train.count());
  if (idx.empty() && opts.epochs > 0) throw std::invalid_argument("no training samples");
  std::vector<double> table(256);
  for (int v = 0; v < 256; ++v) table[std::size_t(v)] = nn::quantized_raw(std::uint8_t(v), opts.bits.input_bits);
  const double sc = init.input.scale, off = init.input.offset;
  const torch::Tensor x_raw = detail::to_images(train, idx, sc, off);
  const torch::Tensor x_q = detail::to_images(train, idx, sc, off, table);
  const torch::Tensor y = detail::to_labels(train, idx);
  const auto test_idx = detail::iota(eval.count());
  const torch::Tensor xt = detail::to_images(eval, test_idx, sc, off, table);
  const torch::Tensor yt = detail::to_labels(eval, test_idx);

  auto finish = [&](nn::Model model, std::int64_t samples) {
    r.model = std::move(model);
    r.train_samples = samples;
    const QuantAgreement after = measure_quantized(r.model, opts.bits, eval);
    r.accuracy = after.float_accuracy;
    r.quantized_accuracy = after.quantized_accuracy;
    r.agreement = after.agreement;
    r.seconds = detail::since(t0);
    return r;
  };
  if (opts.epochs == 0) return finish(round_to_grid(init, opts.bits), 0);  // no pass through float32 tensors
  ModelNet net(init, torch::kFloat, &opts.bits);
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(opts.learning_rate));
  const std::size_t n = idx.size(), bs = std::size_t(opts.batch_size);
  const std::size_t batches = n ? (n + bs - 1) / bs : 0;
  const double total = double(batches) * opts.epochs;
  nn::SplitRng rng(opts.seed * 0x9e3779b97f4a7c15ULL + 2);
  std::size_t step = 0;
  const auto train_start = Clock::now();
  for (int epoch = 1; epoch <= opts.epochs; ++epoch) {
    const auto e0 = Clock::now();
    const torch::Tensor perm_t = detail::shuffled_indices(n, rng);
    double loss_sum = 0;
    std::int64_t correct = 0, seen = 0;
    net->train();
    for (std::size_t b = 0; b < batches; ++b, ++step) {
      for (auto& g : opt.param_groups())
        static_cast<torch::optim::AdamOptions&>(g.options()).lr(detail::scheduled_lr(opts.learning_rate, double(step), total));
      const torch::Tensor bi = perm_t.slice(0, std::int64_t(b * bs), std::int64_t(std::min(n, (b + 1) * bs)));
      const bool raw = double(rng.below(1u << 20)) < opts.raw_share * double(1u << 20);
      torch::Tensor xb = (raw ? x_raw : x_q).index_select(0, bi);
      if (opts.augment_shift > 0) xb = detail::augment(xb, opts.augment_shift, rng);
      const torch::Tensor yb = y.index_select(0, bi);
      opt.zero_grad();
      const torch::Tensor logits = net->forward(xb);
      const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, yb);
      if (!std::isfinite(loss.item<double>()))
        throw std::runtime_error("quantization-aware fine-tuning diverged (loss is not finite) in epoch " +
                                 std::to_string(epoch) + "; try a lower --qat-lr");
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>() * double(xb.size(0));
      correct += logits.argmax(1).eq(yb).sum().item<std::int64_t>();
      seen += xb.size(0);
      if (progress && (b % 20 == 0) && b + 1 < batches) {
        const Progress p = detail::progress_at(epoch, opts.epochs, b + 1, batches, loss_sum / double(seen),
                                               double(correct) / double(seen), double(step + 1), total, train_start);
        progress(p);
      }
    }
    EpochStats es;
    es.epoch = epoch;
    es.loss = seen ? loss_sum / double(seen) : 0;
    es.train_accuracy = seen ? double(correct) / double(seen) : 0;
    {
      net->eval();
      torch::NoGradGuard no_grad;
      std::int64_t right = 0;
      for (std::int64_t s = 0; s < xt.size(0); s += 1000) {
        const auto e = std::min<std::int64_t>(s + 1000, xt.size(0));
        right += net->forward(xt.slice(0, s, e)).argmax(1).eq(yt.slice(0, s, e)).sum().item<std::int64_t>();
      }
      es.test_accuracy = double(right) / double(std::max<std::int64_t>(1, xt.size(0)));
    }
    es.seconds = detail::since(e0);
    r.epochs.push_back(es);
    if (progress) {
      Progress p = detail::progress_at(epoch, opts.epochs, batches, batches, es.loss, es.train_accuracy, double(step),
                                       total, train_start);
      p.epoch_done = true;
      p.test_accuracy = es.test_accuracy;
      progress(p);
    }
  }
  return finish(net->exported(&opts.bits), std::int64_t(n));
}

}  // namespace hecnn::train
