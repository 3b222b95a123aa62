#include "fhe/rlwe/params.h"

#include <blake2.h>

#include <bit>
#include <numeric>
#include <stdexcept>

#include "math/he_standard.h"
#include "math/primes.h"

namespace hecnn::rlwe {

const char* scheme_name(Scheme s) {
  switch (s) {
    case Scheme::bfv: return "BFV";
    case Scheme::ckks: return "CKKS";
    case Scheme::bgv: return "BGV";
    default: return "none";
  }
}

int max_coeff_bits_128(std::size_t n) { return math::max_coeff_bits_128(n); }

ParmsId compute_parms_id(Scheme scheme, std::size_t n, const std::vector<u64>& primes, u64 plain_modulus) {
  std::vector<u64> words;
  words.push_back(static_cast<u64>(scheme));
  words.push_back(n);
  words.insert(words.end(), primes.begin(), primes.end());
  words.push_back(plain_modulus);
  ParmsId id{};
  if (blake2b(reinterpret_cast<std::uint8_t*>(id.data()), words.data(), nullptr, sizeof id, words.size() * sizeof(u64), 0) != 0) {
    throw std::runtime_error("BLAKE2b failed computing parms_id");
  }
  return id;
}

namespace {
[[noreturn]] void bad(const std::string& msg) { throw std::invalid_argument("invalid parameters: " + msg); }
}  // namespace

std::shared_ptr<const Context> Context::create(const ParamsLiteral& lit) {
  const std::size_t n = lit.poly_degree;
  if (lit.scheme != Scheme::bfv && lit.scheme != Scheme::ckks && lit.scheme != Scheme::bgv) {
    bad("scheme must be BFV, CKKS or BGV");
  }
  const bool integer = lit.scheme != Scheme::ckks;
  if (n < 1024 || n > 32768 || !std::has_single_bit(n)) {
    bad("poly_degree N = " + std::to_string(n) + " must be a power of two in [1024, 32768]");
  }
  if (lit.coeff_modulus.empty()) bad("coeff_modulus is empty");
  if (lit.coeff_modulus.size() > 64) bad("more than 64 coefficient primes");
  for (u64 q : lit.coeff_modulus) {
    if (std::bit_width(q) > 60) bad("prime " + std::to_string(q) + " has more than 60 bits");
    if (!math::is_prime(q)) bad("coefficient modulus " + std::to_string(q) + " is not prime");
    if (q % (2 * n) != 1) bad("prime " + std::to_string(q) + " is not ≡ 1 mod 2N = " + std::to_string(2 * n));
  }
  for (std::size_t i = 0; i < lit.coeff_modulus.size(); ++i)
    for (std::size_t j = i + 1; j < lit.coeff_modulus.size(); ++j)
      if (lit.coeff_modulus[i] == lit.coeff_modulus[j]) bad("prime " + std::to_string(lit.coeff_modulus[i]) + " repeated");

  auto ctx = std::shared_ptr<Context>(new Context());
  ctx->literal_ = lit;
  ctx->log_n_ = std::countr_zero(n);
  ctx->key_base_ = math::RnsBase(lit.coeff_modulus);
  ctx->coeff_bits_ = ctx->key_base_.product().bit_count();
  const int max_bits = max_coeff_bits_128(n);
  if (lit.security == Security::tc128 && ctx->coeff_bits_ > max_bits) {
    bad("N = " + std::to_string(n) + " with log2(q) = " + std::to_string(ctx->coeff_bits_) +
        " bits exceeds the 128-bit security bound of " + std::to_string(max_bits) +
        " bits (HomomorphicEncryption.org standard); use fewer or smaller primes, or a larger N. "
        "Only for experiments: Security::none_insecure disables this check");
  }

  if (integer) {
    const u64 t = lit.plain_modulus;
    if (t < 2 || std::bit_width(t) > 60) bad(std::string(scheme_name(lit.scheme)) + " plain_modulus t = " + std::to_string(t) + " must be in [2, 2^60)");
    for (u64 q : lit.coeff_modulus)
      if (std::gcd(q, t) != 1) bad("plain_modulus " + std::to_string(t) + " shares a factor with prime " + std::to_string(q));
    ctx->plain_ = math::Modulus(t);
  } else if (lit.plain_modulus != 0) {
    bad("CKKS takes no plain_modulus (got " + std::to_string(lit.plain_modulus) + ")");
  }

  const std::size_t k = lit.coeff_modulus.size();
  ctx->max_data_primes_ = k > 1 ? k - 1 : 1;
  if (integer) {
    // Every data level must still hold the plaintext: t < q at the lowest level we allow (1 prime).
    if (ctx->plain_.value() >= lit.coeff_modulus[0]) {
      bad("plain_modulus t = " + std::to_string(lit.plain_modulus) + " must be smaller than the first prime");
    }
  }
  for (std::size_t i = 0; i < k; ++i) {
    ctx->ntt_.emplace_back(n, ctx->key_base_[i]);
    ctx->bases_.push_back(ctx->key_base_.prefix(i + 1));
    std::vector<u64> primes(lit.coeff_modulus.begin(), lit.coeff_modulus.begin() + i + 1);
    ctx->parms_ids_.push_back(compute_parms_id(lit.scheme, n, primes, lit.plain_modulus));
    std::vector<math::ShoupOperand> inv_last;
    for (std::size_t j = 0; j < i; ++j) {
      const auto& qj = ctx->key_base_[j];
      inv_last.emplace_back(qj.inv(qj.reduce(lit.coeff_modulus[i])), qj);
    }
    ctx->inv_last_.push_back(std::move(inv_last));
    if (lit.scheme == Scheme::bgv) {
      const auto& t = ctx->plain_;
      ctx->inv_last_mod_t_.push_back(t.inv(t.reduce(lit.coeff_modulus[i])));
    } else {
      ctx->inv_last_mod_t_.push_back(0);
    }
  }
  if (k > 1) {
    const u64 p = lit.coeff_modulus[k - 1];
    for (std::size_t j = 0; j + 1 < k; ++j) {
      const auto& qj = ctx->key_base_[j];
      ctx->inv_special_.emplace_back(qj.inv(qj.reduce(p)), qj);
    }
  }
  return ctx;
}

void Context::check_parms_id(const Ciphertext& ct, const char* what) const {
  if (ct.num_primes < 1 || ct.num_primes > key_primes() || ct.parms_id != parms_id(ct.num_primes)) {
    throw std::invalid_argument(std::string(what) + ": ciphertext was made under other parameters (parms_id mismatch at " +
                                std::to_string(ct.num_primes) + " primes: another context, plaintext modulus or CRT residue)");
  }
}

void Context::check_data_level(std::size_t num_primes, const char* what) const {
  if (num_primes < 1 || num_primes > max_data_primes_) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(num_primes) +
                                " primes is not a data level of these parameters (1.." +
                                std::to_string(max_data_primes_) + ")");
  }
}

}  // namespace hecnn::rlwe
