// libtorch part of the trainer: the network built from an ArchSpec, the training
// loop, and the export of trained parameters into an nn::Model.
#include "train/trainer.h"

#include "nn/model/forward.h"
#include "train/torch_data.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <mutex>
#include <numbers>

extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace hecnn::train {
namespace {

using nn::ArchLayer;
using Clock = std::chrono::steady_clock;
using detail::augment;
using detail::iota;
using detail::model_macs;
using detail::since;
using detail::to_images;
using detail::to_labels;

struct NetImpl : torch::nn::Module {
  nn::ArchSpec spec;
  ActivationSpec act;
  std::vector<torch::nn::Conv2d> convs;
  std::vector<torch::nn::Linear> denses;
  std::vector<torch::nn::BatchNorm2d> bn2;
  std::vector<torch::nn::BatchNorm1d> bn1;
  std::vector<int> slot;

  NetImpl(const nn::ArchSpec& s, const ActivationSpec& a) : spec(s), act(a), slot(s.layers.size(), -1) {
    const auto shapes = nn::arch_shapes(spec);
    nn::Shape cur = spec.input;
    for (std::size_t i = 0; i < spec.layers.size(); ++i) {
      const ArchLayer& l = spec.layers[i];
      const std::string name = "layer" + std::to_string(i);
      switch (l.kind) {
        case ArchLayer::Kind::conv:
          slot[i] = int(convs.size());
          convs.push_back(register_module(
              name, torch::nn::Conv2d(torch::nn::Conv2dOptions(cur.c, l.out, l.kernel).stride(l.stride).padding(l.pad))));
          break;
        case ArchLayer::Kind::dense:
          slot[i] = int(denses.size());
          denses.push_back(register_module(name, torch::nn::Linear(std::int64_t(cur.size()), l.out)));
          break;
        case ArchLayer::Kind::bn:
          if (spec.layers[i - 1].kind == ArchLayer::Kind::conv) {
            slot[i] = int(bn2.size());
            bn2.push_back(register_module(name, torch::nn::BatchNorm2d(cur.c)));
          } else {
            slot[i] = int(bn1.size());
            bn1.push_back(register_module(name, torch::nn::BatchNorm1d(cur.c)));
          }
          break;
        default:
          break;
      }
      cur = shapes[i];
    }
  }

  torch::Tensor activate(const torch::Tensor& x) {
    if (act.kind == "relu") return torch::relu(x);
    if (act.kind == "sigmoid") return torch::sigmoid(x);
    if (act.kind == "tanh") return torch::tanh(x);
    if (act.kind == "square") return x * x;
    const auto& c = act.coeffs;  // Horner
    torch::Tensor y = torch::full_like(x, c.back());
    for (std::size_t k = c.size() - 1; k-- > 0;) y = y * x + c[k];
    return y;
  }

  torch::Tensor forward(torch::Tensor x) {
    for (std::size_t i = 0; i < spec.layers.size(); ++i) {
      const ArchLayer& l = spec.layers[i];
      switch (l.kind) {
        case ArchLayer::Kind::conv: x = convs[std::size_t(slot[i])]->forward(x); break;
        case ArchLayer::Kind::dense:
          if (x.dim() > 2) x = x.flatten(1);
          x = denses[std::size_t(slot[i])]->forward(x);
          break;
        case ArchLayer::Kind::bn:
          x = spec.layers[i - 1].kind == ArchLayer::Kind::conv ? bn2[std::size_t(slot[i])]->forward(x)
                                                               : bn1[std::size_t(slot[i])]->forward(x);
          break;
        case ArchLayer::Kind::act: x = activate(x); break;
        case ArchLayer::Kind::pool: x = torch::avg_pool2d(x, {l.kernel, l.kernel}, {l.stride, l.stride}); break;
      }
    }
    return x;
  }

  std::vector<nn::LayerParams> export_params() {
    auto vec = [](const torch::Tensor& t) {
      torch::Tensor d = t.detach().to(torch::kDouble).contiguous();
      return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
    };
    std::vector<nn::LayerParams> p(spec.layers.size());
    for (std::size_t i = 0; i < spec.layers.size(); ++i) {
      const ArchLayer& l = spec.layers[i];
      const auto s = std::size_t(slot[i]);
      if (l.kind == ArchLayer::Kind::conv) {
        p[i].weight = vec(convs[s]->weight);
        p[i].bias = vec(convs[s]->bias);
      } else if (l.kind == ArchLayer::Kind::dense) {
        p[i].weight = vec(denses[s]->weight);
        p[i].bias = vec(denses[s]->bias);
      } else if (l.kind == ArchLayer::Kind::bn) {
        bool two = spec.layers[i - 1].kind == ArchLayer::Kind::conv;
        p[i].gamma = vec(two ? bn2[s]->weight : bn1[s]->weight);
        p[i].beta = vec(two ? bn2[s]->bias : bn1[s]->bias);
        p[i].mean = vec(two ? bn2[s]->running_mean : bn1[s]->running_mean);
        p[i].var = vec(two ? bn2[s]->running_var : bn1[s]->running_var);
        p[i].eps = two ? bn2[s]->options.eps() : bn1[s]->options.eps();
      }
    }
    return p;
  }
};
TORCH_MODULE(Net);

// Predicted class of every test image (eval mode).
torch::Tensor predict(Net& net, const torch::Tensor& x) {
  net->eval();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  for (std::int64_t s = 0; s < x.size(0); s += 1000)
    out.push_back(net->forward(x.slice(0, s, std::min<std::int64_t>(s + 1000, x.size(0)))).argmax(1));
  net->train();
  return torch::cat(out);
}

}  // namespace

void set_threads(int threads) {
  if (openblas_set_num_threads) openblas_set_num_threads(1);
  at::set_num_threads(std::max(1, threads));
  // libtorch accepts this once per process, before any parallel work: later calls keep it.
  static std::once_flag once;
  std::call_once(once, [] {
    try {
      at::set_num_interop_threads(1);
    } catch (const c10::Error&) {
    }
  });
}

TrainResult train_model(const TrainOptions& opts, const nn::Dataset& train, const nn::Dataset& test,
                        const std::optional<std::vector<std::size_t>>& subset, const ProgressFn& progress) {
  const nn::Shape in = opts.arch.input;
  if (train.channels != in.c || train.rows != in.h || train.cols != in.w)
    throw std::invalid_argument("dataset images are " + std::to_string(train.channels) + "x" +
                                std::to_string(train.rows) + "x" + std::to_string(train.cols) +
                                ", the architecture expects " + std::to_string(in.c) + "x" + std::to_string(in.h) +
                                "x" + std::to_string(in.w));
  if (opts.epochs < 1 || opts.batch_size < 1) throw std::invalid_argument("epochs and batch size must be positive");
  torch::manual_seed(opts.seed);
  const auto t0 = Clock::now();

  const std::vector<std::size_t> train_idx = subset ? *subset : iota(train.count());
  if (train_idx.empty()) throw std::invalid_argument("no training samples");
  const torch::Tensor x_train = to_images(train, train_idx, opts.input_scale, opts.input_offset);
  const torch::Tensor y_train = to_labels(train, train_idx);
  const std::vector<std::size_t> test_idx = iota(test.count());
  const torch::Tensor x_test = to_images(test, test_idx, opts.input_scale, opts.input_offset);
  const torch::Tensor y_test = to_labels(test, test_idx);

  Net net(opts.arch, opts.activation);
  std::unique_ptr<torch::optim::Optimizer> opt;
  if (opts.optimizer == "adam")
    opt = std::make_unique<torch::optim::Adam>(net->parameters(),
                                               torch::optim::AdamOptions(opts.learning_rate).weight_decay(opts.weight_decay));
  else if (opts.optimizer == "sgd")
    opt = std::make_unique<torch::optim::SGD>(
        net->parameters(),
        torch::optim::SGDOptions(opts.learning_rate).momentum(0.9).nesterov(true).weight_decay(opts.weight_decay));
  else
    throw std::invalid_argument("unknown optimizer \"" + opts.optimizer + "\" (adam, sgd)");
  auto set_lr = [&](double lr) {
    for (auto& g : opt->param_groups()) {
      if (opts.optimizer == "adam") static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
      else static_cast<torch::optim::SGDOptions&>(g.options()).lr(lr);
    }
  };

  TrainResult result;
  result.train_samples = std::int64_t(train_idx.size());
  const std::size_t n = train_idx.size(), bs = std::size_t(opts.batch_size);
  const std::size_t batches = (n + bs - 1) / bs;
  const double total_steps = double(batches) * opts.epochs;
  nn::SplitRng rng(opts.seed * 0x9e3779b97f4a7c15ULL + 1);
  std::size_t step = 0;
  const auto train_start = Clock::now();
  torch::Tensor last_pred;
  net->train();
  for (int epoch = 1; epoch <= opts.epochs; ++epoch) {
    const auto e0 = Clock::now();
    const torch::Tensor perm_t = detail::shuffled_indices(n, rng);
    double loss_sum = 0;
    std::int64_t correct = 0, seen = 0;
    for (std::size_t b = 0; b < batches; ++b, ++step) {
      set_lr(detail::scheduled_lr(opts.learning_rate, double(step), total_steps));
      const torch::Tensor idx = perm_t.slice(0, std::int64_t(b * bs), std::int64_t(std::min(n, (b + 1) * bs)));
      torch::Tensor xb = x_train.index_select(0, idx);
      if (opts.augment_shift > 0) xb = augment(xb, opts.augment_shift, rng);
      const torch::Tensor yb = y_train.index_select(0, idx);
      opt->zero_grad();
      const torch::Tensor logits = net->forward(xb);
      const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, yb);
      if (!std::isfinite(loss.item<double>()))
        throw std::runtime_error("training diverged (loss is not finite) in epoch " + std::to_string(epoch) +
                                 "; try a lower --lr or an activation with a smaller interval");
      loss.backward();
      opt->step();
      loss_sum += loss.item<double>() * double(xb.size(0));
      correct += logits.argmax(1).eq(yb).sum().item<std::int64_t>();
      seen += xb.size(0);
      if (progress && (b % 20 == 0 || b + 1 == batches)) {
        const Progress p = detail::progress_at(epoch, opts.epochs, b + 1, batches, loss_sum / double(seen),
                                               double(correct) / double(seen), double(step + 1), total_steps, train_start);
        if (b + 1 < batches) progress(p);
      }
    }
    EpochStats es;
    es.epoch = epoch;
    es.loss = loss_sum / double(seen);
    es.train_accuracy = double(correct) / double(seen);
    last_pred = predict(net, x_test);
    es.test_accuracy = last_pred.eq(y_test).to(torch::kDouble).mean().item<double>();
    es.seconds = since(e0);
    result.epochs.push_back(es);
    if (progress) {
      Progress p = detail::progress_at(epoch, opts.epochs, batches, batches, es.loss, es.train_accuracy, double(step),
                                       total_steps, train_start);
      p.epoch_done = true;
      p.test_accuracy = es.test_accuracy;
      progress(p);
    }
  }
  const torch::Tensor pred = last_pred;  // eval-mode predictions after the last epoch
  result.test_accuracy = pred.eq(y_test).to(torch::kDouble).mean().item<double>();
  result.seconds = since(t0);

  if (opts.activation.polynomial()) {
    nn::InputSpec input{in, opts.input_scale, opts.input_offset};
    result.model = nn::export_model(opts.arch, net->export_params(), opts.activation.coeffs, input);
    result.exported = true;
    std::size_t verify = opts.verify_samples;
    if (verify == 0) verify = model_macs(result.model) * double(test.count()) < 4e9 ? test.count() : 1000;
    verify = std::min(verify, test.count());
    std::size_t right = 0;
    const auto* pp = pred.data_ptr<std::int64_t>();
    for (std::size_t i = 0; i < verify; ++i) {
      const int c = nn::argmax(nn::forward(result.model, nn::prepare_input(result.model, {test.image(i), test.image_size()})));
      right += c == test.labels[i];
      result.prediction_mismatches += c != pp[i];
    }
    result.verified_samples = verify;
    result.exported_accuracy = verify ? double(right) / double(verify) : -1;
  }
  return result;
}

}  // namespace hecnn::train
