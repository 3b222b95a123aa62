#include "fhe/wire/core_convert.h"

#include <stdexcept>

#include "fhe/rlwe/poly_ops.h"
#include "fhe/wire/error.h"
#include "fhe/wire/prng.h"

namespace hecnn::wire {

rlwe::ParamsLiteral to_core(const EncryptionParameters& p, bool enforce_128bit_security) {
  if (p.scheme != Scheme::bfv && p.scheme != Scheme::ckks && p.scheme != Scheme::bgv) {
    fail("parameters", std::string("scheme ") + std::string(to_string(p.scheme)) + " is not supported by hecnn");
  }
  rlwe::ParamsLiteral lit;
  lit.scheme = static_cast<rlwe::Scheme>(static_cast<std::uint8_t>(p.scheme));  // the same SEAL values
  lit.poly_degree = p.poly_modulus_degree;
  lit.coeff_modulus = p.coeff_modulus;
  lit.plain_modulus = p.plain_modulus;
  lit.security = enforce_128bit_security ? rlwe::Security::tc128 : rlwe::Security::none_insecure;
  return lit;
}

EncryptionParameters to_wire(const rlwe::ParamsLiteral& lit) {
  return EncryptionParameters{static_cast<Scheme>(static_cast<std::uint8_t>(lit.scheme)), lit.poly_degree,
                              lit.coeff_modulus, lit.plain_modulus};
}

rlwe::ContextPtr make_core_context(const Context& wctx, bool enforce_128bit_security) {
  auto core = rlwe::Context::create(to_core(wctx.parms(), enforce_128bit_security));
  // Both sides must name every level the same way.
  for (const Level& l : wctx.levels()) {
    if (core->parms_id(l.prime_count) != l.parms_id) {
      throw std::logic_error("wire and core parms_id differ at " + std::to_string(l.prime_count) + " primes");
    }
  }
  return core;
}

namespace {
const Level& level_with(const Context& wctx, std::size_t primes, bool key_level, const char* what) {
  for (const Level& l : wctx.levels()) {
    if (l.prime_count == primes && (l.chain_index == 0) == key_level) return l;
  }
  if (!key_level && primes == wctx.key_prime_count() && wctx.levels().size() == 1) return wctx.key_level();
  throw std::invalid_argument(std::string(what) + ": no " + (key_level ? "key" : "data") + " level with " +
                              std::to_string(primes) + " primes in these parameters");
}

CiphertextData ct_to_wire(const Context& wctx, const rlwe::Ciphertext& ct, bool key_level) {
  CiphertextData out;
  out.parms_id = level_with(wctx, ct.num_primes, key_level, "ciphertext").parms_id;
  out.is_ntt_form = ct.ntt_form;
  out.size = ct.size;
  out.n = ct.n;
  out.prime_count = ct.num_primes;
  out.scale = ct.scale;
  out.correction_factor = ct.correction_factor;
  out.data = ct.data;
  return out;
}

rlwe::Ciphertext ct_to_core(const CiphertextData& ct) {
  rlwe::Ciphertext out;
  out.n = ct.n;
  out.num_primes = ct.prime_count;
  out.size = ct.size;
  out.ntt_form = ct.is_ntt_form;
  out.scale = ct.scale;
  out.correction_factor = ct.correction_factor;
  out.parms_id = ct.parms_id;  // checked against the wire context by the callers; the same hash as rlwe's
  out.data = ct.data;
  return out;
}

rlwe::KSwitchKey ks_to_core(const std::vector<PublicKeyData>& parts) {
  rlwe::KSwitchKey k;
  for (const auto& p : parts) k.parts.push_back(ct_to_core(p.ct));
  return k;
}

std::vector<PublicKeyData> ks_to_wire(const Context& wctx, const rlwe::KSwitchKey& k) {
  std::vector<PublicKeyData> out;
  for (const auto& p : k.parts) out.push_back(PublicKeyData{ct_to_wire(wctx, p, true)});
  return out;
}
}  // namespace

CiphertextData to_wire(const Context& wctx, const rlwe::Ciphertext& ct) {
  auto out = ct_to_wire(wctx, ct, false);
  check_ciphertext(wctx, out, CiphertextRole::data, "ciphertext");
  return out;
}

rlwe::Ciphertext to_core(const Context& wctx, const CiphertextData& ct) {
  check_ciphertext(wctx, ct, CiphertextRole::data, "ciphertext");
  return ct_to_core(ct);
}

SecretKeyData to_wire(const Context& wctx, const rlwe::SecretKey& sk) {
  SecretKeyData out{PlaintextData{wctx.key_level().parms_id, sk.data.size(), 1.0,
                                  std::vector<std::uint64_t>(sk.data.begin(), sk.data.end())}};
  check_plaintext(wctx, out.plain, "secret key");
  return out;
}

rlwe::SecretKey to_core(const Context& wctx, const SecretKeyData& sk) {
  check_plaintext(wctx, sk.plain, "secret key");
  if (sk.plain.parms_id != wctx.key_level().parms_id) fail("secret key", "parms_id is not the key level");
  return rlwe::SecretKey{math::SecretVector<std::uint64_t>(sk.plain.data.begin(), sk.plain.data.end())};
}

PublicKeyData to_wire(const Context& wctx, const rlwe::PublicKey& pk) {
  PublicKeyData out{ct_to_wire(wctx, pk.ct, true)};
  check_ciphertext(wctx, out.ct, CiphertextRole::public_key, "public key");
  return out;
}

rlwe::PublicKey to_core(const Context& wctx, const PublicKeyData& pk) {
  check_ciphertext(wctx, pk.ct, CiphertextRole::public_key, "public key");
  return rlwe::PublicKey{ct_to_core(pk.ct)};
}

RelinKeysData to_wire(const Context& wctx, const rlwe::RelinKeys& rk) {
  RelinKeysData out;
  out.ks.parms_id = wctx.key_level().parms_id;
  out.ks.keys.push_back(ks_to_wire(wctx, rk.key));
  return out;
}

rlwe::RelinKeys to_core(const Context& wctx, const RelinKeysData& rk) {
  if (rk.ks.keys.empty() || rk.ks.keys[0].empty()) fail("relin keys", "no key for s^2");
  for (const auto& p : rk.ks.keys[0]) check_ciphertext(wctx, p.ct, CiphertextRole::public_key, "relin keys");
  return rlwe::RelinKeys{ks_to_core(rk.ks.keys[0])};
}

GaloisKeysData to_wire(const Context& wctx, const rlwe::GaloisKeys& gk) {
  GaloisKeysData out;
  out.ks.parms_id = wctx.key_level().parms_id;
  out.ks.keys.resize(wctx.n());
  for (const auto& [g, key] : gk.keys) out.ks.keys.at(GaloisKeysData::index_of(g)) = ks_to_wire(wctx, key);
  return out;
}

rlwe::GaloisKeys to_core(const Context& wctx, const GaloisKeysData& gk) {
  rlwe::GaloisKeys out;
  for (std::size_t i = 0; i < gk.ks.keys.size(); ++i) {
    if (gk.ks.keys[i].empty()) continue;
    for (const auto& p : gk.ks.keys[i]) check_ciphertext(wctx, p.ct, CiphertextRole::public_key, "galois keys");
    out.keys.emplace(static_cast<std::uint64_t>(2 * i + 1), ks_to_core(gk.ks.keys[i]));
  }
  return out;
}

PlaintextData bfv_plain_to_wire(const std::vector<std::uint64_t>& coeffs) {
  return PlaintextData{kZeroParmsId, coeffs.size(), 1.0, coeffs};
}

std::vector<std::uint64_t> bfv_plain_to_core(const Context& wctx, const PlaintextData& pt) {
  check_plaintext(wctx, pt, "plaintext");
  if (pt.parms_id != kZeroParmsId) fail("plaintext", "expected a BFV plaintext in coefficient form (parms_id zero)");
  std::vector<std::uint64_t> out = pt.data;
  out.resize(wctx.n(), 0);
  return out;
}

void reseed(const Context& wctx, const rlwe::Context& core, const rlwe::SecretKey& sk, CiphertextData& ct,
            PrngType type) {
  if (ct.size != 2) throw std::invalid_argument("reseed: only size-2 ciphertexts can be seeded");
  const Level* level = wctx.find(ct.parms_id);
  if (!level) throw std::invalid_argument("reseed: parms_id not in the chain");
  const std::size_t k = ct.prime_count, n = ct.n;
  PrngInfo seed{type, random_seed()};
  std::vector<std::uint64_t> a(k * n), d(k * n);
  expand_seed(wctx, *level, seed, a);
  // d = (c1 - a) * s, in ct's form; then c0 += d, c1 = a.
  rlwe::sub_poly(core, ct.poly(1).data(), a.data(), d.data(), k);
  if (!ct.is_ntt_form) rlwe::ntt_forward_poly(core, d.data(), k);
  rlwe::mul_poly(core, d.data(), sk.data.data(), d.data(), k);
  if (!ct.is_ntt_form) rlwe::ntt_inverse_poly(core, d.data(), k);
  rlwe::add_poly(core, ct.poly(0).data(), d.data(), ct.poly(0).data(), k);
  std::copy(a.begin(), a.end(), ct.poly(1).begin());
  ct.seed = seed;
}

void reseed(const Context& wctx, const rlwe::Context& core, const rlwe::SecretKey& sk, KSwitchKeysData& ks,
            PrngType type) {
  for (auto& entry : ks.keys)
    for (auto& part : entry) reseed(wctx, core, sk, part.ct, type);
}

}  // namespace hecnn::wire
