#include "fhe/bfv/encryptor.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "fhe/rlwe/encrypt.h"
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

namespace {

// Fixed-size little-endian multi-word arithmetic for the noise measurement (no
// allocation per coefficient). kMaxLimbs covers 64 primes of 61 bits plus carries.
constexpr std::size_t kMaxLimbs = 64;

// acc += a * y over `len` limbs (acc has len + 1 limbs).
void mul_add_limbs(u64* acc, const u64* a, std::size_t len, u64 y) {
  u64 carry = 0;
  for (std::size_t i = 0; i < len; ++i) {
    const u128 t = static_cast<u128>(a[i]) * y + acc[i] + carry;
    acc[i] = static_cast<u64>(t);
    carry = static_cast<u64>(t >> 64);
  }
  for (std::size_t i = len; carry != 0 && i <= len; ++i) {
    const u128 t = static_cast<u128>(acc[i]) + carry;
    acc[i] = static_cast<u64>(t);
    carry = static_cast<u64>(t >> 64);
  }
}

int compare_limbs(const u64* a, const u64* b, std::size_t len) {
  for (std::size_t i = len; i-- > 0;) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

// a -= b (a >= b).
void sub_limbs(u64* a, const u64* b, std::size_t len) {
  u64 borrow = 0;
  for (std::size_t i = 0; i < len; ++i) {
    const u64 bi = b[i];
    const u64 d = a[i] - bi - borrow;
    borrow = (a[i] < bi || (a[i] == bi && borrow)) ? 1 : 0;
    a[i] = d;
  }
}

int bit_length(const u64* a, std::size_t len) {
  for (std::size_t i = len; i-- > 0;) {
    if (a[i] != 0) return static_cast<int>(64 * i) + 64 - __builtin_clzll(a[i]);
  }
  return 0;
}

}  // namespace

int Decryptor::invariant_noise_budget(const Ciphertext& ct) const {
  check(ct);
  const auto& ctx = tables_->context();
  const std::size_t n = ctx.n(), k = ct.num_primes;
  u64* x = math::scratch<struct NoisePhaseTag, u64>(n * k);
  rlwe::secret_dot(ctx, sk_, ct, x);
  const auto& base = ctx.base(k);
  const u64 t = ctx.plain_modulus().value();
  // The invariant noise is [t (c0 + c1 s)]_Q, centered; its size in bits against Q's.
  const std::size_t len = base.product().limbs().size() + 1;  // one limb of headroom
  if (len + 1 > kMaxLimbs) throw std::logic_error("noise budget: modulus too large");
  u64 q[kMaxLimbs] = {}, half[kMaxLimbs] = {};
  std::vector<u64> punctured(k * len, 0);
  std::copy(base.product().limbs().begin(), base.product().limbs().end(), q);
  math::BigUInt h = base.product();
  h.divmod(2);
  std::copy(h.limbs().begin(), h.limbs().end(), half);
  for (std::size_t i = 0; i < k; ++i) {
    const auto& l = base.punctured(i).limbs();
    std::copy(l.begin(), l.end(), punctured.begin() + static_cast<std::ptrdiff_t>(i * len));
  }
  int max_bits = 0;
  u64 acc[kMaxLimbs];
  for (std::size_t c = 0; c < n; ++c) {
    std::fill(acc, acc + len + 1, 0);
    for (std::size_t i = 0; i < k; ++i) {
      const auto& qi = base[i];
      const u64 v = qi.mul(x[i * n + c], qi.reduce(t));
      const u64 y = math::mul_shoup(v, base.inv_punctured(i), qi.value());
      mul_add_limbs(acc, punctured.data() + i * len, len, y);
    }
    while (compare_limbs(acc, q, len) >= 0) sub_limbs(acc, q, len);  // acc < k Q before
    if (compare_limbs(acc, half, len) > 0) {                          // centered: |v| = Q - v
      u64 neg[kMaxLimbs];
      std::copy(q, q + len, neg);
      sub_limbs(neg, acc, len);
      std::copy(neg, neg + len, acc);
    }
    max_bits = std::max(max_bits, bit_length(acc, len));
  }
  math::secure_wipe(x, n * k * sizeof(u64));  // the phase c0 + c1 s reveals s with the ciphertext
  return std::max(0, base.product().bit_count() - max_bits - 1);
}

}  // namespace hecnn::bfv
