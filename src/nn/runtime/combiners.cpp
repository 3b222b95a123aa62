#include "nn/runtime/combiners.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "math/parallel.h"
#include "nn/model/forward.h"

namespace hecnn::nn::runtime {

MemberLogits member_logits(std::span<const Model> members, const Dataset& ds, std::size_t first, std::size_t count) {
  if (members.empty()) throw std::invalid_argument("combiner fit: no members");
  if (count == 0) throw std::invalid_argument("combiner fit: no validation images");
  if (first > ds.count() || count > ds.count() - first)
    throw std::invalid_argument("combiner fit: validation images " + std::to_string(first) + ".." + std::to_string(first + count) +
                                " outside the dataset's " + std::to_string(ds.count()));
  const std::size_t sz = members[0].input.shape.size();
  if (ds.image_size() != sz)
    throw std::invalid_argument("combiner fit: validation images have " + std::to_string(ds.image_size()) + " values, the members expect " +
                                std::to_string(sz));
  MemberLogits v;
  v.images = count;
  v.members = members.size();
  v.classes = std::size_t(members[0].num_classes());
  for (const auto& m : members)
    if (std::size_t(m.num_classes()) != v.classes) throw std::invalid_argument("combiner fit: members differ in their class counts");
  v.z.assign(count * v.members * v.classes, 0.0);
  v.labels.assign(ds.labels.begin() + std::ptrdiff_t(first), ds.labels.begin() + std::ptrdiff_t(first + count));
  math::parallel_for(count, [&](std::size_t n) {
    for (std::size_t i = 0; i < v.members; ++i) {
      const auto z = forward(members[i], prepare_input(members[i], std::span<const std::uint8_t>(ds.image(first + n), sz)));
      std::copy(z.begin(), z.end(), v.z.begin() + std::ptrdiff_t((n * v.members + i) * v.classes));
    }
  });
  return v;
}

std::vector<double> AffineCombiner::apply(std::span<const double> z) const {
  std::vector<double> y(bias);
  for (std::size_t c = 0; c < classes; ++c)
    for (std::size_t k = 0; k < inputs; ++k) y[c] += weights[c * inputs + k] * z[k];
  return y;
}

AffineCombiner fit_normalization(const MemberLogits& v) {
  const std::size_t M = v.members, C = v.classes, K = M * C;
  std::vector<double> mu(K, 0.0);
  for (std::size_t n = 0; n < v.images; ++n)
    for (std::size_t k = 0; k < K; ++k) mu[k] += v.z[n * K + k];
  for (double& m : mu) m /= double(v.images);
  AffineCombiner a;
  a.inputs = K;
  a.classes = C;
  a.weights.assign(C * K, 0.0);
  a.bias.assign(C, 0.0);
  for (std::size_t i = 0; i < M; ++i) {
    double ss = 0;
    for (std::size_t n = 0; n < v.images; ++n)
      for (std::size_t c = 0; c < C; ++c) {
        const double d = v.at(n, i, c) - mu[i * C + c];
        ss += d * d;
      }
    const double sigma = std::max(1e-6, std::sqrt(ss / double(v.images * C)));
    for (std::size_t c = 0; c < C; ++c) {
      a.weights[c * K + i * C + c] = 1 / sigma;
      a.bias[c] -= mu[i * C + c] / sigma;
    }
  }
  return a;
}

MemberTemperatures fit_temperatures(const MemberLogits& v) {
  MemberTemperatures t;
  for (std::size_t i = 0; i < v.members; ++i) {
    double mean = 0;
    for (std::size_t n = 0; n < v.images; ++n)
      for (std::size_t c = 0; c < v.classes; ++c) mean += v.at(n, i, c);
    mean /= double(v.images * v.classes);
    double low = 0;
    for (std::size_t n = 0; n < v.images; ++n)
      for (std::size_t c = 0; c < v.classes; ++c) low = std::min(low, v.at(n, i, c) - mean);
    t.shift.push_back(mean);
    t.temperature.push_back(std::max(1e-3, -low / 2 * 1.25));
  }
  return t;
}

double combiner_accuracy(const AffineCombiner& a, const MemberLogits& v) {
  std::size_t right = 0;
  const std::size_t K = v.members * v.classes;
  for (std::size_t n = 0; n < v.images; ++n) {
    const auto y = a.apply(std::span<const double>(v.z.data() + n * K, K));
    right += std::size_t(std::max_element(y.begin(), y.end()) - y.begin()) == v.labels[n];
  }
  return double(right) / double(v.images);
}

StackerFit fit_stacker(const MemberLogits& v, const StackerOptions& opt) {
  const std::size_t N = v.images, C = v.classes, K = v.members * C;
  for (auto l : v.labels)
    if (l >= C) throw std::invalid_argument("combiner fit: a validation label is outside the members' classes");
  if (!(opt.iterations > 0) || !(opt.learning_rate > 0) || !(opt.l2 >= 0)) throw std::invalid_argument("stacker: bad options");
  // Standardize each input: x = (z - m) / s.
  std::vector<double> m(K, 0.0), s(K, 0.0);
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t k = 0; k < K; ++k) m[k] += v.z[n * K + k];
  for (double& x : m) x /= double(N);
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t k = 0; k < K; ++k) s[k] += (v.z[n * K + k] - m[k]) * (v.z[n * K + k] - m[k]);
  for (double& x : s) x = std::max(1e-9, std::sqrt(x / double(N)));
  std::vector<double> x(N * K);
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t k = 0; k < K; ++k) x[n * K + k] = (v.z[n * K + k] - m[k]) / s[k];

  // Parameters: W (C x K) then b (C); Adam on the mean cross-entropy + l2/2 |W|^2.
  const std::size_t P = C * K + C;
  std::vector<double> w(P, 0.0), g(P), m1(P, 0.0), m2(P, 0.0);
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  double loss = 0;
  std::vector<double> logits(C);
  for (int it = 1; it <= opt.iterations; ++it) {
    std::fill(g.begin(), g.end(), 0.0);
    loss = 0;
    for (std::size_t n = 0; n < N; ++n) {
      const double* xn = &x[n * K];
      double mx = -1e300;
      for (std::size_t c = 0; c < C; ++c) {
        double y = w[C * K + c];
        for (std::size_t k = 0; k < K; ++k) y += w[c * K + k] * xn[k];
        logits[c] = y;
        mx = std::max(mx, y);
      }
      double sum = 0;
      for (std::size_t c = 0; c < C; ++c) sum += (logits[c] = std::exp(logits[c] - mx));
      loss -= std::log(std::max(logits[v.labels[n]] / sum, 1e-300));
      for (std::size_t c = 0; c < C; ++c) {
        const double d = logits[c] / sum - (c == v.labels[n] ? 1.0 : 0.0);
        for (std::size_t k = 0; k < K; ++k) g[c * K + k] += d * xn[k];
        g[C * K + c] += d;
      }
    }
    loss /= double(N);
    for (std::size_t p = 0; p < P; ++p) {
      g[p] /= double(N);
      if (p < C * K) {
        g[p] += opt.l2 * w[p];
        loss += 0.5 * opt.l2 * w[p] * w[p];
      }
      m1[p] = b1 * m1[p] + (1 - b1) * g[p];
      m2[p] = b2 * m2[p] + (1 - b2) * g[p] * g[p];
      const double mh = m1[p] / (1 - std::pow(b1, it)), vh = m2[p] / (1 - std::pow(b2, it));
      w[p] -= opt.learning_rate * mh / (std::sqrt(vh) + eps);
    }
  }
  StackerFit f;
  f.loss = loss;
  auto& a = f.combiner;
  a.inputs = K;
  a.classes = C;
  a.weights.assign(C * K, 0.0);
  a.bias.assign(C, 0.0);
  for (std::size_t c = 0; c < C; ++c) {
    a.bias[c] = w[C * K + c];
    for (std::size_t k = 0; k < K; ++k) {
      a.weights[c * K + k] = w[c * K + k] / s[k];
      a.bias[c] -= w[c * K + k] * m[k] / s[k];
    }
  }
  f.validation_accuracy = combiner_accuracy(a, v);
  return f;
}

}  // namespace hecnn::nn::runtime
