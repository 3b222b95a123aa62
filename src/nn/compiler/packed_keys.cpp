// Galois keys of packed programs (packed.h): one key per rotation step when they fit the
// budget; otherwise the powers of two (so that every step can be composed) plus the
// steps that save the most key-switch work, the rest composed along shortest paths
// (breadth-first search over the residues of the lane).
#include <algorithm>
#include <deque>
#include <map>
#include <numeric>
#include <set>

#include "nn/compiler/packed.h"

namespace hecnn::nn::compiler {

namespace {

std::int64_t mod(std::int64_t a, std::int64_t m) { return ((a % m) + m) % m; }

// Key-switch work of one rotation at k primes, in NTT-equivalents (as count_packed).
double rotation_work(double k) { return k * (k + 1) + 3 * k + 2; }

// Each step's uses, weighted by the work of one key switch where it runs.
void add_uses(const PackedProgram& p, std::map<std::int64_t, double>& w) {
  const std::int64_t lane = std::int64_t(p.lane());
  auto add = [&](std::int64_t s, double k, double times) {
    const std::int64_t r = mod(s, lane);
    if (r != 0) w[r] += times * rotation_work(k);
  };
  for (const auto& op : p.ops) {
    const double k = op.level_in;
    switch (op.kind) {
      case PackedOpKind::linear: {
        std::set<std::pair<std::uint32_t, std::int64_t>> babies;
        for (const auto& out : op.outs)
          for (const auto& g : out) {
            add(g.step, k, 1);
            for (const auto& d : g.diags) babies.insert({d.in_ct, mod(d.baby, lane)});
          }
        for (const auto& b : babies) add(b.second, k, 1);
        for (auto f : op.folds) add(f, k - 1, double(op.out_cts));
        break;
      }
      case PackedOpKind::replicate:
        for (auto s : op.steps) add(s, k, double(op.out_cts));
        break;
      case PackedOpKind::poly:
        break;
    }
  }
}

// Shortest compositions of every residue modulo m from `keys` (residues too).
struct Reach {
  std::vector<int> dist;          // -1: unreachable
  std::vector<std::int64_t> via;  // the last key of a shortest path
};
Reach reach(const std::set<std::int64_t>& keys, std::int64_t m) {
  Reach r;
  r.dist.assign(std::size_t(m), -1);
  r.via.assign(std::size_t(m), 0);
  r.dist[0] = 0;
  std::deque<std::int64_t> q{0};
  while (!q.empty()) {
    const std::int64_t x = q.front();
    q.pop_front();
    for (std::int64_t k : keys) {
      const std::int64_t y = (x + k) % m;
      if (r.dist[std::size_t(y)] >= 0) continue;
      r.dist[std::size_t(y)] = r.dist[std::size_t(x)] + 1;
      r.via[std::size_t(y)] = k;
      q.push_back(y);
    }
  }
  return r;
}

}  // namespace

std::vector<std::int32_t> PackedProgram::rotation_path(std::int64_t step) const {
  const std::int64_t r = mod(step, std::int64_t(lane()));
  if (r == 0) return {};
  auto it = std::lower_bound(rotation_paths.begin(), rotation_paths.end(), r,
                             [](const RotationPath& p, std::int64_t s) { return p.step < s; });
  if (it != rotation_paths.end() && it->step == r) return it->keys;
  return {std::int32_t(step)};
}

std::vector<std::int32_t> PackedProgram::used_steps() const {
  std::map<std::int64_t, double> w;
  add_uses(*this, w);
  std::vector<std::int32_t> out;
  for (const auto& [s, x] : w) out.push_back(std::int32_t(s));
  return out;
}

BabyRotations plan_baby_rotations(const PackedProgram& prog, const std::vector<int>& babies) {
  BabyRotations b;
  const std::int64_t lane = std::int64_t(prog.lane());
  std::vector<std::vector<std::int32_t>> paths;
  for (int s : babies) {
    paths.push_back(prog.rotation_path(s));
    if (paths.back().size() > 1) b.composed = true;
  }
  if (!b.composed) {
    b.hoisted = babies;
    b.from.resize(babies.size());
    std::iota(b.from.begin(), b.from.end(), std::size_t(0));
    b.rest.assign(babies.size(), {});
    return b;
  }
  std::map<std::int64_t, std::size_t> at;  // residue -> index in hoisted
  auto hoist = [&](std::int64_t s) {
    const auto [it, fresh] = at.emplace(mod(s, lane), b.hoisted.size());
    if (fresh) b.hoisted.push_back(int(s));
    return it->second;
  };
  b.from.resize(babies.size());
  b.rest.resize(babies.size());
  for (std::size_t i = 0; i < babies.size(); ++i)
    if (paths[i].size() <= 1) b.from[i] = hoist(paths[i].empty() ? 0 : paths[i][0]);
  for (std::size_t i = 0; i < babies.size(); ++i) {
    auto& p = paths[i];
    if (p.size() <= 1) continue;
    // Start from a key already hoisted when the path has one (no extra decomposition).
    std::size_t first = 0;
    for (std::size_t j = 0; j < p.size(); ++j)
      if (at.count(mod(p[j], lane))) {
        first = j;
        break;
      }
    b.from[i] = hoist(p[first]);
    for (std::size_t j = 0; j < p.size(); ++j)
      if (j != first) b.rest[i].push_back(p[j]);
  }
  return b;
}

void assign_rotation_keys(const std::vector<PackedProgram*>& progs, std::size_t max_key_bytes) {
  if (progs.empty()) return;
  const PackedProgram& p0 = *progs[0];
  const std::int64_t lane = std::int64_t(p0.lane());
  std::map<std::int64_t, double> uses;
  for (const auto* p : progs) add_uses(*p, uses);
  std::vector<std::int32_t> used;
  for (const auto& [s, w] : uses) used.push_back(std::int32_t(s));
  auto set_all = [&](const std::vector<std::int32_t>& keys, const std::vector<PackedProgram::RotationPath>& paths) {
    for (auto* p : progs) {
      p->rotation_steps = keys;
      p->rotation_paths = paths;
    }
  };
  const std::size_t K = p0.coeff_modulus.size();
  const std::size_t per_key = (K - 1) * 2 * K * p0.poly_degree * 8;
  if (max_key_bytes == 0 || used.size() * per_key <= max_key_bytes) {
    set_all(used, {});
    return;
  }
  const std::size_t max_keys = max_key_bytes / per_key;
  // Work in units of the steps' common divisor (K stacked images rotate by multiples of K).
  std::int64_t g = lane;
  for (auto s : used) g = std::gcd(g, std::int64_t(s));
  const std::int64_t m = lane / g;
  std::set<std::int64_t> keys;
  for (std::int64_t u = 1; u < m; u <<= 1) keys.insert(u);
  auto mib = [](std::size_t b) { return std::to_string((b + (1 << 20) - 1) >> 20); };
  if (keys.size() > max_keys) {
    throw CompileError("Galois key budget of " + mib(max_key_bytes) + " MiB holds " + std::to_string(max_keys) + " keys of " +
                       mib(per_key) + " MiB; composing the plan's " + std::to_string(used.size()) +
                       " rotation steps needs at least the " + std::to_string(keys.size()) + " powers of two (" +
                       mib(keys.size() * per_key) + " MiB): raise the budget (--max-galois-key-mib)");
  }
  std::vector<std::pair<std::int64_t, double>> targets;  // (step in units, weight)
  for (const auto& [s, w] : uses) targets.push_back({s / g, w});
  std::set<std::int64_t> cands;
  for (const auto& t : targets) cands.insert(t.first);
  for (std::int64_t u = 1; u < m; u <<= 1) cands.insert(m - u);
  // Greedy: add the key that saves the most weighted key switches (each target may use
  // it once, then its shortest path for the rest), until the budget or no saving.
  while (keys.size() < max_keys) {
    const Reach r = reach(keys, m);
    double best = 0;
    std::int64_t pick = -1;
    for (std::int64_t c : cands) {
      if (keys.count(c)) continue;
      double gain = 0;
      for (const auto& [t, w] : targets) {
        const int now = r.dist[std::size_t(t)];
        const int with = 1 + r.dist[std::size_t(mod(t - c, m))];
        if (with < now) gain += w * double(now - with);
      }
      if (gain > best) {
        best = gain;
        pick = c;
      }
    }
    if (pick < 0) break;
    keys.insert(pick);
  }
  // Paths, then only the keys some step uses (directly or in a path).
  auto paths_for = [&](const std::set<std::int64_t>& ks, std::set<std::int64_t>* needed) {
    const Reach r = reach(ks, m);
    std::vector<PackedProgram::RotationPath> paths;
    for (const auto& [t, w] : targets) {
      if (ks.count(t)) {
        if (needed) needed->insert(t);
        continue;
      }
      PackedProgram::RotationPath p;
      p.step = std::int32_t(t * g);
      for (std::int64_t x = t; x != 0; x = mod(x - r.via[std::size_t(x)], m)) {
        p.keys.push_back(std::int32_t(r.via[std::size_t(x)] * g));
        if (needed) needed->insert(r.via[std::size_t(x)]);
      }
      std::sort(p.keys.begin(), p.keys.end());
      paths.push_back(std::move(p));
    }
    return paths;
  };
  std::set<std::int64_t> needed;
  paths_for(keys, &needed);
  const auto paths = paths_for(needed, nullptr);
  std::vector<std::int32_t> key_steps;
  for (auto k : needed) key_steps.push_back(std::int32_t(k * g));
  set_all(key_steps, paths);
}

}  // namespace hecnn::nn::compiler
