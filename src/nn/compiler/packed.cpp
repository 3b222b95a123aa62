#include "nn/compiler/packed.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "fhe/ckks/presets.h"
#include "fhe/rlwe/params.h"
#include "math/he_standard.h"
#include "nn/compiler/packed_executor.h"
#include "nn/compiler/plan_io.h"
#include "nn/model/forward.h"

namespace hecnn::nn::compiler {

std::size_t PackedLayout::size() const { return count; }

std::int64_t PackedLayout::position(std::size_t e) const {
  if (!positions.empty()) return positions.at(e);
  std::int64_t pos = base;
  for (std::size_t i = dims.size(); i-- > 0;) {
    const std::size_t d = std::size_t(dims[i]);
    pos += std::int64_t(e % d) * strides[i];
    e /= d;
  }
  return pos;
}

const char* packed_op_name(PackedOpKind k) {
  switch (k) {
    case PackedOpKind::linear: return "linear";
    case PackedOpKind::poly: return "poly";
    case PackedOpKind::replicate: return "replicate";
  }
  return "?";
}

namespace {

using Row = std::vector<std::pair<std::uint32_t, double>>;

// A linear map on flat tensors: out[o] = bias[o] + sum rows[o] (in, w).
struct Sparse {
  std::size_t n_in = 0, n_out = 0;
  std::vector<Row> rows;
  std::vector<double> bias;
};

Sparse conv_matrix(const Conv2d& c, Shape in, Shape out) {
  Sparse m;
  m.n_in = in.size();
  m.n_out = out.size();
  m.rows.resize(m.n_out);
  m.bias.resize(m.n_out);
  for (int co = 0; co < out.c; ++co)
    for (int y = 0; y < out.h; ++y)
      for (int x = 0; x < out.w; ++x) {
        const std::size_t o = (std::size_t(co) * out.h + y) * out.w + x;
        m.bias[o] = c.bias[std::size_t(co)];
        for (int ci = 0; ci < in.c; ++ci)
          for (int dy = 0; dy < c.kernel_h; ++dy)
            for (int dx = 0; dx < c.kernel_w; ++dx) {
              const int iy = y * c.stride_h + dy - c.pad_h, ix = x * c.stride_w + dx - c.pad_w;
              if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) continue;
              const double w = c.weight[((std::size_t(co) * in.c + ci) * c.kernel_h + dy) * c.kernel_w + dx];
              if (w == 0) continue;
              m.rows[o].emplace_back(std::uint32_t((std::size_t(ci) * in.h + iy) * in.w + ix), w);
            }
      }
  return m;
}

Sparse dense_matrix(const Dense& d) {
  Sparse m;
  m.n_in = std::size_t(d.in_features);
  m.n_out = std::size_t(d.out_features);
  m.rows.resize(m.n_out);
  m.bias = d.bias;
  for (std::size_t o = 0; o < m.n_out; ++o)
    for (std::size_t i = 0; i < m.n_in; ++i) {
      const double w = d.weight[o * m.n_in + i];
      if (w != 0) m.rows[o].emplace_back(std::uint32_t(i), w);
    }
  return m;
}

Sparse pool_matrix(const SumPool& p, Shape in, Shape out) {
  Sparse m;
  m.n_in = in.size();
  m.n_out = out.size();
  m.rows.resize(m.n_out);
  m.bias.assign(m.n_out, 0.0);
  for (int c = 0; c < out.c; ++c)
    for (int y = 0; y < out.h; ++y)
      for (int x = 0; x < out.w; ++x) {
        const std::size_t o = (std::size_t(c) * out.h + y) * out.w + x;
        for (int dy = 0; dy < p.kernel_h; ++dy)
          for (int dx = 0; dx < p.kernel_w; ++dx) {
            const int iy = y * p.stride_h + dy, ix = x * p.stride_w + dx;
            if (iy >= in.h || ix >= in.w) continue;
            m.rows[o].emplace_back(std::uint32_t((std::size_t(c) * in.h + iy) * in.w + ix), 1.0);
          }
      }
  return m;
}

// y = lead * x + constant, elementwise.
Sparse affine_matrix(std::size_t n, double lead, double constant) {
  Sparse m;
  m.n_in = m.n_out = n;
  m.rows.resize(n);
  m.bias.assign(n, constant);
  for (std::size_t i = 0; i < n; ++i)
    if (lead != 0) m.rows[i].emplace_back(std::uint32_t(i), lead);
  return m;
}

// second(first(x)).
Sparse compose(const Sparse& second, const Sparse& first) {
  if (second.n_in != first.n_out) throw std::logic_error("compose: size mismatch");
  Sparse m;
  m.n_in = first.n_in;
  m.n_out = second.n_out;
  m.rows.resize(m.n_out);
  m.bias.resize(m.n_out);
  std::vector<double> acc(first.n_in, 0.0);
  std::vector<char> seen(first.n_in, 0);
  std::vector<std::uint32_t> touched;
  for (std::size_t o = 0; o < m.n_out; ++o) {
    double b = second.bias[o];
    touched.clear();
    for (const auto& [j, w2] : second.rows[o]) {
      b += w2 * first.bias[j];
      for (const auto& [i, w1] : first.rows[j]) {
        if (!seen[i]) {
          seen[i] = 1;
          touched.push_back(i);
        }
        acc[i] += w2 * w1;
      }
    }
    std::sort(touched.begin(), touched.end());
    for (std::uint32_t i : touched) {
      if (acc[i] != 0) m.rows[o].emplace_back(i, acc[i]);
      acc[i] = 0;
      seen[i] = 0;
    }
    m.bias[o] = b;
  }
  return m;
}

// A stage of the network: a (composed) linear map or an activation.
struct Stage {
  bool is_poly = false;
  Sparse lin;              // linear
  int degree = 0;          // poly: 2 or 3
  double a = 0, b = 0;     // poly form (packed.h)
  std::string label;
  Shape out_shape;
  bool first_conv = false;  // linear: exactly the model's first layer, a convolution
  const Conv2d* conv = nullptr;
  Shape conv_in;
};

std::vector<Stage> build_stages(const Model& model, double& out_mult, double& out_add) {
  const auto shapes = output_shapes(model);
  std::vector<Stage> stages;
  bool have_lin = false;
  Sparse lin;
  std::string lin_label;
  Shape cur = model.input.shape;
  double pend_lead = 1, pend_const = 0;
  bool pending = false;
  int conv_n = 0, dense_n = 0, pool_n = 0, act_n = 0;
  auto flush = [&](Shape shape) {
    if (!have_lin) return;
    Stage s;
    s.lin = std::move(lin);
    s.label = lin_label;
    s.out_shape = shape;
    stages.push_back(std::move(s));
    have_lin = false;
    lin = Sparse();
    lin_label.clear();
  };
  auto push_linear = [&](Sparse m, const std::string& name) {
    if (pending) {
      m = compose(m, affine_matrix(m.n_in, pend_lead, pend_const));
      pending = false;
      pend_lead = 1;
      pend_const = 0;
    }
    if (have_lin) {
      lin = compose(m, lin);
      lin_label += "+" + name;
    } else {
      lin = std::move(m);
      lin_label = name;
      have_lin = true;
    }
  };
  for (std::size_t li = 0; li < model.layers.size(); ++li) {
    const Layer& layer = model.layers[li];
    const Shape out = shapes[li];
    if (const auto* c = std::get_if<Conv2d>(&layer)) {
      push_linear(conv_matrix(*c, cur, out), "conv" + std::to_string(++conv_n));
    } else if (const auto* d = std::get_if<Dense>(&layer)) {
      push_linear(dense_matrix(*d), "dense" + std::to_string(++dense_n));
    } else if (const auto* p = std::get_if<SumPool>(&layer)) {
      push_linear(pool_matrix(*p, cur, out), "pool" + std::to_string(++pool_n));
    } else if (const auto* poly = std::get_if<Poly>(&layer)) {
      std::vector<double> c = poly->coeffs;
      double mx = 0;
      for (double v : c) mx = std::max(mx, std::abs(v));
      while (c.size() > 1 && std::abs(c.back()) <= 1e-12 * mx) c.pop_back();
      const int deg = int(c.size()) - 1;
      const std::string name = "act" + std::to_string(++act_n);
      if (deg > 3) {
        throw CompileError("--mode single: " + name + " is a polynomial of degree " + std::to_string(deg) +
                           "; packed programs evaluate degrees up to 3 for now");
      }
      if (deg <= 1) {
        // Affine: moves into the next linear map (or the output).
        const double lead = deg == 1 ? c[1] : 0.0;
        if (pending) {
          pend_const = lead * pend_const + c[0];
          pend_lead *= lead;
        } else {
          pend_lead = lead;
          pend_const = c[0];
          pending = true;
        }
      } else {
        flush(cur);
        if (pending) {
          // Two activations in a row: the pending affine map needs a linear op of its own.
          Stage s;
          s.lin = affine_matrix(cur.size(), pend_lead, pend_const);
          s.label = name + "/affine";
          s.out_shape = cur;
          stages.push_back(std::move(s));
          pending = false;
        }
        Stage s;
        s.is_poly = true;
        s.degree = deg;
        s.label = name;
        s.out_shape = out;
        const double lead = c[std::size_t(deg)];
        if (deg == 2) {
          s.a = c[1] / lead;
        } else {
          s.a = c[2] / lead;
          s.b = c[1] / lead;
        }
        stages.push_back(std::move(s));
        pend_lead = lead;
        pend_const = c[0];
        pending = true;
      }
    }
    cur = out;
  }
  flush(cur);
  out_mult = pending ? pend_lead : 1.0;
  out_add = pending ? pend_const : 0.0;
  // The first convolution, not composed with anything: eligible for im2col.
  if (!stages.empty() && !stages[0].is_poly && !model.layers.empty()) {
    if (const auto* c = std::get_if<Conv2d>(&model.layers[0]); c && stages[0].label == "conv1") {
      stages[0].first_conv = true;
      stages[0].conv = c;
      stages[0].conv_in = model.input.shape;
    }
  }
  return stages;
}

std::size_t pow2_ceil(std::size_t x) {
  std::size_t p = 1;
  while (p < x) p <<= 1;
  return p;
}

std::int64_t mod(std::int64_t a, std::int64_t m) { return ((a % m) + m) % m; }
// Signed representative in (-m/2, m/2].
std::int64_t signed_mod(std::int64_t a, std::int64_t m) {
  std::int64_t r = mod(a, m);
  if (r > m / 2) r -= m;
  return r;
}

// One product term of a lowering: weight * in_ct rotated by d, summed at slot `slot` of out_ct.
struct Term {
  std::uint32_t out_ct, in_ct;
  std::int64_t d;     // signed rotation
  std::uint32_t slot;
  double w;
};

struct Lowered {
  std::string kind;
  std::vector<Term> terms;
  std::vector<std::int32_t> folds;
  PackedLayout out;
  std::vector<std::int64_t> out_pos;  // global output positions per element
  std::size_t out_cts = 1;
  bool complete = false;  // the lowering succeeded
  bool valid = false;     // complete and costed
  double cost = 1e300;
  std::size_t diags = 0, babies = 0, giants = 0;
};

// Relative costs (one rotation = 1), measured at N = 8192, 7 primes on the development VM
// (bench/nn_single_bench: rotate 6.3 ms, a rotation of a hoisted group of 32 3.5 ms,
// a plaintext product about 0.3 ms).
constexpr double kCostPlainMult = 0.05, kCostHoisted = 0.55, kCostRotation = 1.0;

// Groups terms into diagonals and picks the baby-step size; fills the cost.
struct DiagKey {
  std::uint32_t out_ct, in_ct;
  std::int64_t d;
  bool operator<(const DiagKey& o) const {
    return std::tie(out_ct, in_ct, d) < std::tie(o.out_ct, o.in_ct, o.d);
  }
};

std::int64_t best_baby_size(const std::set<DiagKey>& keys, std::int64_t lane, std::size_t& babies, std::size_t& giants,
                            double* cost_out = nullptr) {
  std::vector<std::int64_t> cands;
  for (std::int64_t b = 1; b <= 64; ++b) cands.push_back(b);
  for (std::int64_t b = 128; b <= lane; b <<= 1) cands.push_back(b);
  std::int64_t unit = 0;
  for (const auto& k : keys) unit = std::gcd(unit, std::abs(k.d));
  if (unit > 1)
    for (std::int64_t m = 1; m <= 64 && unit * m <= lane; ++m) cands.push_back(unit * m);
  std::int64_t best = lane + 1;  // > any |d|: every rotation a baby
  double best_cost = 1e300;
  cands.push_back(lane + 1);
  // Rotations by d and d - lane are one rotation: both representatives are tried
  // (signed: -1 rather than lane - 1; non-negative: multiples of a stride stay multiples).
  std::int64_t unit_pos = 0;
  for (const auto& k : keys) unit_pos = std::gcd(unit_pos, mod(k.d, lane));
  if (unit_pos > 1)
    for (std::int64_t m = 1; m <= 64 && unit_pos * m <= lane; ++m) cands.push_back(unit_pos * m);
  // The rotations themselves (a channel stride, say): baby = the offset within it,
  // giant = its multiples.
  {
    std::vector<std::int64_t> ds;
    for (const auto& k : keys) {
      const std::int64_t d = std::abs(signed_mod(k.d, lane));
      if (d > 64) ds.push_back(d);
    }
    std::sort(ds.begin(), ds.end());
    ds.erase(std::unique(ds.begin(), ds.end()), ds.end());
    if (ds.size() <= 4096) cands.insert(cands.end(), ds.begin(), ds.end());
  }
  std::sort(cands.begin(), cands.end());
  cands.erase(std::unique(cands.begin(), cands.end()), cands.end());
  // Distinct (ciphertext, step) pairs, packed into one integer each, by sort and unique.
  std::vector<std::int64_t> bb, gg;
  bb.reserve(keys.size());
  gg.reserve(keys.size());
  const std::int64_t w = lane + 1;
  for (int rep = 0; rep < 2; ++rep)
  for (std::int64_t bs : cands) {
    bb.clear();
    gg.clear();
    for (const auto& k : keys) {
      const std::int64_t d = rep == 0 ? signed_mod(k.d, lane) : mod(k.d, lane);
      const std::int64_t b = bs > lane ? d : mod(d, bs);
      const std::int64_t g = d - b;
      if (mod(b, lane) != 0) bb.push_back(std::int64_t(k.in_ct) * w + mod(b, lane));
      if (mod(g, lane) != 0) gg.push_back(std::int64_t(k.out_ct) * w + mod(g, lane));
    }
    std::sort(bb.begin(), bb.end());
    bb.erase(std::unique(bb.begin(), bb.end()), bb.end());
    std::sort(gg.begin(), gg.end());
    gg.erase(std::unique(gg.begin(), gg.end()), gg.end());
    // Each input ciphertext's first baby pays the decomposition (a full rotation), the
    // others share it; giants are full rotations.
    std::size_t cts_with_babies = 0;
    for (std::size_t x = 0; x < bb.size(); ++x) cts_with_babies += x == 0 || bb[x] / w != bb[x - 1] / w;
    const double c = kCostRotation * double(gg.size()) + kCostRotation * double(cts_with_babies) +
                     kCostHoisted * double(bb.size() - cts_with_babies);
    if (c < best_cost - 1e-9) {
      best_cost = c;
      best = rep == 0 ? bs : -bs;  // negative: non-negative representatives
      babies = bb.size();
      giants = gg.size();
    }
  }
  if (cost_out) *cost_out = best_cost;
  return best;
}

double baby_giant_cost(const std::set<DiagKey>& keys, std::int64_t lane, std::size_t& babies, std::size_t& giants) {
  double c = 0;
  best_baby_size(keys, lane, babies, giants, &c);
  return c;
}

void finish_cost(Lowered& L, std::int64_t lane) {
  if (!L.complete || L.terms.empty()) return;
  std::set<DiagKey> keys;
  for (const auto& t : L.terms) keys.insert({t.out_ct, t.in_ct, t.d});
  L.diags = keys.size();
  std::size_t nb = 0, ng = 0;
  L.cost = kCostPlainMult * double(L.diags) + baby_giant_cost(keys, lane, nb, ng) + kCostRotation * double(L.folds.size());
  L.valid = true;
}

struct InputInfo {
  const PackedLayout* layout;
  std::vector<std::uint32_t> ct, slot;  // per element (canonical copy)
};

// The rotation that brings input slot sp to output slot t: modulo the period when the
// input repeats, else modulo the lane.
std::int64_t rotation_for(const PackedLayout& in, std::int64_t sp, std::int64_t t) {
  const std::int64_t m = in.period ? std::int64_t(in.period) : std::int64_t(in.lane);
  return signed_mod(sp - t, m);
}

// Diagonal lowering: each output channel is placed where its terms' rotations are
// already used by earlier channels (or as few new ones as possible); clean output.
Lowered lower_diagonal(const Sparse& M, const InputInfo& in, Shape out_shape) {
  Lowered L;
  L.kind = "diagonal";
  const std::int64_t lane = std::int64_t(in.layout->lane);
  // A dense output (C x 1 x 1) is one group of C compact positions.
  const bool flat = out_shape.h * out_shape.w == 1;
  const int C = flat ? 1 : out_shape.c, H = flat ? 1 : out_shape.h, W = flat ? out_shape.c : out_shape.w;
  const std::size_t per_ch = std::size_t(H) * std::size_t(W);
  // Relative positions within a channel: compact rows, or the input's own spacing (so
  // that strided windows keep their relative offsets: one rotation per kernel offset).
  auto minpos = [&](std::size_t o) {
    std::int64_t best = -1;
    for (const auto& [e, w] : M.rows[o]) {
      (void)w;
      const std::int64_t p = std::int64_t(in.ct[e]) * lane + in.slot[e];
      if (best < 0 || p < best) best = p;
    }
    return best;
  };
  std::int64_t ys = W, xs = 1;
  if (per_ch > 1) {
    const int yc = H / 2, xc = W / 2;
    const std::size_t oc = std::size_t(yc) * W + xc;
    const std::int64_t p0 = minpos(oc);
    if (W > 1 && xc + 1 < W) {
      const std::int64_t p1 = minpos(oc + 1);
      if (p0 >= 0 && p1 > p0) xs = p1 - p0;
    }
    if (H > 1 && yc + 1 < H) {
      const std::int64_t p2 = minpos(oc + std::size_t(W));
      if (p0 >= 0 && p2 > p0) ys = p2 - p0;
    }
    // The spacing must keep a channel's positions distinct and within a lane.
    const std::int64_t span = std::int64_t(H - 1) * ys + std::int64_t(W - 1) * xs + 1;
    bool ok = span <= lane && ys >= std::int64_t(W - 1) * xs + 1;
    if (!ok) {
      ys = W;
      xs = 1;
    }
  }
  std::vector<std::int64_t> rel(per_ch);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) rel[std::size_t(y) * W + x] = std::int64_t(y) * ys + std::int64_t(x) * xs;
  const std::int64_t span = rel.back() + 1;
  if (span > lane) return L;
  // Out ciphertexts are added as needed (at most one per channel).
  std::vector<std::vector<char>> occupied;
  std::vector<std::unordered_set<std::int64_t>> used;  // per out ct: (in_ct, d mod m)
  auto key_of = [&](std::uint32_t ic, std::int64_t d) { return std::int64_t(ic) * (lane + 1) + d; };
  L.out_pos.resize(M.n_out);
  const std::int64_t m = in.layout->period ? std::int64_t(in.layout->period) : lane;
  for (int c = 0; c < C; ++c) {
    // Base keys of this channel at offset 0: (in_ct, sp - rel) mod m.
    std::map<std::pair<std::uint32_t, std::int64_t>, std::size_t> base;
    for (std::size_t r = 0; r < per_ch; ++r) {
      const std::size_t o = std::size_t(c) * per_ch + r;
      for (const auto& [e, w] : M.rows[o]) {
        (void)w;
        base[{in.ct[e], mod(std::int64_t(in.slot[e]) - rel[r], m)}]++;
      }
    }
    // Best (fewest new rotations, then lowest ciphertext, then lowest offset) over the
    // ciphertexts in use and one fresh one. An offset's new rotations are the base keys
    // that land on no used key: |base| - hits(offset), hits counted pair by pair.
    std::size_t best_new = SIZE_MAX;
    std::int64_t best_off = -1;
    std::uint32_t best_ct = 0;
    auto fits_at = [&](std::uint32_t u, std::int64_t off) {
      if (off < 0 || off + span > lane) return false;
      for (std::size_t r = 0; r < per_ch; ++r)
        if (occupied[u][std::size_t(off + rel[r])]) return false;
      return true;
    };
    for (std::uint32_t u = 0; u < std::uint32_t(occupied.size()) && best_new > 0; ++u) {
      std::unordered_map<std::int64_t, std::size_t> hits;  // offset mod m -> base keys landing on used keys
      for (const auto& [k, cnt] : base) {
        (void)cnt;
        for (std::int64_t uk : used[u]) {
          const std::uint32_t ic = std::uint32_t(uk / (lane + 1));
          if (ic != k.first) continue;
          hits[mod(k.second - uk % (lane + 1), m)]++;
        }
      }
      std::vector<std::pair<std::size_t, std::int64_t>> cand;  // (new keys, offset residue)
      for (const auto& [r, h] : hits) cand.push_back({base.size() - h, r});
      std::sort(cand.begin(), cand.end());
      for (const auto& [nk, r] : cand) {
        if (nk >= best_new) break;
        for (std::int64_t off = r; off + span <= lane; off += m) {
          if (!fits_at(u, off)) continue;
          best_new = nk;
          best_off = off;
          best_ct = u;
          break;
        }
        if (best_ct == u && best_off >= 0 && best_new == nk) break;
      }
      if (best_new > base.size() || best_off < 0 || best_ct != u) {
        // No shared rotation fits here: the first free offset (all keys new).
        if (base.size() < best_new) {
          for (std::int64_t off = 0; off + span <= lane; ++off)
            if (fits_at(u, off)) {
              best_new = base.size();
              best_off = off;
              best_ct = u;
              break;
            }
        }
      }
    }
    if (base.size() < best_new) {
      best_new = base.size();
      best_off = 0;
      best_ct = std::uint32_t(occupied.size());
    }
    if (best_off < 0) return L;
    if (best_ct == occupied.size()) {
      occupied.emplace_back(std::size_t(lane), 0);
      used.emplace_back();
    }
    for (std::size_t r = 0; r < per_ch; ++r) {
      const std::int64_t t = best_off + rel[r];
      occupied[best_ct][std::size_t(t)] = 1;
      const std::size_t o = std::size_t(c) * per_ch + r;
      L.out_pos[o] = std::int64_t(best_ct) * lane + t;
      for (const auto& [e, w] : M.rows[o]) {
        const std::int64_t d = rotation_for(*in.layout, in.slot[e], t);
        used[best_ct].insert(key_of(in.ct[e], mod(d, m)));
        L.terms.push_back({best_ct, in.ct[e], d, std::uint32_t(t), w});
      }
    }
  }
  L.out_cts = occupied.size();
  L.out.lane = std::size_t(lane);
  L.out.cts = L.out_cts;
  L.out.clean = true;
  L.out.count = M.n_out;
  L.out.positions = L.out_pos;
  // A box (channel offsets in arithmetic progression) when it is one: fold-sum can use it.
  L.out.dims = {C, H, W};
  L.out.base = L.out_pos[0];
  const std::int64_t cs = C > 1 ? L.out_pos[per_ch] - L.out_pos[0] : std::int64_t(span);
  L.out.strides = {cs, ys, xs};
  L.out.box = true;
  for (std::size_t o = 0; o < M.n_out && L.out.box; ++o) {
    const std::size_t c = o / per_ch, r = o % per_ch;
    L.out.box = L.out_pos[o] == L.out.base + std::int64_t(c) * cs + rel[r];
  }
  L.complete = true;
  return L;
}

// Gazelle's hybrid on a single-ciphertext input, replicated with period B (R = lane / B
// copies) or not (B = the lane): J diagonals, then folds J .. B / 2. For a dense layer
// whose input spreads over the whole lane this needs J ~ outputs diagonals where the
// diagonal lowering needs about one per slot.
Lowered lower_hybrid(const Sparse& M, const InputInfo& in) {
  Lowered L;
  L.kind = "hybrid";
  const PackedLayout& lay = *in.layout;
  if (lay.cts != 1) return L;
  const std::int64_t lane = std::int64_t(lay.lane), B = lay.period ? std::int64_t(lay.period) : lane;
  const std::int64_t R = lane / B;
  for (std::size_t e = 0; e < lay.size(); ++e)
    if (std::int64_t(in.slot[e]) >= B) return L;
  std::int64_t J = std::int64_t(pow2_ceil((M.n_out + std::size_t(R) - 1) / std::size_t(R)));
  if (J > B) return L;
  L.out_pos.resize(M.n_out);
  for (std::size_t o = 0; o < M.n_out; ++o) {
    const std::int64_t a = std::int64_t(o) % J, q = std::int64_t(o) / J;
    L.out_pos[o] = q * B + a;
    for (const auto& [e, w] : M.rows[o]) {
      const std::int64_t ue = in.slot[e];
      const std::int64_t mm = mod(ue - a, B) / J;
      const std::int64_t u = a + J * mm;
      const std::int64_t d = mod(ue - u, B);
      L.terms.push_back({0, 0, d, std::uint32_t(q * B + u), w});
    }
  }
  for (std::int64_t f = J; f < B; f <<= 1) L.folds.push_back(std::int32_t(f));
  const std::size_t used_q = (M.n_out + std::size_t(J) - 1) / std::size_t(J);
  L.out.lane = std::size_t(lane);
  L.out.cts = 1;
  L.out.clean = false;
  L.out.count = M.n_out;
  L.out.dims = {int(used_q), int(J)};
  L.out.strides = {B, 1};
  L.out.base = 0;
  L.out_cts = 1;
  L.complete = true;
  return L;
}

// Few outputs: one diagonal each, then folds over the input's (power-of-two padded) box.
Lowered lower_fold_sum(const Sparse& M, const InputInfo& in) {
  Lowered L;
  L.kind = "fold-sum";
  const PackedLayout& lay = *in.layout;
  if (lay.cts != 1 || !lay.box) return L;
  const std::int64_t lane = std::int64_t(lay.lane);
  std::vector<std::int64_t> span = {0};
  for (std::size_t i = 0; i < lay.dims.size(); ++i) {
    const std::size_t r = pow2_ceil(std::size_t(lay.dims[i]));
    for (std::size_t j = 1; j < r; j <<= 1) {
      const std::int64_t f = lay.strides[i] * std::int64_t(j);
      L.folds.push_back(std::int32_t(f));
      const std::size_t n = span.size();
      for (std::size_t k = 0; k < n; ++k) span.push_back(span[k] + f);
    }
  }
  if (std::int64_t(span.size()) * std::int64_t(M.n_out) > lane) return L;
  std::vector<char> mark(std::size_t(lane), 0);
  for (std::int64_t s : span) {
    if (s >= lane || mark[std::size_t(s)]) return L;  // the box must not overlap itself
    mark[std::size_t(s)] = 1;
  }
  // Smallest gap g with disjoint translates o * g + span.
  std::int64_t g = 1;
  for (;; ++g) {
    if (g * std::int64_t(M.n_out - 1) + span.back() >= lane) return L;
    std::vector<char> occ(std::size_t(lane), 0);
    bool ok = true;
    for (std::size_t o = 0; o < M.n_out && ok; ++o)
      for (std::int64_t s : span) {
        const std::size_t p = std::size_t(mod(std::int64_t(o) * g + s, lane));
        if (occ[p]) {
          ok = false;
          break;
        }
        occ[p] = 1;
      }
    if (ok) break;
  }
  const std::int64_t base = lay.base % lane;
  L.out_pos.resize(M.n_out);
  for (std::size_t o = 0; o < M.n_out; ++o) {
    const std::int64_t t = std::int64_t(o) * g;
    L.out_pos[o] = t;
    for (const auto& [e, w] : M.rows[o]) {
      const std::int64_t p = in.slot[e];
      const std::int64_t s = mod(t + (p - base), lane);
      L.terms.push_back({0, 0, signed_mod(base - t, lane), std::uint32_t(s), w});
    }
  }
  L.out.lane = std::size_t(lane);
  L.out.cts = 1;
  L.out.clean = false;
  L.out.count = M.n_out;
  L.out.dims = {int(M.n_out)};
  L.out.strides = {g};
  L.out.base = 0;
  L.out_cts = 1;
  L.complete = true;
  return L;
}

// Builds the op's diagonals from terms (BSGS split) and the bias vectors.
PackedOp build_linear_op(const Lowered& L, const Sparse& M, std::size_t in_cts, std::int64_t lane, const std::string& label) {
  PackedOp op;
  op.kind = PackedOpKind::linear;
  op.label = label;
  op.lowering = L.kind;
  op.in_cts = in_cts;
  op.out_cts = L.out_cts;
  op.folds = L.folds;
  std::set<DiagKey> keys;
  for (const auto& t : L.terms) keys.insert({t.out_ct, t.in_ct, t.d});
  std::size_t nb = 0, ng = 0;
  const std::int64_t bs = best_baby_size(keys, lane, nb, ng);
  // diag index per key
  std::map<DiagKey, std::pair<std::size_t, std::size_t>> where;  // key -> (giant index, diag index)
  op.outs.assign(op.out_cts, {});
  std::vector<std::map<std::int64_t, std::size_t>> giant_index(op.out_cts);
  const bool nonneg = bs < 0;
  const std::int64_t bsz = nonneg ? -bs : bs;
  for (const auto& k : keys) {
    const std::int64_t d = nonneg ? mod(k.d, lane) : signed_mod(k.d, lane);
    const std::int64_t b = bsz > lane ? d : mod(d, bsz);
    const std::int64_t g = mod(d - b, lane);
    auto& gi = giant_index[k.out_ct];
    auto it = gi.find(g);
    if (it == gi.end()) {
      it = gi.emplace(g, op.outs[k.out_ct].size()).first;
      PackedGiant pg;
      pg.step = std::int32_t(g);
      op.outs[k.out_ct].push_back(std::move(pg));
    }
    PackedDiag pd;
    pd.in_ct = k.in_ct;
    pd.baby = std::int32_t(mod(b, lane));
    pd.values.assign(std::size_t(lane), 0.0);
    where[k] = {it->second, op.outs[k.out_ct][it->second].diags.size()};
    op.outs[k.out_ct][it->second].diags.push_back(std::move(pd));
  }
  for (const auto& t : L.terms) {
    const auto [gi, di] = where.at({t.out_ct, t.in_ct, t.d});
    auto& g = op.outs[t.out_ct][gi];
    // values are rotated by -giant: stored at (slot + giant).
    const std::size_t at = std::size_t(mod(std::int64_t(t.slot) + g.step, lane));
    g.diags[di].values[at] += t.w;
  }
  // Bias at the output positions.
  bool any_bias = false;
  for (double b : M.bias) any_bias |= b != 0;
  if (any_bias) {
    op.bias.assign(op.out_cts, std::vector<double>(std::size_t(lane), 0.0));
    for (std::size_t o = 0; o < M.n_out; ++o) {
      const std::int64_t p = L.out_pos[o];
      op.bias[std::size_t(p / lane)][std::size_t(p % lane)] = M.bias[o];
    }
  }
  return op;
}

struct LoweredNet {
  std::vector<PackedOp> ops;
  std::vector<std::vector<std::int64_t>> positions;  // per op: output element positions (global)
  PackedLayout input_layout;
  std::vector<std::int32_t> input_source;
  std::string packing;
  std::vector<std::int64_t> output_pos;
  int levels = 0;
};

// Lowers every stage for a lane; throws CompileError when something does not fit.
LoweredNet lower_network(const Model& model, const std::vector<Stage>& stages, std::size_t lane, bool allow_im2col,
                         const PackedOptions& opt) {
  LoweredNet net;
  const Shape in_shape = model.input.shape;
  // Input packing.
  PackedLayout cur;
  std::vector<std::int64_t> cur_pos;
  Sparse first_matrix;
  bool first_done = false;
  if (allow_im2col && !stages.empty() && stages[0].first_conv) {
    const Conv2d& c = *stages[0].conv;
    const Shape out = stages[0].out_shape;
    const std::size_t K = std::size_t(c.in_channels) * c.kernel_h * c.kernel_w;
    const std::size_t P = std::size_t(out.h) * out.w;
    const std::size_t rpc_max = lane / P;
    if (rpc_max >= 1) {
      const std::size_t cts = (K + rpc_max - 1) / rpc_max;
      // Rows spread evenly over the ciphertexts: the rotations (k - c) P of both then span
      // the same short range, so they share giant steps.
      const std::size_t rpc = (K + cts - 1) / cts;
      if (cts <= 2) {
        cur.lane = lane;
        cur.cts = cts;
        cur.dims = {int(cts), int(rpc), int(P)};
        cur.strides = {std::int64_t(lane), std::int64_t(P), 1};
        cur.count = cts * rpc * P;
        cur.clean = true;
        net.input_source.assign(cur.count, -1);
        for (std::size_t k = 0; k < K; ++k) {
          const int ci = int(k / (std::size_t(c.kernel_h) * c.kernel_w));
          const int dy = int(k / std::size_t(c.kernel_w)) % c.kernel_h, dx = int(k % std::size_t(c.kernel_w));
          for (int y = 0; y < out.h; ++y)
            for (int x = 0; x < out.w; ++x) {
              const int iy = y * c.stride_h + dy - c.pad_h, ix = x * c.stride_w + dx - c.pad_w;
              if (iy < 0 || iy >= in_shape.h || ix < 0 || ix >= in_shape.w) continue;
              net.input_source[k * P + std::size_t(y) * out.w + x] =
                  std::int32_t((std::size_t(ci) * in_shape.h + iy) * in_shape.w + ix);
            }
        }
        // The conv as a map on im2col elements: out (co, p) <- (k, p).
        first_matrix.n_in = cur.count;
        first_matrix.n_out = out.size();
        first_matrix.rows.resize(first_matrix.n_out);
        first_matrix.bias.resize(first_matrix.n_out);
        for (int co = 0; co < out.c; ++co)
          for (std::size_t p = 0; p < P; ++p) {
            const std::size_t o = std::size_t(co) * P + p;
            first_matrix.bias[o] = c.bias[std::size_t(co)];
            for (std::size_t k = 0; k < K; ++k) {
              if (net.input_source[k * P + p] < 0) continue;
              const double w = c.weight[std::size_t(co) * K + k];
              if (w != 0) first_matrix.rows[o].emplace_back(std::uint32_t(k * P + p), w);
            }
          }
        first_done = true;
        net.packing = "im2col";
      }
    }
  }
  if (!first_done) {
    const std::size_t n = in_shape.size();
    cur.lane = lane;
    cur.cts = (n + lane - 1) / lane;
    cur.dims = {in_shape.c, in_shape.h, in_shape.w};
    cur.strides = {std::int64_t(in_shape.h) * in_shape.w, in_shape.w, 1};
    cur.count = n;
    cur.clean = true;
    if (cur.cts == 1 && pow2_ceil(n) <= lane / 2) cur.period = pow2_ceil(n);  // the client makes copies
    net.input_source.resize(n);
    std::iota(net.input_source.begin(), net.input_source.end(), 0);
    net.packing = "chw";
  }
  net.input_layout = cur;
  cur_pos.resize(cur.size());
  for (std::size_t e = 0; e < cur.size(); ++e) cur_pos[e] = cur.position(e);
  for (std::size_t si = 0; si < stages.size(); ++si) {
    const Stage& st = stages[si];
    if (opt.progress) opt.progress(2 * lane * opt.images_per_ciphertext, st.label, si, stages.size());
    if (st.is_poly) {
      PackedOp op;
      op.kind = PackedOpKind::poly;
      op.label = st.label;
      op.degree = st.degree;
      op.a = st.a;
      op.b = st.b;
      op.in_cts = op.out_cts = cur.cts;
      op.layout = cur;
      net.ops.push_back(std::move(op));
      net.positions.push_back(cur_pos);
      net.levels += st.degree == 2 ? 1 : 2;
      continue;
    }
    const Sparse& M = (si == 0 && first_done) ? first_matrix : st.lin;
    // Element positions of the current layout (explicit list).
    PackedLayout lay = cur;
    InputInfo info;
    info.layout = &lay;
    info.ct.resize(cur_pos.size());
    info.slot.resize(cur_pos.size());
    for (std::size_t e = 0; e < cur_pos.size(); ++e) {
      info.ct[e] = std::uint32_t(cur_pos[e] / std::int64_t(lane));
      info.slot[e] = std::uint32_t(cur_pos[e] % std::int64_t(lane));
    }
    std::vector<Lowered> options;
    options.push_back(lower_diagonal(M, info, st.out_shape));
    options.push_back(lower_hybrid(M, info));
    options.push_back(lower_fold_sum(M, info));
    for (auto& o : options) finish_cost(o, std::int64_t(lane));
    // Replicate first (clean single-ciphertext input), then the hybrid.
    Lowered rep;
    PackedLayout rep_layout;
    std::vector<std::int32_t> rep_steps;
    if (cur.cts == 1 && cur.clean && cur.period == 0) {
      std::int64_t mx = 0;
      for (auto s : info.slot) mx = std::max<std::int64_t>(mx, s);
      const std::size_t B = pow2_ceil(std::size_t(mx) + 1);
      if (B <= lane / 2) {
        rep_layout = cur;
        rep_layout.period = B;
        for (std::size_t s = B; s < lane; s <<= 1) rep_steps.push_back(-std::int32_t(s));
        InputInfo rinfo = info;
        rinfo.layout = &rep_layout;
        rep = lower_hybrid(M, rinfo);
        finish_cost(rep, std::int64_t(lane));
        if (rep.valid) rep.cost += kCostRotation * double(rep_steps.size());
      }
    }
    const Lowered* best = nullptr;
    for (const auto& o : options)
      if (o.valid && (!best || o.cost < best->cost)) best = &o;
    bool use_rep = rep.valid && (!best || rep.cost < best->cost);
    if (!best && !use_rep) {
      throw CompileError("--mode single: " + st.label + " does not fit N = " + std::to_string(2 * lane));
    }
    if (use_rep) {
      PackedOp r;
      r.kind = PackedOpKind::replicate;
      r.label = st.label + "/replicate";
      r.steps = rep_steps;
      r.in_cts = r.out_cts = 1;
      r.layout = rep_layout;
      net.ops.push_back(std::move(r));
      net.positions.push_back(cur_pos);
      best = &rep;
      cur = rep_layout;
    }
    PackedOp op = build_linear_op(*best, M, cur.cts, std::int64_t(lane), st.label);
    op.layout = best->out;
    net.ops.push_back(std::move(op));
    net.positions.push_back(best->out_pos);
    net.levels += 1;
    cur = best->out;
    cur_pos = best->out_pos;
  }
  net.output_pos = cur_pos;
  return net;
}

struct Calib {
  std::vector<double> op_max;  // per op: max |value| over all slots
};

Calib calibrate(const PackedProgram& prog, const std::vector<std::vector<std::uint8_t>>& raws) {
  Calib c;
  c.op_max.assign(prog.ops.size(), 0.0);
  PackedSimulator sim(prog);
  PackedExecOptions o;
  o.keep_all = true;
  for (std::size_t i = 0; i < raws.size(); i += prog.images_per_ciphertext) {
    std::vector<const std::uint8_t*> group;
    for (std::size_t j = i; j < raws.size() && group.size() < prog.images_per_ciphertext; ++j) group.push_back(raws[j].data());
    const auto all = run_packed(prog, sim, prog.pack_inputs(group, prog.input_shape.size()), o);
    for (std::size_t k = 0; k < prog.ops.size(); ++k)
      for (const auto& ct : all[k + 1])
        for (double v : ct) c.op_max[k] = std::max(c.op_max[k], std::abs(v));
  }
  return c;
}

}  // namespace

std::vector<std::vector<double>> PackedProgram::pack_inputs(const std::vector<const std::uint8_t*>& raws, std::size_t bytes) const {
  if (bytes != input_shape.size()) {
    throw CompileError("input has " + std::to_string(bytes) + " values, the plan expects " +
                       std::to_string(input_shape.size()) + " (" + std::to_string(input_shape.c) + "x" +
                       std::to_string(input_shape.h) + "x" + std::to_string(input_shape.w) + ")");
  }
  if (raws.size() > images_per_ciphertext) {
    throw CompileError(std::to_string(raws.size()) + " images for a plan with " + std::to_string(images_per_ciphertext) +
                       " per ciphertext");
  }
  const std::size_t K = images_per_ciphertext, il = image_lane();
  std::vector<std::vector<double>> v(input_layout.cts, std::vector<double>(lane(), 0.0));
  const auto& L = input_layout;
  for (std::size_t img = 0; img < raws.size(); ++img) {
    const std::uint8_t* raw = raws[img];
    for (std::size_t e = 0; e < L.size(); ++e) {
      const std::int32_t src = input_source[e];
      if (src < 0) continue;
      const double x = double(raw[std::size_t(src)]) * input_raw_scale + input_offset;
      const std::int64_t p = L.position(e);
      const std::size_t ct = std::size_t(p / std::int64_t(il)), s = std::size_t(p % std::int64_t(il));
      v[ct][s * K + img] = x;
      if (L.period)
        for (std::size_t k = s + L.period; k < il; k += L.period) v[ct][k * K + img] = x;
    }
  }
  return v;
}

std::vector<double> PackedProgram::unpack_output(const std::vector<std::vector<double>>& slots, std::size_t image) const {
  if (image >= images_per_ciphertext) throw std::invalid_argument("unpack_output: image index beyond the plan's K");
  const std::size_t K = images_per_ciphertext, il = image_lane();
  std::vector<double> out(num_classes);
  for (std::size_t o = 0; o < num_classes; ++o) {
    const std::int64_t p = output_layout.position(o);
    const std::size_t ct = std::size_t(p / std::int64_t(il)), s = std::size_t(p % std::int64_t(il)) * K + image;
    if (ct >= slots.size() || s >= slots[ct].size()) throw std::invalid_argument("unpack_output: too few output slots");
    out[o] = slots[ct][s] * output_mult + output_add;
  }
  return out;
}

namespace {

// Planned at the image lane; spread to K interleaved images: values repeat K times,
// rotations are K times longer.
void stack_images(PackedProgram& prog, std::size_t K) {
  if (K == 1) return;
  prog.images_per_ciphertext = K;
  auto up = [&](const std::vector<double>& v) {
    std::vector<double> out(v.size() * K);
    for (std::size_t i = 0; i < v.size(); ++i)
      for (std::size_t j = 0; j < K; ++j) out[i * K + j] = v[i];
    return out;
  };
  const std::int64_t k = std::int64_t(K);
  for (auto& op : prog.ops) {
    for (auto& out : op.outs)
      for (auto& g : out) {
        g.step = std::int32_t(g.step * k);
        for (auto& d : g.diags) {
          d.baby = std::int32_t(d.baby * k);
          d.values = up(d.values);
        }
      }
    for (auto& f : op.folds) f = std::int32_t(f * k);
    for (auto& s : op.steps) s = std::int32_t(s * k);
    for (auto& b : op.bias)
      if (!b.empty()) b = up(b);
  }
}

}  // namespace

PackedProgram compile_packed(const Model& model, const PackedOptions& opt) {
  validate(model);
  const std::size_t K = opt.images_per_ciphertext;
  if (K == 0 || (K & (K - 1)) != 0 || K > 4096) {
    throw CompileError("--images-per-ciphertext " + std::to_string(K) + ": use a power of two (1, 2, 4, ... 4096)");
  }
  if (opt.min_scale_bits < 20 || opt.max_scale_bits > 58 || opt.min_scale_bits > opt.max_scale_bits) {
    throw CompileError("scale bits must satisfy 20 <= min <= max <= 58");
  }
  double out_mult = 1, out_add = 0;
  const std::vector<Stage> stages = build_stages(model, out_mult, out_add);
  if (stages.empty()) throw CompileError("--mode single: the model has no layers to run");

  // Calibration images (raw).
  std::vector<std::vector<std::uint8_t>> calib = opt.calibration;
  for (const auto& r : calib)
    if (r.size() != model.input.shape.size()) throw CompileError("a calibration image has the wrong size");
  if (calib.empty()) {
    const std::size_t n = model.input.shape.size();
    std::vector<std::uint8_t> lo(n, 0), hi(n, 255), mid(n);
    std::uint64_t st = 0x9e3779b97f4a7c15ULL;
    for (auto& v : mid) {
      st ^= st << 13, st ^= st >> 7, st ^= st << 17;
      v = std::uint8_t(st & 255);
    }
    calib = {lo, hi, mid};
  }

  std::vector<std::size_t> degrees;
  if (opt.poly_degree) {
    if (math::max_coeff_bits_128(opt.poly_degree) == 0) {
      throw CompileError("--poly-degree " + std::to_string(opt.poly_degree) + ": use 4096, 8192, 16384 or 32768");
    }
    degrees = {opt.poly_degree};
  } else {
    degrees = {4096, 8192, 16384, 32768};
  }
  std::string why;
  std::optional<PackedProgram> best;
  double best_t = 0;
  int fitted = 0;
  for (std::size_t n : degrees) {
    if (n / 2 < K) continue;
    LoweredNet net;
    try {
      net = lower_network(model, stages, n / 2 / K, opt.im2col, opt);
    } catch (const CompileError& e) {
      why = e.what();
      continue;
    }
    PackedProgram prog;
    prog.description = model.meta.name.empty() ? "model" : model.meta.name;
    prog.input_shape = model.input.shape;
    prog.input_raw_scale = model.input.scale;
    prog.input_offset = model.input.offset;
    prog.poly_degree = n;
    prog.input_layout = net.input_layout;
    prog.input_source = net.input_source;
    prog.input_packing = net.packing;
    prog.ops = std::move(net.ops);
    prog.num_classes = std::size_t(model.num_classes());
    prog.output_mult = out_mult;
    prog.output_add = out_add;
    prog.output_layout = prog.ops.back().layout;
    // Levels (the primes come after calibration).
    {
      int lvl = net.levels + 1;
      for (auto& op : prog.ops) {
        op.level_in = lvl;
        lvl -= op.kind == PackedOpKind::linear ? 1 : op.kind == PackedOpKind::poly ? (op.degree == 2 ? 1 : 2) : 0;
        op.level_out = lvl;
      }
      prog.coeff_modulus.assign(std::size_t(net.levels) + 2, 0);
    }
    stack_images(prog, K);
    // Calibrate value ranges on the lowered program (exact, no HE).
    const Calib cal = calibrate(prog, calib);
    for (std::size_t i = 0; i < prog.ops.size(); ++i) prog.ops[i].log2_max = std::log2(std::max(cal.op_max[i], 1e-30));
    const int L = net.levels;
    const int budget = math::max_coeff_bits_128(n);
    const double last_max = std::max(1.0, cal.op_max.back());
    const int h = opt.headroom_bits > 0 ? opt.headroom_bits : int(std::ceil(std::log2(last_max))) + 4;
    prog.headroom_bits = h;
    // Scale bits: q0 = delta + h, L primes of delta bits, and the special prime at least
    // delta + h + 8 bits (key-switching noise ~ N q / P must stay well below the scale).
    int delta = (budget - 2 * h - 8) / (L + 2);
    delta = std::min({delta, opt.max_scale_bits, 60 - h});
    if (delta < opt.min_scale_bits) {
      why = "N = " + std::to_string(n) + " leaves " + std::to_string(delta) + "-bit scales for " + std::to_string(L) +
            " levels (need " + std::to_string(opt.min_scale_bits) + ")";
      continue;
    }
    // Intermediate headroom: every op's values fit the modulus at its level.
    std::vector<int> bits;
    bits.push_back(delta + h);
    for (int i = 0; i < L; ++i) bits.push_back(delta);
    // The special prime takes what the budget leaves (up to 60 bits): key-switching
    // noise falls with it.
    bits.push_back(std::min(60, budget - (delta + h) - L * delta));
    const auto lit = ckks::ckks_literal(n, bits);
    prog.coeff_modulus = lit.coeff_modulus;
    // Levels and exact scales.
    int level = L + 1;
    double scale = std::ldexp(1.0, delta);
    prog.input_scale = scale;
    auto q = [&](int lvl) { return double(prog.coeff_modulus[std::size_t(lvl - 1)]); };
    bool fits = true;
    for (auto& op : prog.ops) {
      op.level_in = level;
      op.scale_in = scale;
      switch (op.kind) {
        case PackedOpKind::linear:
          level -= 1;
          break;
        case PackedOpKind::replicate:
          break;
        case PackedOpKind::poly:
          prog.needs_relin = true;
          if (op.degree == 2) {
            scale = scale * scale / q(level);
            level -= 1;
          } else {
            const double s2 = scale * scale / q(level);
            op.scalar_scale = scale;
            scale = s2 * scale / q(level - 1);
            level -= 2;
          }
          break;
      }
      op.level_out = level;
      op.scale_out = scale;
      double log2_q = 0;
      for (int i = 0; i < level; ++i) log2_q += std::log2(double(prog.coeff_modulus[std::size_t(i)]));
      if (op.log2_max + std::log2(scale) + 2 > log2_q) fits = false;
    }
    if (level != 1) throw std::logic_error("compile_packed: level bookkeeping");
    if (!fits) {
      why = "N = " + std::to_string(n) + ": calibrated values overflow the modulus";
      continue;
    }
    // Galois keys: every step its own, or composed under the key budget.
    assign_rotation_keys({&prog}, opt.max_galois_key_bytes);
    // Each rescale and key switch leaves rounding times the secret, about N / 2 in slot
    // units (2^12 at N = 8192, measured): bits above it at the output's range.
    prog.predicted_precision_bits = std::log2(scale) - (std::log2(double(n)) - 1) - std::max(0.0, prog.ops.back().log2_max);
    prog.member_digests = {model_fingerprint(model)};
    // One image per ciphertext (or N forced): the smallest N that fits. Stacked images:
    // the next N too, and the one with the lower predicted latency (a lane too small for
    // the im2col input falls back to more rotations at the smaller N).
    if (K == 1 || opt.poly_degree) return prog;
    const double t = count_packed(prog).predicted_seconds;
    if (!best || t < best_t) {
      best = std::move(prog);
      best_t = t;
    }
    if (++fitted == 2) break;
  }
  if (best) return std::move(*best);
  throw CompileError("--mode single: no ring degree fits this model at 128-bit security (" + why + ")");
}

PackedEnsemble compile_packed_ensemble(const std::vector<Model>& members, const std::string& combiner,
                                       const std::vector<double>& weights, const PackedOptions& opt) {
  if (members.empty()) throw CompileError("an ensemble needs at least one member");
  std::vector<double> w;
  if (combiner == "mean") {
    w.assign(members.size(), 1.0 / double(members.size()));
  } else if (combiner == "weighted") {
    if (weights.size() != members.size()) {
      throw CompileError("weighted combiner: " + std::to_string(weights.size()) + " weights for " +
                         std::to_string(members.size()) + " members");
    }
    double sum = 0;
    for (double x : weights) {
      if (!std::isfinite(x) || x < 0) throw CompileError("weighted combiner: weights must be finite and non-negative");
      sum += x;
    }
    if (sum <= 0) throw CompileError("weighted combiner: the weights sum to zero");
    for (double x : weights) w.push_back(x / sum);
  } else {
    throw CompileError("--mode single ensembles combine with mean or weighted (poly-softmax runs in the batch mode), not " + combiner);
  }
  // Each member's last linear map scaled by its weight.
  std::vector<Model> scaled = members;
  for (std::size_t m = 0; m < scaled.size(); ++m) {
    auto& layers = scaled[m].layers;
    if (layers.empty()) throw CompileError("ensemble member " + std::to_string(m) + " has no layers");
    if (auto* d = std::get_if<Dense>(&layers.back())) {
      for (auto& x : d->weight) x *= w[m];
      for (auto& x : d->bias) x *= w[m];
    } else if (auto* c = std::get_if<Conv2d>(&layers.back())) {
      for (auto& x : c->weight) x *= w[m];
      for (auto& x : c->bias) x *= w[m];
    } else {
      throw CompileError("ensemble member " + std::to_string(m) + " ends in an activation; --mode single ensembles need a final dense or convolution");
    }
  }
  // First pass: each member's ring degree and headroom; second: all at the largest.
  PackedOptions o = opt;
  o.max_galois_key_bytes = 0;  // the budget applies to the members' shared keys (below)
  std::size_t n = 0;
  int h = 0;
  for (const auto& m : scaled) {
    const PackedProgram p = compile_packed(m, o);
    n = std::max(n, p.poly_degree);
    h = std::max(h, p.headroom_bits);
  }
  o.poly_degree = n;
  o.headroom_bits = h;
  PackedEnsemble ens;
  ens.weights = w;
  ens.combiner = combiner;
  for (std::size_t m = 0; m < scaled.size(); ++m) {
    ens.members.push_back(compile_packed(scaled[m], o));
    ens.members.back().member_digests = {model_fingerprint(members[m])};
  }
  const PackedProgram& a = ens.members[0];
  for (std::size_t m = 1; m < ens.members.size(); ++m) {
    const PackedProgram& b = ens.members[m];
    std::string why;
    if (b.coeff_modulus != a.coeff_modulus) why = "parameters";
    else if (b.input_source != a.input_source || b.input_layout.cts != a.input_layout.cts || b.input_layout.period != a.input_layout.period)
      why = "input packing";
    else if (b.output_layout.cts != a.output_layout.cts || b.num_classes != a.num_classes || b.output_mult != a.output_mult ||
             b.output_add != a.output_add)
      why = "output layout";
    else if (b.ops.size() != a.ops.size() || std::abs(b.ops.back().scale_out / a.ops.back().scale_out - 1) > 1e-12)
      why = "levels and scales";
    if (why.empty())
      for (std::size_t c = 0; c < a.num_classes; ++c)
        if (a.output_layout.position(c) != b.output_layout.position(c)) why = "output positions";
    if (!why.empty()) {
      throw CompileError("ensemble member " + std::to_string(m) + " compiles to different " + why +
                         " than member 0; --mode single runs ensembles of one architecture");
    }
  }
  // One key set for all members (the client sends it once).
  std::vector<PackedProgram*> progs;
  for (auto& m : ens.members) progs.push_back(&m);
  assign_rotation_keys(progs, opt.max_galois_key_bytes);
  ens.rotation_steps = ens.members[0].rotation_steps;
  return ens;
}

PackedCounts& PackedCounts::operator+=(const PackedCounts& o) {
  rotations += o.rotations;
  hoisted += o.hoisted;
  plain_mults += o.plain_mults;
  ct_mults += o.ct_mults;
  rescales += o.rescales;
  composed += o.composed;
  predicted_seconds += o.predicted_seconds;
  return *this;
}

PackedCounts count_packed(const PackedProgram& prog) {
  PackedCounts c;
  for (std::size_t i = 0; i < prog.ops.size(); ++i) c += count_packed_op(prog, i);
  return c;
}

PackedCounts count_packed_op(const PackedProgram& prog, std::size_t op_index) {
  PackedCounts c;
  const double n = double(prog.poly_degree);
  // Seconds per NTT-equivalent (a rotation at k primes is about k (k + 1) + 3k + 2 of
  // them), fitted to bench/nn_single_bench on the development VM without AVX-512 (a
  // rotation at N = 8192, 7 primes: 6.6 ms on 2 cores), scaled by N log N. Hosts with
  // AVX-512 IFMA run the NTTs about 3x faster.
  const double t_ntt = 106e-6 * (n / 8192.0) * (std::log2(n) / 13.0);
  auto t_rot = [&](double k, bool hoisted) { return t_ntt * (hoisted ? (2 + 2 * k + 0.5 * k * (k + 1)) : (k * (k + 1) + 3 * k + 2)); };
  // `times` rotations by `step` at k primes: one key switch per key of its path.
  auto rotations = [&](std::int64_t step, double k, std::size_t times) {
    const std::size_t keys = prog.rotation_path(step).size();
    c.rotations += keys * times;
    c.composed += (keys > 0 ? keys - 1 : 0) * times;
    c.predicted_seconds += double(keys * times) * t_rot(k, false);
  };
  {
    const PackedOp& op = prog.ops.at(op_index);
    const double k = op.level_in;
    switch (op.kind) {
      case PackedOpKind::linear: {
        // As the interpreter does: babies of one input ciphertext (nonzero steps) hoisted.
        std::vector<std::vector<int>> babies(op.in_cts);
        std::vector<std::set<std::int32_t>> seen(op.in_cts);
        for (const auto& out : op.outs)
          for (const auto& g : out) {
            if (g.step != 0) rotations(g.step, k, 1);
            for (const auto& d : g.diags) {
              ++c.plain_mults;
              c.predicted_seconds += t_ntt * 0.15 * k;
              if (d.baby != 0 && seen[d.in_ct].insert(d.baby).second) babies[d.in_ct].push_back(d.baby);
            }
          }
        for (const auto& b : babies) {
          if (b.empty()) continue;
          const BabyRotations br = plan_baby_rotations(prog, b);
          c.rotations += br.hoisted.size();
          c.hoisted += br.hoisted.size() - 1;
          c.predicted_seconds += t_rot(k, false) + double(br.hoisted.size() - 1) * t_rot(k, true);
          for (const auto& r : br.rest) {
            c.rotations += r.size();
            c.composed += r.size();
            c.predicted_seconds += double(r.size()) * t_rot(k, false);
          }
        }
        c.rescales += op.out_cts;
        for (auto f : op.folds) rotations(f, k - 1, op.out_cts);
        break;
      }
      case PackedOpKind::poly:
        c.ct_mults += op.out_cts * std::size_t(op.degree == 2 ? 1 : 2);
        c.rescales += op.out_cts * std::size_t(op.degree == 2 ? 1 : 3);
        c.predicted_seconds += double(op.out_cts) * (op.degree == 2 ? 1 : 2) * t_rot(k, false);
        break;
      case PackedOpKind::replicate:
        for (auto s : op.steps) rotations(s, k, op.out_cts);
        break;
    }
  }
  return c;
}

std::size_t packed_galois_key_bytes(const PackedProgram& prog) {
  // One key-switching key: K - 1 parts of 2 polynomials at the key level (K primes).
  const std::size_t K = prog.coeff_modulus.size();
  return prog.rotation_steps.size() * (K - 1) * 2 * K * prog.poly_degree * 8;
}
std::size_t packed_relin_key_bytes(const PackedProgram& prog) {
  const std::size_t K = prog.coeff_modulus.size();
  return prog.needs_relin ? (K - 1) * 2 * K * prog.poly_degree * 8 : 0;
}
std::size_t packed_upload_bytes(const PackedProgram& prog) {
  // Seeded (SEAL's compressed) fresh ciphertexts: c0 in full, c1 as a 64-byte seed.
  return prog.input_layout.cts * (std::size_t(prog.data_primes()) * prog.poly_degree * 8 + 64);
}
std::size_t packed_download_bytes(const PackedProgram& prog) {
  return prog.output_layout.cts * 2 * prog.poly_degree * 8;  // one prime left, two polynomials
}

std::string describe_packed(const PackedProgram& prog) {
  std::ostringstream os;
  char buf[256];
  double logq = 0;
  for (auto q : prog.coeff_modulus) logq += std::log2(double(q));
  std::snprintf(buf, sizeof buf, "single-image CKKS plan for %s: N = %zu, %d data primes + special, log2 q = %.1f (128-bit)\n",
                prog.description.c_str(), prog.poly_degree, prog.data_primes(), logq);
  os << buf;
  os << "  primes (bits):";
  for (auto q : prog.coeff_modulus) os << ' ' << int(std::floor(std::log2(double(q)))) + 1;
  os << "\n";
  std::snprintf(buf, sizeof buf, "  input: %s packing, %zu ciphertext(s), scale 2^%.1f\n", prog.input_packing.c_str(),
                prog.input_layout.cts, std::log2(prog.input_scale));
  os << buf;
  std::snprintf(buf, sizeof buf, "  keys: %zu Galois keys (%.1f MiB), relinearization %.1f MiB\n", prog.rotation_steps.size(),
                double(packed_galois_key_bytes(prog)) / 1048576.0, double(packed_relin_key_bytes(prog)) / 1048576.0);
  os << buf;
  if (!prog.rotation_paths.empty()) {
    std::size_t longest = 0;
    for (const auto& p : prog.rotation_paths) longest = std::max(longest, p.keys.size());
    std::snprintf(buf, sizeof buf, "  key budget: %zu of %zu rotation steps composed from the keys (up to %zu key switches each)\n",
                  prog.rotation_paths.size(), prog.used_steps().size(), longest);
    os << buf;
  }
  std::snprintf(buf, sizeof buf, "  per image: upload %.1f KiB, download %.1f KiB\n", double(packed_upload_bytes(prog)) / 1024.0,
                double(packed_download_bytes(prog)) / 1024.0);
  os << buf;
  for (const auto& op : prog.ops) {
    std::size_t diags = 0, giants = 0;
    std::set<std::pair<std::uint32_t, std::int32_t>> babies;
    for (const auto& out : op.outs)
      for (const auto& g : out) {
        giants += g.step != 0;
        for (const auto& d : g.diags) {
          ++diags;
          if (d.baby != 0) babies.insert({d.in_ct, d.baby});
        }
      }
    if (op.kind == PackedOpKind::linear) {
      std::snprintf(buf, sizeof buf,
                    "  %-18s %-9s levels %d->%d  %zu->%zu cts, %zu diagonals, %zu hoisted + %zu giant rotations, %zu folds\n",
                    op.label.c_str(), op.lowering.c_str(), op.level_in, op.level_out, op.in_cts, op.out_cts, diags,
                    babies.size(), giants, op.folds.size() * op.out_cts);
    } else if (op.kind == PackedOpKind::poly) {
      std::snprintf(buf, sizeof buf, "  %-18s degree %d  levels %d->%d  %zu cts\n", op.label.c_str(), op.degree, op.level_in,
                    op.level_out, op.out_cts);
    } else {
      std::snprintf(buf, sizeof buf, "  %-18s replicate levels %d  %zu rotations\n", op.label.c_str(), op.level_in,
                    op.steps.size());
    }
    os << buf;
  }
  const PackedCounts c = count_packed(prog);
  std::snprintf(buf, sizeof buf,
                "  total: %zu rotations (%zu hoisted, %zu for composed steps), %zu plaintext products, %zu ciphertext products; predicted %.3f s\n",
                c.rotations, c.hoisted, c.composed, c.plain_mults, c.ct_mults, c.predicted_seconds);
  os << buf;
  return os.str();
}

}  // namespace hecnn::nn::compiler
