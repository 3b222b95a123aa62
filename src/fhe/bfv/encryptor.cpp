#include "fhe/bfv/encryptor.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "fhe/rlwe/encrypt.h"
#include "fhe/rlwe/noise.h"
#include "math/biguint.h"
#include "math/scratch.h"
#include "math/secure.h"

namespace hecnn::bfv {

using math::u128;

void check_plaintext(const rlwe::Context& ctx, const Plaintext& pt) {
  if (pt.coeffs.size() != ctx.n()) {
    throw std::invalid_argument("BFV plaintext has " + std::to_string(pt.coeffs.size()) + " coefficients, N = " +
                                std::to_string(ctx.n()));
  }
  const u64 t = ctx.plain_modulus().value();
  for (u64 c : pt.coeffs)
    if (c >= t) throw std::invalid_argument("BFV plaintext coefficient " + std::to_string(c) + " is not below t");
}

void add_scaled_plain(const BfvTables& tables, const Plaintext& pt, Ciphertext& ct, bool subtract) {
  const auto& ctx = tables.context();
  const auto& L = tables.level(ct.num_primes);
  const std::size_t n = ctx.n();
  const u64 t = ctx.plain_modulus().value();
  const u64 half_t = (t + 1) / 2;
  std::vector<u64> fix(n);
  for (std::size_t i = 0; i < n; ++i) {
    fix[i] = static_cast<u64>((static_cast<u128>(pt.coeffs[i]) * L.q_mod_t + half_t) / t);
  }
  for (std::size_t j = 0; j < ct.num_primes; ++j) {
    const auto& qj = ctx.key_base()[j];
    const math::ShoupOperand delta(L.delta[j], qj);
    u64* c0 = ct.residue(0, j);
    for (std::size_t i = 0; i < n; ++i) {
      const u64 v = qj.add(math::mul_shoup(pt.coeffs[i], delta, qj.value()), qj.reduce(fix[i]));
      c0[i] = subtract ? qj.sub(c0[i], v) : qj.add(c0[i], v);
    }
  }
}

Encryptor::Encryptor(BfvTablesPtr tables, rlwe::PublicKey pk) : tables_(std::move(tables)), pk_(std::move(pk)) {}
Encryptor::Encryptor(BfvTablesPtr tables, rlwe::SecretKey sk) : tables_(std::move(tables)), sk_(std::move(sk)) {}

Ciphertext Encryptor::encrypt(const Plaintext& pt, math::Prng& prng) const {
  return encrypt_at(pt, tables_->context().max_data_primes(), prng);
}

Ciphertext Encryptor::encrypt_at(const Plaintext& pt, std::size_t k, math::Prng& prng) const {
  const auto& ctx = tables_->context();
  check_plaintext(ctx, pt);
  ctx.check_data_level(k, "BFV encrypt");
  Ciphertext ct;
  if (pk_) {
    rlwe::encrypt_zero_public(ctx, *pk_, k, false, prng, ct);
  } else {
    rlwe::encrypt_zero_symmetric(ctx, *sk_, k, false, prng, ct);
  }
  add_scaled_plain(*tables_, pt, ct);
  return ct;
}

Decryptor::Decryptor(BfvTablesPtr tables, rlwe::SecretKey sk) : tables_(std::move(tables)), sk_(std::move(sk)) {
  const auto& ctx = tables_->context();
  if (sk_.data.size() != ctx.n() * ctx.key_primes()) throw std::invalid_argument("secret key does not match the parameters");
}

void Decryptor::check(const Ciphertext& ct) const {
  const auto& ctx = tables_->context();
  ctx.check_data_level(ct.num_primes, "BFV decrypt");
  if (ct.n != ctx.n() || ct.size < 2 || ct.ntt_form || ct.data.size() != ct.n * ct.num_primes * ct.size) {
    throw std::invalid_argument("BFV decrypt: ciphertext does not match the parameters (N, size or form)");
  }
  ctx.check_parms_id(ct, "BFV decrypt");
}

Plaintext Decryptor::decrypt(const Ciphertext& ct) const {
  check(ct);
  const auto& ctx = tables_->context();
  const auto& L = tables_->level(ct.num_primes);
  const std::size_t n = ctx.n(), k = ct.num_primes;
  u64* x = math::scratch<struct DecryptPhaseTag, u64>(n * k);
  rlwe::secret_dot(ctx, sk_, ct, x);
  const auto& base = ctx.base(k);
  const auto& tm = ctx.plain_modulus();
  Plaintext pt;
  pt.coeffs.resize(n);
  for (std::size_t c = 0; c < n; ++c) {
    u128 frac = 0;
    u128 whole = 0;
    for (std::size_t i = 0; i < k; ++i) {
      const u64 y = math::mul_shoup(x[i * n + c], base.inv_punctured(i), base[i].value());
      frac += static_cast<u128>(y) * L.dec_theta[i].hi + math::mul_hi(y, L.dec_theta[i].lo);
      whole += static_cast<u128>(y) * L.dec_omega[i];
    }
    const u64 r = static_cast<u64>((frac + (u128{1} << 63)) >> 64);
    pt.coeffs[c] = tm.reduce(whole + r);
  }
  math::secure_wipe(x, n * k * sizeof(u64));  // the phase c0 + c1 s reveals s with the ciphertext
  return pt;
}

int Decryptor::invariant_noise_budget(const Ciphertext& ct) const {
  check(ct);
  const auto& ctx = tables_->context();
  const std::size_t n = ctx.n(), k = ct.num_primes;
  u64* x = math::scratch<struct NoisePhaseTag, u64>(n * k);
  rlwe::secret_dot(ctx, sk_, ct, x);
  // The invariant noise is [t (c0 + c1 s)]_Q, centered; its size in bits against Q's.
  const int max_bits = rlwe::max_centered_bits(ctx, x, k, ctx.plain_modulus().value());
  math::secure_wipe(x, n * k * sizeof(u64));  // the phase c0 + c1 s reveals s with the ciphertext
  return std::max(0, ctx.base(k).product().bit_count() - max_bits - 1);
}

}  // namespace hecnn::bfv
