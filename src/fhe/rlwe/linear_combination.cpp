#include "fhe/rlwe/linear_combination.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "math/parallel.h"

namespace hecnn::rlwe {
namespace {

using i64 = std::int64_t;

// Outputs per group and coefficients per block: 32 x 1024 x 8 B = 256 KiB of accumulators
// (L2) and an 8 KiB block of the input (L1). Each input block is read from memory once
// per group, so large groups of outputs that share inputs cut the memory traffic,
// which bounds this loop (a dense layer re-reads its whole input once per group).
constexpr std::size_t kGroup = 32;
constexpr std::size_t kBlock = 1024;

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
  const Ciphertext* src;
  std::uint32_t g;
  i64 w;
};

}  // namespace

std::vector<Ciphertext> linear_combinations(const Context& ctx, std::size_t num_primes, bool ntt_form,
                                            const std::vector<std::vector<ScalarTerm>>& rows, std::uint64_t folded_factor) {
  static const MacFn mac = pick_mac();
  const std::size_t n = ctx.n(), level = num_primes;
  if (level < 1 || level > ctx.key_primes()) throw std::invalid_argument("linear combination: bad prime count");
  std::size_t parts = 2;
  u64 factor = 0;  // BGV: the inputs' common correction factor
  for (const auto& row : rows)
    for (const auto& t : row) {
      if (!t.ct) throw std::invalid_argument("linear combination: null ciphertext");
      const Ciphertext& ct = *t.ct;
      if (factor == 0) factor = ct.correction_factor;
      if (folded_factor == 0 && ct.correction_factor != factor) {
        throw std::invalid_argument("linear combination: BGV inputs have different correction factors (" + std::to_string(factor) +
                                    " and " + std::to_string(ct.correction_factor) + "); balance them first");
      }
      if (ct.num_primes != level || ct.n != n || ct.data.size() != ct.n * ct.num_primes * ct.size)
        throw std::invalid_argument("linear combination: a ciphertext is at " + std::to_string(ct.num_primes) + " primes, expected " +
                                    std::to_string(level));
      ctx.check_parms_id(ct, "linear combination");
      if (ct.ntt_form != ntt_form) throw std::invalid_argument("linear combination: inputs mix NTT and coefficient form");
      parts = std::max(parts, ct.size);
    }
  const std::size_t outs = rows.size();
  std::vector<Ciphertext> out(outs);
  for (auto& ct : out) {
    ct = Ciphertext(n, level, parts, ntt_form);
    ct.correction_factor = folded_factor != 0 ? folded_factor : factor == 0 ? 1 : factor;
    ctx.stamp(ct);
  }

  // Outputs ordered by their first input (a convolution's channels at one position read
  // the same inputs), grouped, and each group's terms sorted by source so consecutive
  // terms reuse the cached block.
  std::vector<std::uint32_t> order(outs);
  std::vector<const Ciphertext*> key(outs, nullptr);
  for (std::size_t o = 0; o < outs; ++o) {
    order[o] = std::uint32_t(o);
    for (const auto& t : rows[o])
      if (!key[o] || std::less<const Ciphertext*>()(t.ct, key[o])) key[o] = t.ct;
  }
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return std::less<const Ciphertext*>()(key[a], key[b]); });
  const std::size_t groups = (outs + kGroup - 1) / kGroup;
  std::vector<std::vector<GroupTerm>> gterms(groups);
  for (std::size_t p = 0; p < outs; ++p)
    for (const auto& t : rows[order[p]])
      if (t.weight != 0) gterms[p / kGroup].push_back({t.ct, std::uint32_t(p % kGroup), t.weight});
  for (auto& g : gterms)
    std::stable_sort(g.begin(), g.end(), [](const GroupTerm& a, const GroupTerm& b) { return std::less<const Ciphertext*>()(a.src, b.src); });

  const std::size_t tasks = groups * parts * level;
  math::parallel_for(tasks, [&](std::size_t task) {
    const std::size_t gi = task / (parts * level);
    const std::size_t c = (task / level) % parts;
    const std::size_t j = task % level;
    const math::Modulus& q = ctx.key_base()[j];
    const u64 qv = q.value();
    const double cap = 9.0e18 / double(qv);  // sum of |w| (plus 1 per fold) an accumulator may hold
    const auto& terms = gterms[gi];
    const std::size_t gsize = std::min(kGroup, outs - gi * kGroup);
    alignas(64) static thread_local i64 acc[kGroup][kBlock];
    for (std::size_t b0 = 0; b0 < n; b0 += kBlock) {
      const std::size_t len = std::min(kBlock, n - b0);
      double used[kGroup];
      for (std::size_t g = 0; g < gsize; ++g) {
        std::fill(acc[g], acc[g] + len, 0);
        used[g] = 0;
      }
      for (const auto& t : terms) {
        if (c >= t.src->size) continue;
        const u64* x = t.src->residue(c, j) + b0;
        i64* a = acc[t.g];
        const double aw = std::fabs(double(t.w));
        const bool big = aw + 1 >= cap / 2;
        const double add = big ? 1.0 : aw;
        if (used[t.g] + add >= cap) {
          for (std::size_t i = 0; i < len; ++i) a[i] = i64(math::reduce_signed(a[i], q));
          used[t.g] = 1;
        }
        used[t.g] += add;
        if (!big) {
          mac(a, x, t.w, len);
        } else {
          const u64 wm = t.w >= 0 ? q.reduce(u64(t.w)) : q.neg(q.reduce(u64(-(t.w + 1)) + 1));
          const math::ShoupOperand ws(wm, q);
          for (std::size_t i = 0; i < len; ++i) {
            u64 p = math::mul_shoup_lazy(x[i], ws, qv);
            a[i] += i64(p >= qv ? p - qv : p);
          }
        }
      }
      for (std::size_t g = 0; g < gsize; ++g) {
        u64* dst = out[order[gi * kGroup + g]].residue(c, j) + b0;
        for (std::size_t i = 0; i < len; ++i) dst[i] = math::reduce_signed(acc[g][i], q);
      }
    }
  });
  return out;
}

}  // namespace hecnn::rlwe
