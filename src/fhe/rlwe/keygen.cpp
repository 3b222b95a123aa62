#include "fhe/rlwe/keygen.h"

#include <stdexcept>

#include "fhe/rlwe/encrypt.h"
#include "fhe/rlwe/galois.h"
#include "fhe/rlwe/poly_ops.h"
#include "math/sampling.h"

namespace hecnn::rlwe {

const KSwitchKey& GaloisKeys::at(u64 galois_elt) const {
  auto it = keys.find(galois_elt);
  if (it == keys.end()) {
    throw std::invalid_argument("Galois keys lack element " + std::to_string(galois_elt) +
                                "; generate keys for this rotation step");
  }
  return it->second;
}

namespace {
SecretKey fresh_secret(const Context& ctx, math::Prng& prng) {
  const std::size_t n = ctx.n(), k = ctx.key_primes();
  auto s = math::sample_ternary(prng, n);
  SecretKey sk;
  sk.data.resize(n * k);
  math::small_to_rns(s.data(), n, ctx.key_base(), sk.data.data());
  ntt_forward_poly(ctx, sk.data.data(), k);
  return sk;
}
}  // namespace

KeyGenerator::KeyGenerator(ContextPtr ctx, math::Prng& prng) : ctx_(std::move(ctx)), prng_(prng) {
  sk_ = fresh_secret(*ctx_, prng_);
}

KeyGenerator::KeyGenerator(ContextPtr ctx, SecretKey sk, math::Prng& prng)
    : ctx_(std::move(ctx)), prng_(prng), sk_(std::move(sk)) {
  if (sk_.data.size() != ctx_->n() * ctx_->key_primes()) {
    throw std::invalid_argument("secret key does not match the parameters (wrong N or prime count)");
  }
}

PublicKey KeyGenerator::create_public_key() const {
  PublicKey pk;
  encrypt_zero_symmetric(*ctx_, sk_, ctx_->key_primes(), true, prng_, pk.ct);
  return pk;
}

KSwitchKey KeyGenerator::create_kswitch_key(std::span<const u64> new_key) const {
  const Context& ctx = *ctx_;
  if (!ctx.has_special_prime()) {
    throw std::logic_error("key switching needs at least two coefficient primes (the last is the special prime)");
  }
  const std::size_t n = ctx.n(), kk = ctx.key_primes(), data = kk - 1;
  const auto& p = ctx.special_prime();
  KSwitchKey key;
  key.parts.resize(data);
  for (std::size_t j = 0; j < data; ++j) {
    Ciphertext& part = key.parts[j];
    encrypt_zero_symmetric(ctx, sk_, kk, true, prng_, part);
    const auto& qj = ctx.key_base()[j];
    const u64 factor = qj.reduce(p.value());
    u64* c0 = part.residue(0, j);
    const u64* s = new_key.data() + j * n;
    for (std::size_t i = 0; i < n; ++i) c0[i] = qj.add(c0[i], qj.mul(s[i], factor));
  }
  return key;
}

RelinKeys KeyGenerator::create_relin_keys() const {
  math::SecretVector<u64> s2(sk_.data.size());  // s^2, wiped on release
  mul_poly(*ctx_, sk_.data.data(), sk_.data.data(), s2.data(), ctx_->key_primes());
  return RelinKeys{create_kswitch_key(s2)};
}

GaloisKeys KeyGenerator::create_galois_keys(const std::vector<u64>& elts) const {
  const std::size_t n = ctx_->n(), kk = ctx_->key_primes();
  GaloisKeys gk;
  for (u64 g : elts) {
    check_galois_elt(g, n);
    if (gk.has(g)) continue;
    const auto perm = galois_ntt_permutation(g, n);
    math::SecretVector<u64> sg(n * kk);  // s(X^g), wiped on release
    for (std::size_t j = 0; j < kk; ++j) apply_galois_ntt(sk_.data.data() + j * n, perm, n, sg.data() + j * n);
    gk.keys.emplace(g, create_kswitch_key(sg));
  }
  return gk;
}

GaloisKeys KeyGenerator::create_galois_keys_for_steps(const std::vector<int>& steps, bool with_conjugate) const {
  std::vector<u64> elts;
  for (int s : steps) elts.push_back(galois_elt_from_step(s, ctx_->n()));
  if (with_conjugate) elts.push_back(galois_elt_conjugate(ctx_->n()));
  return create_galois_keys(elts);
}

}  // namespace hecnn::rlwe
