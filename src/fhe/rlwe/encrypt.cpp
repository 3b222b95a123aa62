#include "fhe/rlwe/encrypt.h"

#include <algorithm>
#include <stdexcept>

#include "fhe/rlwe/poly_ops.h"
#include "math/parallel.h"
#include "math/vec_ops.h"
#include "math/sampling.h"
#include "math/scratch.h"
#include "math/secure.h"

namespace hecnn::rlwe {

namespace {
// Adds a fresh error polynomial to `poly` (k residues) in the given form.
void add_error(const Context& ctx, math::Prng& prng, u64* poly, std::size_t k, bool ntt_form) {
  const std::size_t n = ctx.n();
  auto e = math::sample_cbd(prng, n);
  u64* er = math::scratch<struct ErrorTag, u64>(n * k);
  math::small_to_rns(e.data(), n, ctx.base(k), er);
  // BGV: the error is t e, so the phase of an encryption of zero (and of every key) is 0 mod t.
  if (ctx.scheme() == Scheme::bgv) mul_scalar_poly(ctx, er, static_cast<std::int64_t>(ctx.plain_modulus().value()), k);
  if (ntt_form) ntt_forward_poly(ctx, er, k);
  add_poly(ctx, poly, er, poly, k);
  math::secure_wipe(er, n * k * sizeof(u64));
}
}  // namespace

void encrypt_zero_symmetric(const Context& ctx, const SecretKey& sk, std::size_t k, bool ntt_form,
                            math::Prng& prng, Ciphertext& out, const u64* given_c1) {
  const std::size_t n = ctx.n();
  if (k < 1 || k > ctx.key_primes()) throw std::invalid_argument("encrypt: bad prime count");
  out = Ciphertext(n, k, 2, ntt_form);
  ctx.stamp(out);
  u64* c0 = out.poly(0);
  u64* c1 = out.poly(1);
  if (given_c1) {
    std::copy(given_c1, given_c1 + n * k, c1);
  } else {
    math::sample_uniform(prng, ctx.base(k), n, c1);
  }
  // c0 = -(a s) + e, with a = c1 in NTT form.
  std::vector<u64> a_ntt(c1, c1 + n * k);
  if (!ntt_form) ntt_forward_poly(ctx, a_ntt.data(), k);
  mul_poly(ctx, a_ntt.data(), sk.data.data(), c0, k);
  negate_poly(ctx, c0, c0, k);
  if (!ntt_form) ntt_inverse_poly(ctx, c0, k);
  add_error(ctx, prng, c0, k, ntt_form);
}

void encrypt_zero_public(const Context& ctx, const PublicKey& pk, std::size_t k, bool ntt_form, math::Prng& prng,
                         Ciphertext& out) {
  const std::size_t n = ctx.n();
  if (k < 1 || k > ctx.key_primes()) throw std::invalid_argument("encrypt: bad prime count");
  if (pk.ct.n != n || pk.ct.num_primes != ctx.key_primes() || pk.ct.size != 2) {
    throw std::invalid_argument("public key does not match the parameters");
  }
  // Work over one more prime (P for the top data level) and divide it away with
  // rounding, as SEAL does: the noise u*e_pk + e shrinks by that prime's size.
  const std::size_t work = k < ctx.key_primes() ? k + 1 : k;
  auto u = math::sample_ternary(prng, n);
  u64* ur = math::scratch<struct MaskTag, u64>(n * work);
  math::small_to_rns(u.data(), n, ctx.base(work), ur);
  ntt_forward_poly(ctx, ur, work);
  u64* tmp = math::scratch<struct WorkTag, u64>(2 * n * work);
  for (std::size_t c = 0; c < 2; ++c) {
    u64* tc = tmp + c * n * work;
    mul_poly(ctx, pk.ct.poly(c), ur, tc, work);
    ntt_inverse_poly(ctx, tc, work);
    add_error(ctx, prng, tc, work, false);
  }
  math::secure_wipe(ur, n * work * sizeof(u64));
  out = Ciphertext(n, k, 2, ntt_form);
  ctx.stamp(out);
  for (std::size_t c = 0; c < 2; ++c) {
    u64* tc = tmp + c * n * work;
    if (work > k) divide_and_round_by_last(ctx, tc, work, false);
    std::copy(tc, tc + n * k, out.poly(c));
    if (ntt_form) ntt_forward_poly(ctx, out.poly(c), k);
  }
}

void secret_dot(const Context& ctx, const SecretKey& sk, const Ciphertext& ct, u64* out) {
  const std::size_t n = ctx.n(), k = ct.num_primes;
  const std::size_t words = n * k;
  if (ct.size == 2 && ct.ntt_form) {
    // The common case (CKKS, BGV): out = c0 + c1 s slot-wise, straight into out (no scratch
    // holding a product with the secret, nothing to wipe).
    math::parallel_for(k, [&](std::size_t j) {
      const auto& q = ctx.key_base()[j];
      u64* o = out + j * n;
      if (o != ct.poly(0) + j * n) std::copy(ct.poly(0) + j * n, ct.poly(0) + (j + 1) * n, o);
      math::mul_add_mod_vec(ct.poly(1) + j * n, sk.data.data() + j * n, o, n, q);
    });
    return;
  }
  u64* acc = math::scratch<struct DotAccTag, u64>(words);
  u64* term = math::scratch<struct DotTermTag, u64>(words);
  u64* spow = math::scratch<struct DotPowTag, u64>(words);
  std::fill(acc, acc + words, 0);
  std::copy(sk.data.begin(), sk.data.begin() + static_cast<std::ptrdiff_t>(words), spow);
  for (std::size_t c = 1; c < ct.size; ++c) {
    std::copy(ct.poly(c), ct.poly(c) + words, term);
    if (!ct.ntt_form) ntt_forward_poly(ctx, term, k);
    mul_add_poly(ctx, term, spow, acc, k);
    if (c + 1 < ct.size) mul_poly(ctx, spow, sk.data.data(), spow, k);
  }
  if (!ct.ntt_form) ntt_inverse_poly(ctx, acc, k);
  add_poly(ctx, acc, ct.poly(0), out, k);
  math::secure_wipe(spow, words * sizeof(u64));  // powers of s
  math::secure_wipe(acc, words * sizeof(u64));   // sum c_i s^i before c_0 is added
  math::secure_wipe(term, words * sizeof(u64));
}

}  // namespace hecnn::rlwe
