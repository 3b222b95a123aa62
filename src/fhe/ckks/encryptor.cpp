#include "fhe/ckks/encryptor.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "fhe/rlwe/encrypt.h"
#include "fhe/rlwe/poly_ops.h"

namespace hecnn::ckks {

void check_plaintext(const rlwe::Context& ctx, const Plaintext& pt, const char* what) {
  ctx.check_data_level(pt.num_primes, what);
  if (pt.n != ctx.n() || pt.data.size() != pt.n * pt.num_primes) {
    throw std::invalid_argument(std::string(what) + ": plaintext does not match the parameters (N = " +
                                std::to_string(pt.n) + ", " + std::to_string(pt.data.size()) + " words)");
  }
  if (!(pt.scale > 0) || !std::isfinite(pt.scale)) {
    throw std::invalid_argument(std::string(what) + ": plaintext scale must be positive and finite");
  }
}

void check_ciphertext(const rlwe::Context& ctx, const Ciphertext& ct, const char* what) {
  ctx.check_data_level(ct.num_primes, what);
  if (ct.n != ctx.n() || ct.size < 2 || ct.data.size() != ct.n * ct.num_primes * ct.size) {
    throw std::invalid_argument(std::string(what) + ": ciphertext does not match the parameters (N = " +
                                std::to_string(ct.n) + ", size " + std::to_string(ct.size) + ")");
  }
  if (!ct.ntt_form) throw std::invalid_argument(std::string(what) + ": CKKS ciphertexts must be in NTT form");
  ctx.check_parms_id(ct, what);
  if (!(ct.scale > 0) || !std::isfinite(ct.scale)) {
    throw std::invalid_argument(std::string(what) + ": ciphertext scale must be positive and finite");
  }
}

namespace {
void check_ckks(const rlwe::Context& ctx, const char* who) {
  if (ctx.scheme() != rlwe::Scheme::ckks) {
    throw std::invalid_argument(std::string(who) + " needs CKKS parameters, got " + rlwe::scheme_name(ctx.scheme()));
  }
}
}  // namespace

Encryptor::Encryptor(rlwe::ContextPtr ctx, rlwe::PublicKey pk) : ctx_(std::move(ctx)), pk_(std::move(pk)) {
  check_ckks(*ctx_, "CKKS Encryptor");
}
Encryptor::Encryptor(rlwe::ContextPtr ctx, rlwe::SecretKey sk) : ctx_(std::move(ctx)), sk_(std::move(sk)) {
  check_ckks(*ctx_, "CKKS Encryptor");
  if (sk_->data.size() != ctx_->n() * ctx_->key_primes()) {
    throw std::invalid_argument("CKKS Encryptor: secret key does not match the parameters");
  }
}

Ciphertext Encryptor::encrypt(const Plaintext& pt, math::Prng& prng) const {
  check_plaintext(*ctx_, pt, "CKKS encrypt");
  const std::size_t k = pt.num_primes;
  Ciphertext ct;
  if (pk_) {
    rlwe::encrypt_zero_public(*ctx_, *pk_, k, true, prng, ct);
  } else {
    rlwe::encrypt_zero_symmetric(*ctx_, *sk_, k, true, prng, ct);
  }
  rlwe::add_poly(*ctx_, ct.poly(0), pt.data.data(), ct.poly(0), k);
  ct.scale = pt.scale;
  return ct;
}

Decryptor::Decryptor(rlwe::ContextPtr ctx, rlwe::SecretKey sk) : ctx_(std::move(ctx)), sk_(std::move(sk)) {
  check_ckks(*ctx_, "CKKS Decryptor");
  if (sk_.data.size() != ctx_->n() * ctx_->key_primes()) {
    throw std::invalid_argument("CKKS Decryptor: secret key does not match the parameters");
  }
}

Plaintext Decryptor::decrypt(const Ciphertext& ct) const {
  check_ciphertext(*ctx_, ct, "CKKS decrypt");
  Plaintext pt;
  pt.n = ct.n;
  pt.num_primes = ct.num_primes;
  pt.scale = ct.scale;
  pt.data.resize(ct.n * ct.num_primes);
  rlwe::secret_dot(*ctx_, sk_, ct, pt.data.data());
  return pt;
}

}  // namespace hecnn::ckks
