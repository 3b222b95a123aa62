// Shared fixture for CKKS tests: keys and helpers for one parameter set, built
// once per preset and reused by every test that asks for it.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "fhe/ckks/encoder.h"
#include "fhe/ckks/encryptor.h"
#include "fhe/ckks/evaluator.h"
#include "fhe/ckks/presets.h"
#include "fhe/rlwe/keygen.h"

namespace hecnn::ckks::testing {

// Precision in bits: -log2(max |got - want| / range), the max over all slots of
// the complex error, relative to the value range (2 for values whose real and
// imaginary parts lie in [-1, 1]). 0 error gives 60.
inline double precision_bits(const std::vector<cplx>& got, const std::vector<cplx>& want, double range = 2.0) {
  double err = 0;
  for (std::size_t i = 0; i < want.size(); ++i) err = std::max(err, std::abs(got[i] - want[i]));
  const double bits = err == 0 ? 60.0 : -std::log2(err / range);
  if (std::getenv("HECNN_PRINT_BITS")) std::printf("[precision] %.2f bits (max error %.3g)\n", bits, err);
  return bits;
}

struct CkksSetup {
  rlwe::ContextPtr ctx;
  double scale = 0;
  std::unique_ptr<math::DeterministicPrngForTests> prng;
  std::unique_ptr<rlwe::KeyGenerator> keygen;
  rlwe::PublicKey pk;
  rlwe::RelinKeys rk;
  std::unique_ptr<Encoder> encoder;
  std::unique_ptr<Encryptor> encryptor;
  std::unique_ptr<Decryptor> decryptor;
  std::unique_ptr<Evaluator> evaluator;

  // "n8192_q200" or "n16384_q400".
  static CkksSetup& get(const std::string& preset) {
    static std::map<std::string, std::unique_ptr<CkksSetup>> cache;
    auto& slot = cache[preset];
    if (!slot) slot.reset(new CkksSetup(preset));
    return *slot;
  }

  std::size_t slots() const { return ctx->n() / 2; }
  std::size_t top() const { return ctx->max_data_primes(); }
  // Uniform in the unit square [-1, 1] + i [-1, 1].
  std::vector<cplx> random_values(std::mt19937_64& rng, double lo = -1, double hi = 1) const {
    std::uniform_real_distribution<double> d(lo, hi);
    std::vector<cplx> v(slots());
    for (auto& x : v) x = cplx(d(rng), d(rng));
    return v;
  }
  Ciphertext encrypt(const std::vector<cplx>& v) { return encryptor->encrypt(encoder->encode(v, scale), *prng); }
  Ciphertext encrypt(const std::vector<cplx>& v, double s, std::size_t k) {
    return encryptor->encrypt(encoder->encode(v, s, k), *prng);
  }
  std::vector<cplx> decrypt(const Ciphertext& ct) const { return encoder->decode_complex(decryptor->decrypt(ct)); }

 private:
  explicit CkksSetup(const std::string& preset) {
    rlwe::ParamsLiteral lit;
    if (preset == "n8192_q200") {
      lit = preset_n8192_q200();
    } else if (preset == "n16384_q400") {
      lit = preset_n16384_q400();
    } else {
      throw std::invalid_argument("unknown test preset " + preset);
    }
    ctx = rlwe::Context::create(lit);
    scale = default_scale(*ctx);
    prng = std::make_unique<math::DeterministicPrngForTests>(lit.poly_degree + 7);
    keygen = std::make_unique<rlwe::KeyGenerator>(ctx, *prng);
    pk = keygen->create_public_key();
    rk = keygen->create_relin_keys();
    encoder = std::make_unique<Encoder>(ctx);
    encryptor = std::make_unique<Encryptor>(ctx, pk);
    decryptor = std::make_unique<Decryptor>(ctx, keygen->secret_key());
    evaluator = std::make_unique<Evaluator>(ctx);
  }
};

}  // namespace hecnn::ckks::testing
