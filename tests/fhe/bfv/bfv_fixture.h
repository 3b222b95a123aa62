// Shared fixture for BFV tests: keys and helpers for one parameter set, built
// once per N and reused by every test of that N (key generation dominates).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>

#include "fhe/bfv/batch_encoder.h"
#include "fhe/bfv/encryptor.h"
#include "fhe/bfv/evaluator.h"
#include "fhe/bfv/presets.h"
#include "fhe/rlwe/keygen.h"

namespace hecnn::bfv::testing {

struct BfvSetup {
  rlwe::ContextPtr ctx;
  BfvTablesPtr tables;
  std::unique_ptr<math::DeterministicPrngForTests> prng;
  std::unique_ptr<rlwe::KeyGenerator> keygen;
  rlwe::PublicKey pk;
  rlwe::RelinKeys rk;
  std::unique_ptr<BatchEncoder> encoder;
  std::unique_ptr<Encryptor> encryptor;
  std::unique_ptr<Decryptor> decryptor;
  std::unique_ptr<Evaluator> evaluator;
  u64 t = 0;

  static BfvSetup& get(std::size_t n, int plain_bits = 20) {
    static std::map<std::pair<std::size_t, int>, std::unique_ptr<BfvSetup>> cache;
    auto& slot = cache[{n, plain_bits}];
    if (!slot) slot.reset(new BfvSetup(n, plain_bits));
    return *slot;
  }

  std::vector<u64> random_slots(std::mt19937_64& rng) const {
    std::vector<u64> v(ctx->n());
    for (auto& x : v) x = rng() % t;
    return v;
  }
  Ciphertext encrypt(const std::vector<u64>& v) { return encryptor->encrypt(encoder->encode(v), *prng); }
  std::vector<u64> decrypt(const Ciphertext& ct) const { return encoder->decode(decryptor->decrypt(ct)); }

 private:
  BfvSetup(std::size_t n, int plain_bits) {
    t = batching_plain_modulus(n, plain_bits);
    ctx = rlwe::Context::create(preset_default(n, t));
    tables = make_tables(ctx);
    prng = std::make_unique<math::DeterministicPrngForTests>(n);
    keygen = std::make_unique<rlwe::KeyGenerator>(ctx, *prng);
    pk = keygen->create_public_key();
    rk = keygen->create_relin_keys();
    encoder = std::make_unique<BatchEncoder>(ctx);
    encryptor = std::make_unique<Encryptor>(tables, pk);
    decryptor = std::make_unique<Decryptor>(tables, keygen->secret_key());
    evaluator = std::make_unique<Evaluator>(tables);
  }
};

}  // namespace hecnn::bfv::testing
