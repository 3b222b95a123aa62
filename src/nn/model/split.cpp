#include "nn/model/split.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace hecnn::nn {

std::uint64_t SplitRng::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t SplitRng::below(std::uint64_t n) {
  if (n == 0) throw std::invalid_argument("SplitRng::below(0)");
  const std::uint64_t limit = ~std::uint64_t(0) - (~std::uint64_t(0) % n);
  for (;;) {
    std::uint64_t x = next();
    if (x < limit) return x % n;
  }
}

SplitKind parse_split_kind(const std::string& name) {
  if (name == "iid") return SplitKind::iid;
  if (name == "regular") return SplitKind::regular;
  if (name == "likewise") return SplitKind::likewise;
  if (name == "random") return SplitKind::random;
  throw std::invalid_argument("unknown split \"" + name + "\" (known: iid, regular, likewise, random)");
}

const char* split_kind_name(SplitKind kind) {
  switch (kind) {
    case SplitKind::iid: return "iid";
    case SplitKind::regular: return "regular";
    case SplitKind::likewise: return "likewise";
    case SplitKind::random: return "random";
  }
  return "?";
}

std::vector<std::vector<int>> split_groups(const SplitSpec& spec) {
  switch (spec.kind) {
    case SplitKind::iid:
      return std::vector<std::vector<int>>(std::size_t(std::max(spec.members, 1)), {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    case SplitKind::regular:
      return {{0, 1, 2}, {3, 4, 5}, {6, 7, 8, 9}};
    case SplitKind::likewise:
      return {{0, 6, 8}, {2, 3, 5, 7}, {1, 4, 9}};
    case SplitKind::random: {
      std::vector<int> labels = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
      SplitRng rng(spec.seed ^ 0x5eedab1e5eedab1eULL);
      rng.shuffle(labels);
      std::vector<std::vector<int>> g = {{labels[0], labels[1], labels[2]},
                                         {labels[3], labels[4], labels[5]},
                                         {labels[6], labels[7], labels[8], labels[9]}};
      for (auto& x : g) std::sort(x.begin(), x.end());
      return g;
    }
  }
  return {};
}

double split_dominance(int setting, int group_size) {
  static const double d[] = {0.0, 0.5, 0.65, 0.8, 0.9, 1.0};
  if (setting < 0 || setting >= kSplitSettings)
    throw std::invalid_argument("split setting " + std::to_string(setting) + " is not in 0..5");
  return setting == 0 ? group_size / 10.0 : d[setting];
}

std::string groups_string(const std::vector<std::vector<int>>& groups) {
  std::string s;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    if (i) s += '|';
    for (int l : groups[i]) s += char('0' + l);
  }
  return s;
}

std::vector<std::vector<std::size_t>> make_split(const SplitSpec& spec, const std::vector<std::uint8_t>& labels) {
  if (spec.members < 1 || spec.members > 64) throw std::invalid_argument("members must be in 1..64");
  SplitRng rng(spec.seed);
  std::vector<std::vector<std::size_t>> out(std::size_t(spec.members));
  if (spec.kind == SplitKind::iid) {
    std::vector<std::size_t> idx(labels.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    rng.shuffle(idx);
    const std::size_t per = labels.size() / std::size_t(spec.members);
    for (std::size_t m = 0; m < out.size(); ++m) out[m].assign(idx.begin() + long(m * per), idx.begin() + long((m + 1) * per));
    return out;
  }
  if (spec.members != 3) throw std::invalid_argument("skewed splits have exactly 3 members");
  const auto groups = split_groups(spec);
  const std::size_t size = spec.member_size ? spec.member_size : labels.size() / 3;
  for (std::size_t m = 0; m < 3; ++m) {
    std::vector<bool> own(10, false);
    for (int l : groups[m]) own[std::size_t(l)] = true;
    std::vector<std::size_t> in, outside;
    for (std::size_t i = 0; i < labels.size(); ++i) (own[labels[i]] ? in : outside).push_back(i);
    const double d = split_dominance(spec.setting, int(groups[m].size()));
    std::size_t n_in = std::size_t(std::llround(d * double(size)));
    std::size_t n_out = size - n_in;
    // Shrink the member (keeping the proportion) if a pool is too small.
    double shrink = 1.0;
    if (n_in > in.size()) shrink = std::min(shrink, double(in.size()) / double(n_in));
    if (n_out > outside.size()) shrink = std::min(shrink, double(outside.size()) / double(n_out));
    if (shrink < 1.0) {
      n_in = std::min(in.size(), std::size_t(std::floor(double(n_in) * shrink)));
      n_out = std::min(outside.size(), std::size_t(std::floor(double(n_out) * shrink)));
    }
    rng.shuffle(in);
    rng.shuffle(outside);
    std::vector<std::size_t>& v = out[m];
    v.assign(in.begin(), in.begin() + long(n_in));
    v.insert(v.end(), outside.begin(), outside.begin() + long(n_out));
    rng.shuffle(v);
  }
  return out;
}

}  // namespace hecnn::nn
