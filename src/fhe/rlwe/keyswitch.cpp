#include "fhe/rlwe/keyswitch.h"

#include "fhe/rlwe/bgv_switch_ifma.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "fhe/rlwe/galois.h"
#include "fhe/rlwe/poly_ops.h"
#include "math/parallel.h"
#include "math/scratch.h"
#include "math/vec_ops.h"

namespace hecnn::rlwe {

using math::u128;

namespace {

// Checks that `key` has a part for each of ct's primes, each at the key level.
void check_key(const Context& ctx, const KSwitchKey& key, std::size_t k) {
  const std::size_t n = ctx.n(), kk = ctx.key_primes();
  if (key.parts.size() < k) {
    throw std::invalid_argument("key-switching key has " + std::to_string(key.parts.size()) +
                                " parts, ciphertext needs " + std::to_string(k));
  }
  for (std::size_t j = 0; j < k; ++j) {
    const auto& part = key.parts[j];
    if (part.n != n || part.num_primes != kk || part.size != 2) {
      throw std::invalid_argument("key-switching key part " + std::to_string(j) + " does not match the parameters");
    }
  }
}

// Sums digit x key-part products for one output modulus into (o0, o1): reduced in place
// on the vector path (q < 2^50 with IFMA), else 128-bit lazy sums reduced once at finish().
class KeyProductSum {
 public:
  KeyProductSum(const math::Modulus& mod, std::size_t n, u64* o0, u64* o1)
      : mod_(mod), n_(n), o0_(o0), o1_(o1), vec_(math::vec_ops_use_ifma(mod, n)) {
    if (vec_) {
      std::fill(o0_, o0_ + n_, 0);
      std::fill(o1_, o1_ + n_, 0);
    } else {
      a0_ = math::scratch<struct KeySumAcc0Tag, u128>(n_);
      a1_ = math::scratch<struct KeySumAcc1Tag, u128>(n_);
      std::fill(a0_, a0_ + n_, 0);
      std::fill(a1_, a1_ + n_, 0);
    }
  }
  void add(const u64* d, const u64* k0, const u64* k1) {
    if (vec_) {
      math::mul_add_mod_vec(d, k0, o0_, n_, mod_);
      math::mul_add_mod_vec(d, k1, o1_, n_, mod_);
      return;
    }
    for (std::size_t i = 0; i < n_; ++i) {
      a0_[i] += static_cast<u128>(d[i]) * k0[i];
      a1_[i] += static_cast<u128>(d[i]) * k1[i];
    }
  }
  void finish() {
    if (vec_) return;
    for (std::size_t i = 0; i < n_; ++i) {
      o0_[i] = mod_.reduce(a0_[i]);
      o1_[i] = mod_.reduce(a1_[i]);
    }
  }

 private:
  const math::Modulus& mod_;
  std::size_t n_;
  u64 *o0_, *o1_;
  u128 *a0_ = nullptr, *a1_ = nullptr;
  bool vec_;
};

// acc[c][r] (c < 2, r <= k; r == k stands for P; NTT form) divided by P and added into
// (c0, c1) of ct: with rounding, or for BGV exactly after subtracting delta (poly_ops.h,
// BgvDelta), so t e stays a multiple of t and the message is unchanged (a key part carries
// P s', which the division cancels).
void mod_down_add(const Context& ctx, u64* acc, Ciphertext& ct) {
  const std::size_t n = ctx.n(), k = ct.num_primes, p_index = ctx.key_primes() - 1;
  const bool bgv = ctx.scheme() == Scheme::bgv;
  auto acc_at = [&](std::size_t c, std::size_t r) { return acc + (c * (k + 1) + r) * n; };
  const auto& p = ctx.special_prime();
  const u64 half = p.value() >> 1;
  std::vector<BgvDelta> delta;
  // BGV with t, P and every q_i below 2^50: delta by the IFMA kernels (bgv_switch_ifma.h).
  bool vector = bgv && n % 8 == 0 && ctx.plain_modulus().bits() <= 50 && p.bits() <= 50 && math::cpu_has_ifma();
  for (std::size_t i = 0; vector && i < k; ++i) vector = ctx.key_base()[i].bits() <= 50;
  const bool scalar_bgv = bgv && !vector;
  std::int64_t* cb = scalar_bgv ? math::scratch<struct BgvModDownCTag, std::int64_t>(2 * n) : nullptr;
  std::int64_t* kb = scalar_bgv ? math::scratch<struct BgvModDownKTag, std::int64_t>(2 * n) : nullptr;
  u64* kv = vector ? math::scratch<struct BgvModDownKVecTag, u64>(2 * n) : nullptr;
  const u64 t = ctx.plain_modulus().value();
  for (std::size_t c = 0; c < 2; ++c) {
    u64* ap = acc_at(c, k);
    math::ntt_inverse(ap, ctx.ntt(p_index));
    if (vector) {
      detail::bgv_delta_k_ifma(ap, kv + c * n, n, p.value(), t, ctx.inv_last_mod_t(p_index + 1));
    } else if (bgv) {
      delta.emplace_back(ctx, ap, p, ctx.inv_last_mod_t(p_index + 1), cb + c * n, kb + c * n);
    } else {
      for (std::size_t i = 0; i < n; ++i) ap[i] = p.add(ap[i], half);
    }
  }
  math::parallel_for(2 * k, [&](std::size_t task) {
    const std::size_t c = task / k, i = task % k;
    const auto& qi = ctx.key_base()[i];
    const u64 q = qi.value();
    const u64* ap = acc_at(c, k);
    u64* ai = acc_at(c, i);
    u64* tmp = math::scratch<struct ModDownTag, u64>(n);
    if (vector) {
      detail::bgv_delta_mod_ifma(ap, kv + c * n, tmp, n, p.value(), t, q);
    } else if (bgv) {
      delta[c].mod(qi, tmp);
    } else {
      const u64 half_mod = qi.reduce(half);
      for (std::size_t t = 0; t < n; ++t) tmp[t] = qi.sub(qi.reduce(ap[t]), half_mod);
    }
    if (ct.ntt_form) {
      math::ntt_forward(tmp, ctx.ntt(i));
    } else {
      math::ntt_inverse(ai, ctx.ntt(i));
    }
    const math::ShoupOperand inv_p = ctx.inv_special(i);
    u64* dst = ct.residue(c, i);
    for (std::size_t t = 0; t < n; ++t) {
      const u64 v = math::mul_shoup(ai[t] + q - tmp[t], inv_p, q);
      const u64 s = dst[t] + v;
      dst[t] = s >= q ? s - q : s;
    }
  });
}

}  // namespace

void switch_key_add(const Context& ctx, const u64* target, bool target_ntt, const KSwitchKey& key, Ciphertext& ct) {
  if (!ctx.has_special_prime()) throw std::logic_error("key switching needs a special prime");
  const std::size_t n = ctx.n(), k = ct.num_primes, kk = ctx.key_primes();
  const std::size_t p_index = kk - 1;
  check_key(ctx, key, k);
  // Digits in coefficient form.
  u64* digits = math::scratch<struct DigitsTag, u64>(n * k);
  std::copy(target, target + n * k, digits);
  if (target_ntt) ntt_inverse_poly(ctx, digits, k);

  // acc[c][r]: output polynomial c, modulus r (r == k stands for P), NTT form.
  u64* acc = math::scratch<struct AccTag, u64>(2 * (k + 1) * n);
  auto acc_at = [&](std::size_t c, std::size_t r) { return acc + (c * (k + 1) + r) * n; };
  math::parallel_for(k + 1, [&](std::size_t r) {
    const std::size_t prime = r < k ? r : p_index;
    const auto& mod = ctx.key_base()[prime];
    KeyProductSum sum(mod, n, acc_at(0, r), acc_at(1, r));
    u64* tmp = math::scratch<struct DigitTmpTag, u64>(n);
    for (std::size_t j = 0; j < k; ++j) {
      const u64* d;
      if (r == j && target_ntt) {
        d = target + j * n;
      } else {
        // Lift digit j centered, into (-q_j/2, q_j/2]: any representative of
        // d mod q_j keeps sum_j digit_j I_j = d, and centered digits halve the
        // key-switching noise sum_j digit_j e_j (about 4 bits on rotations).
        const u64* src = digits + j * n;
        const u64 qj = ctx.key_base()[j].value();
        if (r == j) {
          std::copy(src, src + n, tmp);
        } else {
          const u64 half_j = qj >> 1;
          const u64 rv = mod.value();
          if (qj < 2 * rv) {
            // Both x <= q_j/2 and x - q_j + r already lie in [0, r): a select, no reduction.
            const u64 shift = rv - qj;  // mod 2^64
            for (std::size_t i = 0; i < n; ++i) {
              const u64 x = src[i];
              tmp[i] = x <= half_j ? x : x + shift;
            }
          } else {
            for (std::size_t i = 0; i < n; ++i) {
              const u64 x = src[i];
              tmp[i] = x <= half_j ? mod.reduce(x) : mod.neg(mod.reduce(qj - x));
            }
          }
        }
        math::ntt_forward(tmp, ctx.ntt(prime));
        d = tmp;
      }
      sum.add(d, key.parts[j].residue(0, prime), key.parts[j].residue(1, prime));
    }
    sum.finish();
  });

  mod_down_add(ctx, acc, ct);
}

void relinearize_inplace(const Context& ctx, Ciphertext& ct, const RelinKeys& rk) {
  if (ct.size != 3) {
    throw std::invalid_argument("relinearize expects a size-3 ciphertext, got size " + std::to_string(ct.size));
  }
  u64* c2 = math::scratch<struct RelinC2Tag, u64>(ct.poly_words());
  std::copy(ct.poly(2), ct.poly(2) + ct.poly_words(), c2);
  ct.resize(2);
  switch_key_add(ctx, c2, ct.ntt_form, rk.key, ct);
}

void apply_galois_inplace(const Context& ctx, Ciphertext& ct, u64 galois_elt, const GaloisKeys& gk) {
  if (ct.size != 2) {
    throw std::invalid_argument("Galois automorphism expects a size-2 ciphertext (relinearize first), got size " +
                                std::to_string(ct.size));
  }
  check_galois_elt(galois_elt, ctx.n());
  const KSwitchKey& key = gk.at(galois_elt);
  const std::size_t n = ctx.n(), k = ct.num_primes;
  u64* t0 = math::scratch<struct GaloisT0Tag, u64>(n * k);
  u64* t1 = math::scratch<struct GaloisT1Tag, u64>(n * k);
  if (ct.ntt_form) {
    const auto& perm = galois_ntt_permutation_cached(galois_elt, n);
    for (std::size_t j = 0; j < k; ++j) {
      apply_galois_ntt(ct.residue(0, j), perm, n, t0 + j * n);
      apply_galois_ntt(ct.residue(1, j), perm, n, t1 + j * n);
    }
  } else {
    for (std::size_t j = 0; j < k; ++j) {
      apply_galois_coeff(ct.residue(0, j), galois_elt, ctx.key_base()[j], n, t0 + j * n);
      apply_galois_coeff(ct.residue(1, j), galois_elt, ctx.key_base()[j], n, t1 + j * n);
    }
  }
  std::copy(t0, t0 + n * k, ct.poly(0));
  std::fill(ct.poly(1), ct.poly(1) + n * k, 0);
  switch_key_add(ctx, t1, ct.ntt_form, key, ct);
}

void rotate_inplace(const Context& ctx, Ciphertext& ct, int step, const GaloisKeys& gk) {
  for (u64 g : rotation_galois_elts(step, ctx.n(), [&](u64 e) { return gk.has(e); })) apply_galois_inplace(ctx, ct, g, gk);
}

KeySwitchDigits decompose_for_switch(const Context& ctx, const u64* target, bool target_ntt, std::size_t k) {
  if (!ctx.has_special_prime()) throw std::logic_error("key switching needs a special prime");
  if (k == 0 || k >= ctx.key_primes()) throw std::invalid_argument("decompose_for_switch: bad prime count " + std::to_string(k));
  const std::size_t n = ctx.n(), p_index = ctx.key_primes() - 1;
  KeySwitchDigits out;
  out.n = n;
  out.k = k;
  out.data.assign(k * (k + 1) * n, 0);
  std::vector<u64> coeffs(target, target + n * k);
  if (target_ntt) ntt_inverse_poly(ctx, coeffs.data(), k);
  math::parallel_for(k + 1, [&](std::size_t r) {
    const std::size_t prime = r < k ? r : p_index;
    const auto& mod = ctx.key_base()[prime];
    for (std::size_t j = 0; j < k; ++j) {
      u64* dst = out.data.data() + (j * (k + 1) + r) * n;
      if (r == j && target_ntt) {
        std::copy(target + j * n, target + (j + 1) * n, dst);
        continue;
      }
      // Centered lift of digit j (as switch_key_add does).
      const u64* src = coeffs.data() + j * n;
      const u64 qj = ctx.key_base()[j].value(), half_j = qj >> 1;
      if (r == j) {
        std::copy(src, src + n, dst);
      } else {
        for (std::size_t i = 0; i < n; ++i) {
          const u64 x = src[i];
          dst[i] = x <= half_j ? mod.reduce(x) : mod.neg(mod.reduce(qj - x));
        }
      }
      math::ntt_forward(dst, ctx.ntt(prime));
    }
  });
  return out;
}

void switch_key_add_digits(const Context& ctx, const KeySwitchDigits& digits, const std::vector<std::uint32_t>* perm,
                           const KSwitchKey& key, Ciphertext& ct) {
  const std::size_t n = ctx.n(), k = ct.num_primes, p_index = ctx.key_primes() - 1;
  if (digits.k != k || digits.n != n) throw std::invalid_argument("switch_key_add_digits: digits do not match the ciphertext");
  if (!ct.ntt_form) throw std::invalid_argument("switch_key_add_digits: NTT-form ciphertexts only");
  check_key(ctx, key, k);
  u64* acc = math::scratch<struct HoistAccTag, u64>(2 * (k + 1) * n);
  math::parallel_for(k + 1, [&](std::size_t r) {
    const std::size_t prime = r < k ? r : p_index;
    const auto& mod = ctx.key_base()[prime];
    KeyProductSum sum(mod, n, acc + r * n, acc + ((k + 1) + r) * n);
    u64* tmp = math::scratch<struct HoistPermTag, u64>(n);
    for (std::size_t j = 0; j < k; ++j) {
      const u64* d = digits.data.data() + (j * (k + 1) + r) * n;
      if (perm) {
        apply_galois_ntt(d, *perm, n, tmp);
        d = tmp;
      }
      sum.add(d, key.parts[j].residue(0, prime), key.parts[j].residue(1, prime));
    }
    sum.finish();
  });
  mod_down_add(ctx, acc, ct);
}

std::vector<Ciphertext> apply_galois_hoisted(const Context& ctx, const Ciphertext& ct, const std::vector<u64>& galois_elts,
                                             const GaloisKeys& gk) {
  if (ct.size != 2) {
    throw std::invalid_argument("hoisted Galois automorphisms expect a size-2 ciphertext (relinearize first), got size " +
                                std::to_string(ct.size));
  }
  if (!ct.ntt_form) throw std::invalid_argument("hoisted Galois automorphisms: NTT-form ciphertexts only (CKKS)");
  for (u64 g : galois_elts) {
    check_galois_elt(g, ctx.n());
    if (g != 1) (void)gk.at(g);  // throws naming a missing element before any work
  }
  const std::size_t n = ctx.n(), k = ct.num_primes;
  std::vector<Ciphertext> out(galois_elts.size());
  bool any = false;
  for (u64 g : galois_elts) any |= g != 1;
  KeySwitchDigits digits;
  if (any) digits = decompose_for_switch(ctx, ct.poly(1), true, k);
  // One rotation per core (each one's own work then runs on that core): with few primes
  // per ciphertext this keeps both cores busy where splitting one rotation by prime would not.
  math::parallel_for(galois_elts.size(), [&](std::size_t i) {
    const u64 g = galois_elts[i];
    Ciphertext r = ct;
    if (g != 1) {
      const auto& perm = galois_ntt_permutation_cached(g, n);
      for (std::size_t j = 0; j < k; ++j) apply_galois_ntt(ct.residue(0, j), perm, n, r.residue(0, j));
      std::fill(r.poly(1), r.poly(1) + n * k, 0);
      switch_key_add_digits(ctx, digits, &perm, gk.at(g), r);
    }
    out[i] = std::move(r);
  });
  return out;
}

}  // namespace hecnn::rlwe
