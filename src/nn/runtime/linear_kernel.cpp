#include "nn/runtime/linear_kernel.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "fhe/bfv/encryptor.h"
#include "math/parallel.h"

namespace hecnn::nn::runtime {

namespace {

using u64 = std::uint64_t;
using i64 = std::int64_t;

constexpr std::size_t kGroup = 8;     // outputs per group
constexpr std::size_t kBlock = 4096;  // coefficients per block (8 x 4096 x 8 B = 256 KiB of accumulators, in L2)

void mac_generic(i64* __restrict acc, const u64* __restrict x, i64 w, std::size_t len) {
  for (std::size_t i = 0; i < len; ++i) acc[i] += i64(x[i]) * w;
}

#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target("avx512f,avx512dq,avx512vl"))) void mac_avx512(i64* __restrict acc, const u64* __restrict x, i64 w,
                                                                     std::size_t len) {
  for (std::size_t i = 0; i < len; ++i) acc[i] += i64(x[i]) * w;
}
#endif

using MacFn = void (*)(i64*, const u64*, i64, std::size_t);

MacFn pick_mac() {
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) return &mac_avx512;
#endif
  return &mac_generic;
}

struct GroupTerm {
  const rlwe::Ciphertext* src;
  std::uint32_t g;
  i64 w;
};

}  // namespace

std::vector<rlwe::Ciphertext> linear_combine(const bfv::BfvTables& tables, const compiler::Instr& ins,
                                             const std::vector<const std::vector<rlwe::Ciphertext>*>& srcs) {
  static const MacFn mac = pick_mac();
  const auto& ctx = tables.context();
  const std::size_t n = ctx.n();
  const std::size_t level = std::size_t(ins.level);
  std::size_t parts = 2;
  for (const auto* s : srcs) {
    for (const auto& ct : *s) {
      if (ct.num_primes != level || ct.n != n) throw std::invalid_argument("linear: input ciphertext at the wrong level");
      parts = std::max(parts, ct.size);
    }
  }
  const std::size_t outs = ins.size;
  if (ins.rows.size() != outs || ins.bias.size() != outs) throw std::invalid_argument("linear: malformed instruction");
  std::vector<rlwe::Ciphertext> out(outs);
  for (auto& ct : out) ct = rlwe::Ciphertext(n, level, parts, false);

  // Terms of each group, sorted by source so consecutive terms reuse the cached block.
  const std::size_t groups = (outs + kGroup - 1) / kGroup;
  std::vector<std::vector<GroupTerm>> gterms(groups);
  std::vector<std::vector<double>> wsum(groups, std::vector<double>(kGroup, 0.0));
  for (std::size_t o = 0; o < outs; ++o) {
    for (const auto& t : ins.rows[o]) {
      const auto& tensor = *srcs.at(std::size_t(t.input));
      gterms[o / kGroup].push_back({&tensor.at(std::size_t(t.index)), std::uint32_t(o % kGroup), t.weight});
      wsum[o / kGroup][o % kGroup] += double(t.weight < 0 ? -t.weight : t.weight);
    }
  }
  for (auto& g : gterms) std::stable_sort(g.begin(), g.end(), [](const GroupTerm& a, const GroupTerm& b) { return a.src < b.src; });

  const std::size_t tasks = groups * parts * level;
  math::parallel_for(tasks, [&](std::size_t task) {
    const std::size_t gi = task / (parts * level);
    const std::size_t c = (task / level) % parts;
    const std::size_t j = task % level;
    const math::Modulus& q = ctx.key_base()[j];
    const u64 qv = q.value();
    const auto& terms = gterms[gi];
    const std::size_t gsize = std::min(kGroup, outs - gi * kGroup);
    bool lazy = true;
    for (std::size_t g = 0; g < gsize; ++g) lazy &= (wsum[gi][g] + 1.0) * double(qv) < 9.0e18;
    if (lazy) {
      alignas(64) static thread_local i64 acc[kGroup][kBlock];
      for (std::size_t b0 = 0; b0 < n; b0 += kBlock) {
        const std::size_t len = std::min(kBlock, n - b0);
        for (std::size_t g = 0; g < gsize; ++g) std::fill(acc[g], acc[g] + len, 0);
        for (const auto& t : terms) {
          if (c >= t.src->size) continue;
          mac(acc[t.g], t.src->residue(c, j) + b0, t.w, len);
        }
        for (std::size_t g = 0; g < gsize; ++g) {
          u64* dst = out[gi * kGroup + g].residue(c, j) + b0;
          for (std::size_t i = 0; i < len; ++i) {
            const i64 a = acc[g][i];
            if (a >= 0) {
              dst[i] = q.reduce(u64(a));
            } else {
              const u64 r = q.reduce(u64(-a));
              dst[i] = r ? qv - r : 0;
            }
          }
        }
      }
    } else {
      // Large weights: reduce every product.
      for (const auto& t : terms) {
        if (c >= t.src->size) continue;
        const u64 wm = t.w >= 0 ? q.reduce(u64(t.w)) : q.neg(q.reduce(u64(-(t.w + 1)) + 1));
        const math::ShoupOperand ws(wm, q);
        const u64* x = t.src->residue(c, j);
        u64* dst = out[gi * kGroup + t.g].residue(c, j);
        for (std::size_t i = 0; i < n; ++i) {
          u64 p = math::mul_shoup_lazy(x[i], ws, qv);
          p = p >= qv ? p - qv : p;
          dst[i] = q.add(dst[i], p);
        }
      }
    }
  });

  // Bias: add round(Q b / t) to c0, i.e. encode the constant b and add it as a plaintext.
  const u64 t = ctx.plain_modulus().value();
  math::parallel_for(outs, [&](std::size_t o) {
    const __int128 b = ins.bias[o];
    if (b == 0) return;
    bfv::Plaintext pt;
    pt.coeffs.assign(n, 0);
    const __int128 r = b % __int128(t);
    pt.coeffs[0] = u64(r < 0 ? r + __int128(t) : r);
    bfv::add_scaled_plain(tables, pt, out[o]);
  });
  return out;
}

}  // namespace hecnn::nn::runtime
