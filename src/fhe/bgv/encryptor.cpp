#include "fhe/bgv/encryptor.h"

#include <stdexcept>
#include <string>

#include "fhe/bfv/encryptor.h"
#include "fhe/rlwe/encrypt.h"
#include "fhe/rlwe/noise.h"
#include "fhe/rlwe/poly_ops.h"
#include "math/parallel.h"
#include "math/scratch.h"
#include "math/secure.h"

namespace hecnn::bgv {

using math::u128;

void lift_plain_ntt(const rlwe::Context& ctx, const Plaintext& pt, u64 multiplier, std::size_t k, u64* out) {
  bfv::check_plaintext(ctx, pt);
  const std::size_t n = ctx.n();
  const auto& tm = ctx.plain_modulus();
  const u64 t = tm.value(), half_t = t >> 1;
  math::parallel_for(k, [&](std::size_t j) {
    const auto& qj = ctx.key_base()[j];
    u64* dst = out + j * n;
    const u64 q = qj.value();
    if (t < q) {
      // v < t < q needs no reduction; the centred lift v or v - t (+ q) without a branch
      // (the comparison is random: a branch would mispredict half the time).
      const u64 shift = q - t;
      const u64* src = pt.coeffs.data();
      if (multiplier != 1) {
        for (std::size_t i = 0; i < n; ++i) dst[i] = tm.mul(src[i], multiplier);
        src = dst;
      }
      for (std::size_t i = 0; i < n; ++i) {
        const u64 v = src[i];
        dst[i] = v + (shift & (u64{0} - static_cast<u64>(v > half_t)));
      }
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        const u64 v = multiplier == 1 ? pt.coeffs[i] : tm.mul(pt.coeffs[i], multiplier);
        dst[i] = v > half_t ? qj.neg(qj.reduce(t - v)) : qj.reduce(v);
      }
    }
    math::ntt_forward(dst, ctx.ntt(j));
  });
}

Encryptor::Encryptor(BgvTablesPtr tables, rlwe::PublicKey pk) : tables_(std::move(tables)), pk_(std::move(pk)) {}
Encryptor::Encryptor(BgvTablesPtr tables, rlwe::SecretKey sk) : tables_(std::move(tables)), sk_(std::move(sk)) {}

Ciphertext Encryptor::encrypt(const Plaintext& pt, math::Prng& prng) const {
  return encrypt_at(pt, tables_->context().max_data_primes(), prng);
}

Ciphertext Encryptor::encrypt_at(const Plaintext& pt, std::size_t k, math::Prng& prng) const {
  const auto& ctx = tables_->context();
  ctx.check_data_level(k, "BGV encrypt");
  u64* m = math::scratch<struct BgvEncryptPlainTag, u64>(ctx.n() * k);
  lift_plain_ntt(ctx, pt, 1, k, m);  // checks the plaintext before any encryption work
  Ciphertext ct;
  if (pk_) {
    rlwe::encrypt_zero_public(ctx, *pk_, k, true, prng, ct);
  } else {
    rlwe::encrypt_zero_symmetric(ctx, *sk_, k, true, prng, ct);
  }
  rlwe::add_poly(ctx, ct.poly(0), m, ct.poly(0), k);
  ct.correction_factor = 1;
  return ct;
}

Decryptor::Decryptor(BgvTablesPtr tables, rlwe::SecretKey sk) : tables_(std::move(tables)), sk_(std::move(sk)) {
  const auto& ctx = tables_->context();
  if (sk_.data.size() != ctx.n() * ctx.key_primes()) throw std::invalid_argument("secret key does not match the parameters");
}

void Decryptor::check(const Ciphertext& ct) const {
  const auto& ctx = tables_->context();
  ctx.check_data_level(ct.num_primes, "BGV decrypt");
  if (ct.n != ctx.n() || ct.size < 2 || !ct.ntt_form || ct.data.size() != ct.n * ct.num_primes * ct.size) {
    throw std::invalid_argument("BGV decrypt: ciphertext does not match the parameters (N, size or form)");
  }
  const u64 t = ctx.plain_modulus().value();
  if (ct.correction_factor == 0 || ct.correction_factor >= t) {
    throw std::invalid_argument("BGV decrypt: correction factor " + std::to_string(ct.correction_factor) + " is not in 1..t-1");
  }
  ctx.check_parms_id(ct, "BGV decrypt");
}

u64* Decryptor::phase(const Ciphertext& ct) const {
  const auto& ctx = tables_->context();
  const std::size_t k = ct.num_primes;
  u64* x = math::scratch<struct BgvPhaseTag, u64>(ctx.n() * k);
  rlwe::secret_dot(ctx, sk_, ct, x);  // NTT form, as ct
  rlwe::ntt_inverse_poly(ctx, x, k);
  return x;
}

Plaintext Decryptor::decrypt(const Ciphertext& ct) const {
  check(ct);
  const auto& ctx = tables_->context();
  const auto& L = tables_->level(ct.num_primes);
  const std::size_t n = ctx.n(), k = ct.num_primes;
  const auto& base = ctx.base(k);
  const auto& tm = ctx.plain_modulus();
  const u64 fix = tm.inv(ct.correction_factor);
  u64* x = phase(ct);
  Plaintext pt;
  pt.coeffs.resize(n);
  for (std::size_t c = 0; c < n; ++c) {
    u128 frac = 0;  // sum_i y_i / q_i in 64.64 fixed point
    u64 whole = 0;  // sum_i y_i (Q / q_i) mod t
    for (std::size_t i = 0; i < k; ++i) {
      const u64 y = math::mul_shoup(x[i * n + c], base.inv_punctured(i), base[i].value());
      frac += static_cast<u128>(y) * L.inv_q[i].hi + math::mul_hi(y, L.inv_q[i].lo);
      whole = tm.add(whole, tm.mul(tm.reduce(y), L.punctured_mod_t[i]));
    }
    const u64 v = static_cast<u64>((frac + (u128{1} << 63)) >> 64);  // round: the centered lift
    const u64 m = tm.sub(whole, tm.mul(tm.reduce(v), L.q_mod_t));
    pt.coeffs[c] = fix == 1 ? m : tm.mul(m, fix);
  }
  math::secure_wipe(x, n * k * sizeof(u64));  // the phase c0 + c1 s reveals s with the ciphertext
  return pt;
}

int Decryptor::invariant_noise_budget(const Ciphertext& ct) const {
  check(ct);
  const auto& ctx = tables_->context();
  const std::size_t n = ctx.n(), k = ct.num_primes;
  u64* x = phase(ct);
  const int max_bits = rlwe::max_centered_bits(ctx, x, k, 1);
  math::secure_wipe(x, n * k * sizeof(u64));
  return std::max(0, ctx.base(k).product().bit_count() - max_bits - 1);
}

}  // namespace hecnn::bgv
